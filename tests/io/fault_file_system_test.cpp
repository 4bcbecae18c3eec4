// FaultFileSystem on both backends: power loss, torn writes, injected errors,
// bit flips, counters. Each test runs as one coroutine on the runtime.
#include "io/testing/fault_file_system.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include "tests/io/io_test_support.hpp"

namespace orbit::io::testing {
namespace {

class FaultSuite : public RuntimeTest {};

Task<std::string> read_all(FileSystem& fs, std::string path) {
  auto file = co_await fs.open(path, OpenOptions::read_only());
  if (!file) {
    std::string error = "<";  // (not "<" + ...: GCC 12 -O2 warns falsely, -Wrestrict)
    error += file.message();
    error += '>';
    co_return error;
  }
  std::string out(*(*file)->size(), '\0');
  auto got = co_await (*file)->read_at(std::as_writable_bytes(std::span<char>(out.data(), out.size())), 0);
  out.resize(got ? *got : 0);
  co_return out;
}

Task<void> power_loss(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 42);
  std::string path = dir + "/wal";
  auto file = co_await fs.open(path, OpenOptions::read_write_create());
  EXPECT_TRUE(file.ok());
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());  // the file's name is durable
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("synced."), 0)).ok());
  EXPECT_TRUE((co_await (*file)->datasync()).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("LOST"), 7)).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("X"), 0)).ok());  // overwrite of synced bytes, unsynced
  EXPECT_EQ(co_await read_all(fs, path), "Xynced.LOST");  // the page cache sees it all
  file->reset();
  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), path), "synced.");
}

// Goal: power loss drops every unsynced byte and keeps the synced ones.
TEST_P(FaultSuite, PowerLossDropsUnsyncedBytesOnly) { rt->block_on(power_loss(rt.get(), dir)); }

// Power loss under a store that still runs: the crash as above, and no call
// after it reaches the disk (the still-open file's write fails too).
Task<void> lose_power(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 43);
  std::string path = dir + "/log";
  auto file = co_await fs.open(path, OpenOptions::read_write_create());
  EXPECT_TRUE(file.ok());
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("synced."), 0)).ok());
  EXPECT_TRUE((co_await (*file)->datasync()).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("LOST"), 7)).ok());
  EXPECT_TRUE((co_await fs.lose_power()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), path), "synced.");
  EXPECT_EQ((co_await (*file)->write_at(as_bytes("late"), 7)).error(), EIO);
  EXPECT_EQ((co_await fs.open(dir + "/new", OpenOptions::read_write_create())).error(), EIO);
  EXPECT_EQ((co_await fs.rename(path, dir + "/moved")).error(), EIO);
  EXPECT_EQ(co_await read_all(rt->fs(), path), "synced.");
  EXPECT_FALSE(rt->fs().exists(dir + "/new"));
}

TEST_P(FaultSuite, LosePowerCrashesAndFailsEveryLaterCall) { rt->block_on(lose_power(rt.get(), dir)); }

// writev_now (the calling thread's write) is a Write like any other: counted,
// failed or cut short by the rules, and unsynced until a sync.
Task<void> write_now(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 9);
  std::string path = dir + "/now";
  auto file = co_await fs.open(path, OpenOptions::read_write_create());
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  auto now = [&](std::string_view text, std::uint64_t offset) {
    iovec one{const_cast<char*>(text.data()), text.size()};
    return (*file)->writev_now(std::span<const iovec>(&one, 1), offset);
  };
  fs.reset_counts();
  EXPECT_TRUE(now("synced.", 0).ok());
  EXPECT_EQ(fs.count(FaultOp::Write), 1u);
  EXPECT_TRUE((co_await (*file)->datasync()).ok());
  EXPECT_TRUE(now("LOST", 7).ok());
  fs.fail_nth(FaultOp::Write, 1, ENOSPC);
  EXPECT_EQ(now("never", 11).error(), ENOSPC);
  fs.fail_nth(FaultOp::ShortWrite, 1, EIO);
  EXPECT_EQ(now("0123456789", 11).error(), EIO);
  const std::string before = co_await read_all(fs, path);
  EXPECT_GT(before.size(), 11u);  // a prefix of the short write landed
  EXPECT_LT(before.size(), 21u);
  EXPECT_EQ(before, std::string("synced.LOST0123456789").substr(0, before.size()));
  file->reset();
  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), path), "synced.");
}

TEST_P(FaultSuite, WriteNowIsAWriteLikeAnyOther) { rt->block_on(write_now(rt.get(), dir)); }

// A file opened O_DSYNC: every write that returned is durable.
Task<void> dsync_writes(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 11);
  std::string path = dir + "/dsync";
  OpenOptions options = OpenOptions::read_write_create();
  options.dsync = true;
  auto file = co_await fs.open(path, options);
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("kept"), 0)).ok());
  fs.fail_nth(FaultOp::Write, 1, EIO);
  EXPECT_EQ((co_await (*file)->write_at(as_bytes("failed"), 4)).error(), EIO);
  file->reset();
  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), path), "kept");
}

TEST_P(FaultSuite, DsyncWritesAreDurableWhenTheyReturn) { rt->block_on(dsync_writes(rt.get(), dir)); }

Task<void> torn_write(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 7);
  std::string path = dir + "/log";
  auto file = co_await fs.open(path, OpenOptions::read_write_create());
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  iovec base{const_cast<char*>("base|"), 5};
  EXPECT_TRUE((co_await (*file)->write_and_datasync(std::span<const iovec>(&base, 1), 0)).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("one|"), 5)).ok());
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes("two-two"), 9)).ok());
  file->reset();
  CrashOptions options;
  options.tear_last_write_at = 3;
  EXPECT_TRUE((co_await fs.crash(options)).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), path), "base|one|two");
}

// Goal: a torn last write keeps only its first N bytes.
TEST_P(FaultSuite, TornLastWrite) { rt->block_on(torn_write(rt.get(), dir)); }

Task<void> random_prefix(Runtime* rt, std::string dir, std::uint64_t seed, std::string* out) {
  FaultFileSystem fs(rt->fs(), seed);
  EXPECT_TRUE(fs.create_dirs(dir).ok());
  std::string path = dir + "/p" + std::to_string(seed);
  auto file = co_await fs.open(path, OpenOptions::read_write_create());
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE((co_await (*file)->write_at(as_bytes(std::to_string(i)), static_cast<std::uint64_t>(i))).ok());
  }
  file->reset();
  CrashOptions options;
  options.keep_random_prefix = true;
  EXPECT_TRUE((co_await fs.crash(options)).ok());
  *out = co_await read_all(rt->fs(), path);
}

// Goal: a random prefix of unsynced writes survives, the same one for the same seed.
TEST_P(FaultSuite, RandomPrefixIsDeterministicFromTheSeed) {
  std::string a, b;
  rt->block_on(random_prefix(rt.get(), dir, 3, &a));
  rt->block_on(random_prefix(rt.get(), dir + "/other", 3, &b));  // same seed, different file
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::string("01234567").substr(0, a.size()), a);
}

Task<void> namespace_loss(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 1);
  // "old" exists and is durable before the wrapper sees it.
  {
    auto raw = co_await rt->fs().open(dir + "/old", OpenOptions::read_write_create());
    EXPECT_TRUE((co_await (*raw)->write_and_datasync({}, 0)).ok());
    EXPECT_TRUE((co_await (*raw)->write_at(as_bytes("old content"), 0)).ok());
    EXPECT_TRUE((co_await (*raw)->datasync()).ok());
    EXPECT_TRUE((co_await rt->fs().sync_dir(dir)).ok());
  }
  // Durably synced data in a file whose name was never made durable.
  auto fresh = co_await fs.open(dir + "/fresh", OpenOptions::read_write_create());
  EXPECT_TRUE((co_await (*fresh)->write_at(as_bytes("data"), 0)).ok());
  EXPECT_TRUE((co_await (*fresh)->datasync()).ok());
  fresh->reset();
  // A new version renamed over "old", but no sync_dir.
  auto next = co_await fs.open(dir + "/old.tmp", OpenOptions::read_write_create());
  EXPECT_TRUE((co_await (*next)->write_at(as_bytes("new content"), 0)).ok());
  EXPECT_TRUE((co_await (*next)->datasync()).ok());
  next->reset();
  EXPECT_TRUE((co_await fs.rename(dir + "/old.tmp", dir + "/old")).ok());
  EXPECT_EQ(co_await read_all(fs, dir + "/old"), "new content");

  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_FALSE(rt->fs().exists(dir + "/fresh"));
  EXPECT_FALSE(rt->fs().exists(dir + "/old.tmp"));
  EXPECT_EQ(co_await read_all(rt->fs(), dir + "/old"), "old content");

  // The same sequence with sync_dir survives.
  auto again = co_await fs.open(dir + "/old.tmp", OpenOptions::read_write_create());
  EXPECT_TRUE((co_await (*again)->write_at(as_bytes("new content"), 0)).ok());
  EXPECT_TRUE((co_await (*again)->datasync()).ok());
  again->reset();
  EXPECT_TRUE((co_await fs.rename(dir + "/old.tmp", dir + "/old")).ok());
  EXPECT_TRUE((co_await fs.remove(dir + "/old.tmp")).error() == ENOENT);
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), dir + "/old"), "new content");
}

// Goal: creates and renames not made durable by sync_dir are forgotten.
TEST_P(FaultSuite, UnsyncedCreatesAndRenamesAreForgotten) { rt->block_on(namespace_loss(rt.get(), dir)); }

Task<void> injected_errors(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 1);
  fs.fail_nth(FaultOp::Open, 2, EIO);
  auto first = co_await fs.open(dir + "/f", OpenOptions::read_write_create());
  EXPECT_TRUE(first.ok());
  EXPECT_EQ((co_await fs.open(dir + "/f", OpenOptions::read_only())).error(), EIO);
  EXPECT_TRUE((co_await fs.open(dir + "/f", OpenOptions::read_only())).ok());

  fs.fail_nth(FaultOp::Write, 1, ENOSPC);
  EXPECT_EQ((co_await (*first)->write_at(as_bytes("abc"), 0)).error(), ENOSPC);
  EXPECT_TRUE((co_await (*first)->write_at(as_bytes("abc"), 0)).ok());

  fs.fail_nth(FaultOp::DataSync, 1, EIO, /*sticky=*/true);
  EXPECT_EQ((co_await (*first)->datasync()).error(), EIO);
  iovec part{const_cast<char*>("def"), 3};
  EXPECT_EQ((co_await (*first)->write_and_datasync(std::span<const iovec>(&part, 1), 3)).error(), EIO);
  EXPECT_EQ((co_await (*first)->datasync()).error(), EIO);  // sticky
  fs.clear_faults();
  EXPECT_TRUE((co_await (*first)->datasync()).ok());

  fs.fail_nth(FaultOp::Rename, 1, EIO);
  EXPECT_EQ((co_await fs.rename(dir + "/f", dir + "/g")).error(), EIO);
  EXPECT_TRUE(fs.exists(dir + "/f"));

  // Any: the 3rd call of any kind from now fails.
  fs.fail_nth(FaultOp::Any, 3, EIO);
  std::vector<std::byte> buffer(6);
  EXPECT_TRUE((co_await (*first)->read_at(buffer, 0)).ok());
  EXPECT_TRUE((co_await (*first)->read_at(buffer, 0)).ok());
  EXPECT_EQ((co_await (*first)->read_at(buffer, 0)).error(), EIO);
  EXPECT_TRUE((co_await (*first)->read_at(buffer, 0)).ok());
}

// Goal: the Nth call of a kind fails with the chosen errno, once or from then on.
TEST_P(FaultSuite, InjectedErrors) { rt->block_on(injected_errors(rt.get(), dir)); }

Task<void> short_writes(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 5);
  auto file = co_await fs.open(dir + "/s", OpenOptions::read_write_create());
  EXPECT_TRUE(file.ok());
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  const std::string text = "0123456789abcdef";
  fs.fail_nth(FaultOp::ShortWrite, 1, ENOSPC);
  EXPECT_EQ((co_await (*file)->write_at(as_bytes(text), 0)).error(), ENOSPC);
  // A prefix landed: at least one byte, never all, and exactly the data's bytes.
  const std::string landed = co_await read_all(rt->fs(), dir + "/s");
  EXPECT_GE(landed.size(), 1u);
  EXPECT_LT(landed.size(), text.size());
  EXPECT_EQ(landed, text.substr(0, landed.size()));
  // It is unsynced: power loss takes it away.
  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), dir + "/s"), "");

  // Through write_and_datasync (split over two buffers): the sync never runs.
  auto again = co_await fs.open(dir + "/s", OpenOptions::read_write_create());
  fs.fail_nth(FaultOp::ShortWrite, 1, EIO);
  iovec parts[2] = {{const_cast<char*>(text.data()), 8}, {const_cast<char*>(text.data() + 8), 8}};
  EXPECT_EQ((co_await (*again)->write_and_datasync(std::span<const iovec>(parts, 2), 0)).error(), EIO);
  const std::string torn = co_await read_all(rt->fs(), dir + "/s");
  EXPECT_GE(torn.size(), 1u);
  EXPECT_LT(torn.size(), text.size());
  EXPECT_EQ(torn, text.substr(0, torn.size()));
  EXPECT_TRUE((co_await fs.crash()).ok());
  EXPECT_EQ(co_await read_all(rt->fs(), dir + "/s"), "");
}

// Goal: a short write leaves a prefix of its data, unsynced, and reports the error.
TEST_P(FaultSuite, ShortWrites) { rt->block_on(short_writes(rt.get(), dir)); }

// O_DIRECT: refused (EINVAL, as tmpfs refused it) until accepted; then the
// kernel's alignment rule holds, O_DSYNC writes are durable when they
// return, and a short write lands whole sectors.
Task<void> direct_files(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 3);
  const std::string path = dir + "/direct";
  OpenOptions options = OpenOptions::read_write_create();
  options.direct = true;
  options.dsync = true;
  EXPECT_EQ((co_await fs.open(path, options)).error(), EINVAL);
  fs.accept_direct(true);
  auto file = co_await fs.open(path, options);
  EXPECT_TRUE(file.ok());
  if (!file) co_return;
  EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
  constexpr std::size_t kPage = FaultFileSystem::kDirectAlign;
  struct alignas(kPage) Pages {
    std::array<char, 4 * kPage> bytes;
  };
  auto pages = std::make_unique<Pages>();
  std::fill(pages->bytes.begin(), pages->bytes.end(), 'a');
  auto span_of = [&](std::size_t from, std::size_t size) {
    return std::as_bytes(std::span<const char>(pages->bytes.data() + from, size));
  };
  // Misaligned offset, length or address: EINVAL, nothing written.
  EXPECT_EQ((co_await (*file)->write_at(span_of(0, kPage), 512)).error(), EINVAL);
  EXPECT_EQ((co_await (*file)->write_at(span_of(0, 100), 0)).error(), EINVAL);
  EXPECT_EQ((co_await (*file)->write_at(span_of(8, kPage), 0)).error(), EINVAL);
  EXPECT_EQ(co_await read_all(rt->fs(), path), "");
  // Aligned: written, and durable (O_DSYNC) when it returns.
  EXPECT_TRUE((co_await (*file)->write_at(span_of(0, kPage), 0)).ok());
  std::array<std::byte, 10> small{};
  EXPECT_EQ((co_await (*file)->read_at(small, 0)).error(), EINVAL);
  // A short write lands a whole number of sectors, fewer than it had.
  std::fill(pages->bytes.begin(), pages->bytes.end(), 'b');
  fs.fail_nth(FaultOp::ShortWrite, 1, EIO);
  EXPECT_EQ((co_await (*file)->write_at(span_of(0, 4 * kPage), kPage)).error(), EIO);
  const std::string landed = co_await read_all(rt->fs(), path);
  EXPECT_GT(landed.size(), kPage);
  EXPECT_LT(landed.size(), 5 * kPage);
  EXPECT_EQ(landed.size() % FaultFileSystem::kSectorBytes, 0u);
  EXPECT_EQ(landed.substr(0, kPage), std::string(kPage, 'a'));
  EXPECT_EQ(landed.substr(kPage), std::string(landed.size() - kPage, 'b'));
  file->reset();
  EXPECT_TRUE((co_await fs.crash()).ok());  // the failed write's sectors were never acknowledged
  EXPECT_EQ(co_await read_all(rt->fs(), path), std::string(kPage, 'a'));
}

TEST_P(FaultSuite, DirectFilesWhenAccepted) { rt->block_on(direct_files(rt.get(), dir)); }

Task<void> garbage_over_unsynced(Runtime* rt, std::string dir) {
  const std::string synced = "synced.";
  const std::string text = "0123456789abcdef";
  int garbled = 0;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    FaultFileSystem fs(rt->fs(), seed);
    const std::string path = dir + "/g" + std::to_string(seed);
    auto file = co_await fs.open(path, OpenOptions::read_write_create());
    EXPECT_TRUE((co_await (*file)->write_at(as_bytes(synced), 0)).ok());
    EXPECT_TRUE((co_await (*file)->datasync()).ok());
    EXPECT_TRUE((co_await fs.sync_dir(dir)).ok());
    EXPECT_TRUE((co_await (*file)->write_at(as_bytes(text), synced.size())).ok());
    CrashOptions options;
    options.garbage_over_kept = true;
    EXPECT_TRUE((co_await fs.crash(options)).ok());
    const std::string after = co_await read_all(rt->fs(), path);
    // The synced bytes stay; the unsynced write is kept whole, as itself or as garbage.
    EXPECT_EQ(after.size(), synced.size() + text.size());
    EXPECT_EQ(after.substr(0, synced.size()), synced);
    if (after.substr(synced.size()) != text) ++garbled;
  }
  EXPECT_GT(garbled, 0);
  EXPECT_LT(garbled, 16);
}

// Goal: power loss may leave garbage where unsynced writes were, never over synced bytes.
TEST_P(FaultSuite, GarbageOverUnsyncedWrites) { rt->block_on(garbage_over_unsynced(rt.get(), dir)); }

Task<void> bit_flip_and_counts(Runtime* rt, std::string dir) {
  FaultFileSystem fs(rt->fs(), 99);
  auto file = co_await fs.open(dir + "/b", OpenOptions::read_write_create());
  std::string text(64, 'a');
  EXPECT_TRUE((co_await (*file)->write_at(as_bytes(text), 0)).ok());
  fs.flip_bit_on_nth_read(2);
  std::string first(64, '\0'), second(64, '\0'), third(64, '\0');
  auto span = [](std::string& s) { return std::as_writable_bytes(std::span<char>(s.data(), s.size())); };
  EXPECT_TRUE((co_await (*file)->read_at(span(first), 0)).ok());
  EXPECT_TRUE((co_await (*file)->read_at(span(second), 0)).ok());
  EXPECT_TRUE((co_await (*file)->read_at(span(third), 0)).ok());
  EXPECT_EQ(first, text);
  EXPECT_NE(second, text);
  EXPECT_EQ(third, text);
  int differing_bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) differing_bits += __builtin_popcount(static_cast<unsigned char>(second[i] ^ text[i]));
  EXPECT_EQ(differing_bits, 1);

  EXPECT_EQ(fs.count(FaultOp::Open), 1u);
  EXPECT_EQ(fs.count(FaultOp::Write), 1u);
  EXPECT_EQ(fs.count(FaultOp::Read), 3u);
  EXPECT_EQ(fs.count(FaultOp::Any), 5u);
  fs.reset_counts();
  EXPECT_EQ(fs.count(FaultOp::Any), 0u);
}

// Goal: a chosen read returns one flipped bit; every call is counted by kind.
TEST_P(FaultSuite, BitFlipAndCounters) { rt->block_on(bit_flip_and_counts(rt.get(), dir)); }

Task<int> sweep_once(Runtime* rt, std::string dir, std::uint64_t fail_at) {
  // The workload an engine might run: write, sync, publish by rename.
  FaultFileSystem fs(rt->fs(), fail_at);
  fs.fail_nth(FaultOp::Any, fail_at, EIO, /*sticky=*/true);
  std::string tmp = dir + "/m.tmp", final_path = dir + "/m";
  auto file = co_await fs.open(tmp, OpenOptions::read_write_create());
  bool ok = file.ok();
  if (ok) ok = (co_await (*file)->write_at(as_bytes("manifest"), 0)).ok();
  if (ok) ok = (co_await (*file)->datasync()).ok();
  if (ok) ok = (co_await (*file)->close()).ok();
  if (ok) ok = (co_await fs.rename(tmp, final_path)).ok();
  if (ok) ok = (co_await fs.sync_dir(dir)).ok();
  fs.clear_faults();
  if (file) file->reset();
  EXPECT_TRUE((co_await fs.crash()).ok());
  // (No co_await inside ?: — GCC 12 miscompiles the temporaries.)
  std::string after = "<none>";
  if (fs.exists(final_path)) after = co_await read_all(rt->fs(), final_path);
  // Either the whole manifest was published durably, or nothing was.
  EXPECT_TRUE(after == "manifest" || after == "<none>") << "fail_at=" << fail_at << " got " << after;
  EXPECT_EQ(ok, after == "manifest") << "fail_at=" << fail_at;
  (void)co_await fs.remove(final_path);
  (void)co_await fs.remove(tmp);
  co_return static_cast<int>(fs.count(FaultOp::Any));
}

// Goal: failing op N for every N of a small workload never leaves a torn result.
TEST_P(FaultSuite, CrashAtEveryOperation) {
  for (std::uint64_t n = 1; n <= 7; ++n) rt->block_on(sweep_once(rt.get(), dir, n));
}

ORBIT_INSTANTIATE_BACKENDS(FaultSuite);

}  // namespace
}  // namespace orbit::io::testing
