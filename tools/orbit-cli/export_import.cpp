// export and import: stream leases between a store and an export file.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "orbit/factory.hpp"
#include "orbit/sync_wait.hpp"
#include "tools/orbit-cli/commands.hpp"
#include "tools/orbit-cli/lease_stream.hpp"
#include "tools/orbit-cli/progress.hpp"

namespace orbit::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void close_quietly(PersistenceProvider& store) { (void)sync_wait(store.close()); }

}  // namespace

// ---- export ------------------------------------------------------------------
//
// Pages of `page_size` leases through scan_all (key order), the next page
// fetched on another thread while this one is written: at most two pages
// in memory, whatever the store's size.
int run_export(const ExportOptions& options) {
  ExportFormat format;
  if (options.format == "json") format = ExportFormat::Json;
  else if (options.format == "binary") format = ExportFormat::Binary;
  else return report_error(kExitUsage, "unknown format '" + options.format + "' (accepted: json, binary)");
  if (options.page_size == 0) return report_error(kExitUsage, "--page-size must be at least 1");

  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  auto opened = open_store(*config, /*may_create=*/false);
  if (!opened) return report_error(opened.error());
  std::unique_ptr<PersistenceProvider> store = std::move(opened).value();
  const auto start = Clock::now();

  ExportHeader header;
  header.source_backend = std::string(to_string(config->backend));
  if (auto stats = sync_wait(store->stats()); stats) header.count = stats->total_keys;
  auto writer = LeaseWriter::open(options.output, format, header);
  if (!writer) {
    close_quietly(*store);
    return report_error(writer.error());
  }

  PersistenceProvider* provider = store.get();
  const std::size_t page_size = options.page_size;
  auto fetch = [provider, page_size](std::optional<ActorKey> after) {
    return std::async(std::launch::async, [provider, page_size, after = std::move(after)]() {
      ScanOptions scan(page_size, after);
      return sync_wait(provider->scan_all(std::move(scan)));
    });
  };

  Progress progress("exporting", header.count, options.progress);
  std::uint64_t count = 0;
  auto pending = fetch(std::nullopt);
  for (;;) {
    auto page = pending.get();
    if (!page) {
      progress.done();
      close_quietly(*store);
      return report_error(kExitFailed, "export stopped after " + std::to_string(count) +
                                           " leases: " + page.error().to_string());
    }
    const bool last = page->size() < page_size;
    if (!last) pending = fetch(page->back().key);
    for (const Lease& lease : *page) {
      if (auto ok = (*writer)->write(lease); !ok) {
        progress.done();
        if (!last) (void)pending.get();
        close_quietly(*store);
        return report_error(kExitFailed, "export stopped after " + std::to_string(count) +
                                             " leases: " + ok.error().message);
      }
      ++count;
    }
    progress.update(count);
    if (last) break;
  }
  progress.done();
  if (auto ok = (*writer)->finish(count); !ok) {
    close_quietly(*store);
    return report_error(kExitFailed, ok.error().message);
  }
  if (auto closed = sync_wait(store->close()); !closed) return report_error(closed.error());
  const double seconds = seconds_since(start);
  std::fprintf(stderr, "exported %llu leases from %s in %.2f s (%.0f leases/s)\n",
               static_cast<unsigned long long>(count), std::string(to_string(config->backend)).c_str(), seconds,
               seconds > 0 ? count / seconds : 0.0);
  return kExitOk;
}

// ---- import ------------------------------------------------------------------
//
// The reader thread parses `batch_size` leases into one WriteBatch and hands
// it to one of `in_flight` workers, each of which awaits apply_batch (all or
// nothing) with sync_wait; the store group-commits concurrent batches. The
// queue holds at most `in_flight` batches, so memory is bounded. On the
// first failure nothing new is submitted; the batches already in flight
// finish, and the report names the longest prefix of the input that is
// certainly imported (later batches may be too: a rerun re-applies them as
// identical upserts).
namespace {

struct Job {
  std::size_t index = 0;
  std::uint64_t first = 0;  // line / record numbers
  std::uint64_t last = 0;
  WriteBatch batch;
};

struct Outcome {
  bool done = false;
  bool ok = false;
  std::uint64_t first = 0, last = 0, leases = 0;
  std::string error;
};

class BatchPipeline {
 public:
  BatchPipeline(PersistenceProvider& store, std::size_t workers) : store_(store) {
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
    capacity_ = workers;
  }
  ~BatchPipeline() { finish(); }

  // Blocks while the queue is full. False once a batch has failed.
  bool submit(Job job) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return queue_.size() < capacity_ || failed_; });
    if (failed_) return false;
    if (outcomes_.size() <= job.index) outcomes_.resize(job.index + 1);
    Outcome& o = outcomes_[job.index];
    o.first = job.first;
    o.last = job.last;
    o.leases = job.batch.size();
    queue_.push_back(std::move(job));
    ready_.notify_one();
    return true;
  }

  void finish() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  bool failed() {
    std::lock_guard lock(mutex_);
    return failed_;
  }
  // REQUIRES: finish() returned.
  const std::vector<Outcome>& outcomes() const { return outcomes_; }

 private:
  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        space_.notify_one();
      }
      auto result = sync_wait(store_.apply_batch(std::move(job.batch)));
      std::lock_guard lock(mutex_);
      Outcome& o = outcomes_[job.index];
      o.done = true;
      o.ok = result.ok();
      if (!result.ok()) {
        o.error = result.error().to_string();
        failed_ = true;
        space_.notify_all();
      }
    }
  }

  PersistenceProvider& store_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Job> queue_;
  std::size_t capacity_ = 1;
  std::vector<Outcome> outcomes_;
  std::vector<std::thread> threads_;
  bool failed_ = false;
  bool closing_ = false;
};

std::string range_text(std::string_view unit, std::uint64_t first, std::uint64_t last) {
  return std::string(unit) + "s " + std::to_string(first) + ".." + std::to_string(last);
}

}  // namespace

int run_import(const ImportOptions& options) {
  if (options.batch_size == 0) return report_error(kExitUsage, "--batch-size must be at least 1");
  if (options.in_flight == 0) return report_error(kExitUsage, "--in-flight must be at least 1");
  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  // Check the directory and the input before creating anything.
  if (auto ok = check_store_dir(*config, /*may_create=*/true); !ok) return report_error(ok.error());
  auto reader_or = LeaseReader::open(options.input);
  if (!reader_or) return report_error(reader_or.error());
  std::unique_ptr<LeaseReader> reader = std::move(reader_or).value();
  auto opened = open_store(*config, /*may_create=*/true);
  if (!opened) return report_error(opened.error());
  std::unique_ptr<PersistenceProvider> store = std::move(opened).value();
  const auto start = Clock::now();

  Progress progress("importing", reader->header().count, options.progress);
  std::optional<std::string> input_error;  // with its position, from the reader
  std::uint64_t input_error_at = 0;
  {
    BatchPipeline pipeline(*store, options.in_flight);
    Job job;
    std::size_t next_index = 0;
    auto submit = [&]() -> bool {
      if (job.batch.empty()) return true;
      job.index = next_index++;
      bool accepted = pipeline.submit(std::move(job));
      job = Job{};
      return accepted;
    };
    Lease lease;
    for (;;) {
      auto got = reader->next(lease);
      if (!got) {
        input_error = got.error().message;
        input_error_at = reader->position();
        // The reader says "line N: ..."; the report names the line itself.
        const std::string prefix = std::string(reader->unit()) + " " + std::to_string(input_error_at) + ": ";
        if (input_error->starts_with(prefix)) input_error->erase(0, prefix.size());
        break;
      }
      if (!*got) break;
      const std::uint64_t at = reader->position();
      if (at <= options.resume_after) continue;
      if (job.batch.empty()) job.first = at;
      job.last = at;
      job.batch.put(std::move(lease));
      if (job.batch.size() >= options.batch_size && !submit()) break;
      progress.update(reader->leases_read());
    }
    if (!pipeline.failed()) (void)submit();  // the leases before a bad line still go in
    pipeline.finish();
    progress.done();

    // The longest prefix of batches that certainly committed.
    std::uint64_t imported = 0, first = 0, last = 0;
    const Outcome* failed = nullptr;
    bool prefix = true;
    for (const Outcome& o : pipeline.outcomes()) {
      if (!o.done) continue;  // never ran (submitted after a failure): not possible, kept for safety
      if (!o.ok && !failed) failed = &o;
      if (prefix && o.ok) {
        if (imported == 0) first = o.first;
        imported += o.leases;
        last = o.last;
      } else {
        prefix = false;
      }
    }
    const std::string unit(reader->unit());
    const std::string so_far =
        "imported " + std::to_string(imported) + " leases" +
        (imported ? " (" + range_text(unit, first, last) + ")" : std::string());
    const std::string resume_hint =
        "; rerun with --resume=" + std::to_string(imported ? last : options.resume_after) +
        " to continue after them (a full rerun is also safe: imports are idempotent upserts)";
    if (failed) {
      close_quietly(*store);
      return report_error(kExitFailed, so_far + " before the batch of " + range_text(unit, failed->first, failed->last) +
                                           " failed: " + failed->error + resume_hint);
    }
    if (input_error) {
      close_quietly(*store);
      return report_error(kExitFailed, so_far + " before " + unit + " " + std::to_string(input_error_at) +
                                           " failed: " + *input_error + resume_hint);
    }
    if (auto flushed = sync_wait(store->flush()); !flushed) {
      close_quietly(*store);
      return report_error(kExitFailed, so_far + ", then flush failed: " + flushed.error().to_string());
    }
    // Leave the store in its main files, not only in its log: the next open
    // (validate, the application) then has nothing to replay.
    if (auto checkpointed = sync_wait(store->checkpoint());
        !checkpointed && checkpointed.code() != ErrorCode::NotSupported) {
      close_quietly(*store);
      return report_error(kExitFailed, so_far + ", then checkpoint failed: " + checkpointed.error().to_string());
    }
    if (auto closed = sync_wait(store->close()); !closed)
      return report_error(kExitFailed, so_far + ", then close failed: " + closed.error().to_string());
    const double seconds = seconds_since(start);
    std::fprintf(stderr, "%s into %s at '%s' in %.2f s (%.0f leases/s)\n", so_far.c_str(),
                 std::string(to_string(config->backend)).c_str(), config->data_dir.c_str(), seconds,
                 seconds > 0 ? imported / seconds : 0.0);
  }
  return kExitOk;
}

}  // namespace orbit::cli
