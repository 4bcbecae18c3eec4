// Fuzz target (libFuzzer): the WAL reader (segment header, fragments,
// batches, torn-tail vs corruption decisions, SkipCorrupted resync) over
// damaged logs.
//
// Each input describes a log and its damage: the first bytes pick records
// (sizes and whether consecutive ones form a batch), which the real writer
// appends to a fresh log; the rest are (offset, xor) pairs flipped into its
// first segment. The log is then opened and replayed in Strict and in
// SkipCorrupted mode. Oracle: nothing crashes, and every record a replay
// delivers is exactly the payload written with that LSN (a checksum let
// damage through otherwise).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/runtime.hpp"
#include "src/wal/wal.hpp"
#include "tests/support/fuzz_input.hpp"

namespace {

using namespace orbit;

using Input = test_support::FuzzInput;

io::Runtime& runtime() {
  static std::unique_ptr<io::Runtime> rt = [] {
    io::RuntimeOptions options;
    options.backend = io::BackendChoice::Asio;  // cheap to start, no ring limits
    auto created = io::Runtime::create(options, nullptr);
    if (!created) std::abort();
    return std::move(created).value();
  }();
  return *rt;
}

const std::string& dir() {
  static std::string d = [] {
    std::string pattern = "/tmp/orbit-wal-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) std::abort();
    return pattern;
  }();
  return d;
}

wal::WalOptions options(wal::RecoveryMode mode) {
  wal::WalOptions o;
  o.dir = dir() + "/log";
  o.segment_size = 64 * 1024;  // small: some inputs span two segments
  o.durability = wal::Durability::None;
  o.preallocate = false;
  o.recycle = 0;
  o.prepare_spare = false;
  o.recovery = mode;
  return o;
}

Task<void> write_log(Input& in, std::map<std::uint64_t, std::string>& written) {
  auto opened = co_await wal::Wal::open(runtime(), options(wal::RecoveryMode::Strict));
  if (!opened) std::abort();
  auto log = std::move(opened).value();
  const int records = 1 + in.u8() % 12;
  for (int r = 0; r < records; ++r) {
    const std::uint8_t shape = in.u8();
    const std::size_t entries = shape & 0x80 ? 1 + shape % 4 : 1;
    std::vector<std::string> batch;
    for (std::size_t e = 0; e < entries; ++e) {
      // Sizes up to ~40 KiB so records fragment across 32 KiB blocks.
      const std::size_t length = (static_cast<std::size_t>(in.u8()) * 160 + e) % 40'000;
      batch.emplace_back(length, static_cast<char>('a' + (r + e) % 26));
    }
    const std::vector<std::string> kept = batch;
    // (Not a ?: over two co_awaits: g++ 12 miscompiles that.)
    Result<wal::AppendResult> appended = make_error(ErrorCode::IOError, "not appended");
    if (batch.size() == 1)
      appended = co_await log->append(std::move(batch[0]));
    else
      appended = co_await log->append_batch(std::move(batch));
    if (!appended) std::abort();
    for (std::size_t e = 0; e < kept.size(); ++e) written[appended->lsn + e] = kept[e];
  }
  if (!co_await log->close()) std::abort();
}

Task<void> replay_and_check(wal::RecoveryMode mode, const std::map<std::uint64_t, std::string>& written) {
  auto opened = co_await wal::Wal::open(runtime(), options(mode));
  if (!opened) co_return;  // refusing a damaged log is a correct answer
  auto log = std::move(opened).value();
  auto replayed = co_await log->replay(1, [&](std::uint64_t lsn, std::string_view payload) -> Result<void> {
    auto it = written.find(lsn);
    if (it == written.end() || it->second != payload) std::abort();  // damage delivered as a record
    return Result<void>();
  });
  (void)replayed;
  (void)co_await log->close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  std::filesystem::remove_all(dir() + "/log");
  std::map<std::uint64_t, std::string> written;
  runtime().block_on(write_log(in, written));

  // Damage the first segment.
  const std::string segment = dir() + "/log/000001.wal";
  std::error_code ec;
  const auto length = std::filesystem::file_size(segment, ec);
  if (ec || length == 0) std::abort();
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    while (in.more()) {
      const std::uint64_t at = (static_cast<std::uint64_t>(in.u16()) * 3) % length;
      const char flip = static_cast<char>(in.u8() | 1);
      char byte = 0;
      f.seekg(static_cast<std::streamoff>(at));
      f.read(&byte, 1);
      byte = static_cast<char>(byte ^ flip);
      f.seekp(static_cast<std::streamoff>(at));
      f.write(&byte, 1);
    }
  }
  // SkipCorrupted first: Strict open may cut a damaged tail off the file.
  runtime().block_on(replay_and_check(wal::RecoveryMode::SkipCorrupted, written));
  runtime().block_on(replay_and_check(wal::RecoveryMode::Strict, written));
  return 0;
}
