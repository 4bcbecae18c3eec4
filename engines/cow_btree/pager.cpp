// Commit = walk the new tree's unwritten nodes in post-order, placing each
// run in free pages (next fit over a byte per page) or past the end and
// writing it at once; mark the old committed nodes the new tree no longer
// reaches as freed; write a fresh free-list run, datasync, write meta slot
// txn & 1, datasync; release the old nodes. Open = read both slots, take the
// newest valid, load.
#include "engines/cow_btree/pager.hpp"

#include <cassert>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstring>
#include <deque>
#include <limits>
#include <vector>

#include "engines/cow_btree/page_format.hpp"
#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::cow_btree {
namespace {

constexpr std::uint32_t kFreeListMagic = 0x4C46424Fu;  // "OBFL"
constexpr std::uint8_t kPageUsed = 0;
constexpr std::uint8_t kPageFree = 1;
constexpr std::uint8_t kPagePending = 2;
constexpr std::uint8_t kPageFreedNow = 3;
constexpr std::size_t kMaxDepth = 64;

// Paces a commit's CPU work on the loop: `co_await pacer` yields to the
// loop's other coroutines (writers) once the current slice has run for
// kSlice, and costs a clock read before that; a new slice starts when the
// commit resumes. No runtime: never yields.
class Pacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::microseconds kSlice{20};

  explicit Pacer(io::Runtime* runtime) : runtime_(runtime) {}

  auto operator co_await() noexcept {
    struct Awaiter {
      Pacer* pacer;
      bool yielded = false;
      bool await_ready() const noexcept {
        return pacer->runtime_ == nullptr || Clock::now() - pacer->started_ < kSlice;
      }
      void await_suspend(std::coroutine_handle<> h) {
        yielded = true;
        pacer->runtime_->post(h);
      }
      void await_resume() noexcept {
        if (yielded) pacer->started_ = Clock::now();
      }
    };
    return Awaiter{this};
  }

 private:
  io::Runtime* runtime_;
  Clock::time_point started_ = Clock::now();
};

// Free-list run: header like a node run (kind 3), body = one varint per
// listed page: (page_id << 1) | recent, where recent marks a page freed by the
// commit that wrote this list (see pager.hpp: not reusable until the commit
// after next).
// The run is exactly `count` pages (the reservation; zero padding after the
// body). `state` holds one PageState per page id.
std::string encode_free_list(const std::vector<std::uint8_t>& state, std::uint64_t page_id, std::size_t page_size,
                             std::uint32_t count) {
  std::string body;
  std::uint32_t entries = 0;
  for (std::uint64_t p = 0; p < state.size(); ++p) {
    if (state[p] == kPageFree || state[p] == kPagePending) {
      coding::put_varint64(body, p << 1);
      ++entries;
    }
  }
  for (std::uint64_t p = 0; p < state.size(); ++p) {
    if (state[p] == kPageFreedNow) {
      coding::put_varint64(body, (p << 1) | 1);
      ++entries;
    }
  }
  assert(kNodeHeaderSize + body.size() <= static_cast<std::size_t>(count) * page_size);
  std::string out;
  coding::put_fixed32(out, 0);
  coding::put_fixed32(out, kFreeListMagic);
  out.push_back(static_cast<char>(3));
  out.push_back(static_cast<char>(kNodeFormatVersion));
  coding::put_fixed16(out, 0);
  coding::put_fixed32(out, count);
  coding::put_fixed64(out, page_id);
  coding::put_fixed32(out, entries);
  coding::put_fixed32(out, static_cast<std::uint32_t>(body.size()));
  out += body;
  out.resize(static_cast<std::size_t>(count) * page_size, '\0');
  coding::encode_fixed32(out.data(), crc32c::mask(crc32c::value(out.data() + 4, out.size() - 4)));
  return out;
}

std::uint32_t free_list_pages(std::size_t entries, std::size_t page_size) {
  std::size_t total = kNodeHeaderSize + entries * 10;  // varint of (page << 1) | 1 is at most 10 bytes
  return static_cast<std::uint32_t>((total + page_size - 1) / page_size);
}

}  // namespace

Error Pager::io_error(const char* what, int err, std::uint64_t offset) {
  failed_ = true;
  Error error = make_error(err == ENOSPC ? ErrorCode::NoSpace : ErrorCode::IOError,
                           std::string("cow_btree page file ") + options_.path + " offset " + std::to_string(offset) +
                               ": " + what + ": " + std::strerror(err));
  if (failure_.empty()) failure_ = error.message;
  return error;
}

Task<Result<std::unique_ptr<Pager>>> Pager::open(io::FileSystem& fs, PagerOptions options) {
  auto pager = std::make_unique<Pager>(fs, std::move(options));
  auto loaded = co_await pager->load();
  if (!loaded.ok()) co_return std::move(loaded).error();
  co_return std::move(pager);
}

Task<Result<std::string>> Pager::read_run(std::uint64_t page_id, std::uint32_t page_count) {
  std::string run(static_cast<std::size_t>(page_count) * meta_.page_size, '\0');
  std::uint64_t offset = page_id * meta_.page_size;
  auto read = co_await file_->read_at(std::as_writable_bytes(std::span(run.data(), run.size())), offset);
  if (!read.ok()) co_return io_error("read", read.error(), offset);
  run.resize(read.value());
  bytes_read_ += run.size();
  co_return run;
}

Task<Result<void>> Pager::write_run(const std::string& run, std::uint64_t page_id) {
  std::uint64_t offset = page_id * meta_.page_size;
  auto wrote = co_await file_->write_at(std::as_bytes(std::span(run.data(), run.size())), offset);
  if (!wrote.ok()) co_return io_error("write", wrote.error(), offset);
  bytes_written_ += run.size();
  co_return Result<void>::success();
}

Task<Result<NodePtr>> Pager::load_node(PageRef ref, std::size_t depth) {
  if (depth > kMaxDepth || ref.page_id + ref.page_count > meta_.page_count) {
    co_return make_error(ErrorCode::Corruption, "cow_btree page file " + options_.path + " offset " +
                                                    std::to_string(ref.page_id * meta_.page_size) +
                                                    ": reference outside the file or tree too deep");
  }
  auto run = co_await read_run(ref.page_id, ref.page_count);
  if (!run.ok()) co_return std::move(run).error();
  auto decoded = decode_node(run.value(), ref, meta_.page_size, options_.path);
  if (!decoded.ok()) co_return std::move(decoded).error();
  auto node = std::make_shared<Node>(std::move(decoded.value().node));
  for (const PageRef& child_ref : decoded.value().children) {
    auto child = co_await load_node(child_ref, depth + 1);
    if (!child.ok()) co_return std::move(child).error();
    node->children.push_back(std::move(child.value()));
  }
  co_return NodePtr(std::move(node));
}

Task<Result<void>> Pager::create() {
  // A new page file is built under a temporary name and renamed into place
  // only once its first meta is durable: a crash while creating leaves no
  // page file (a new store next time), never a file without a valid meta.
  const std::string temp = options_.path + ".new";
  if (fs_.exists(temp)) {
    auto removed = co_await fs_.remove(temp);
    if (!removed.ok()) co_return io_error("remove leftover .new file", removed.error(), 0);
  }
  io::OpenOptions create = io::OpenOptions::read_write_create();
  create.truncate = true;
  auto opened = co_await fs_.open(temp, create);
  if (!opened.ok()) co_return io_error("create", opened.error(), 0);
  file_ = std::move(opened.value());
  meta_ = Meta{};
  meta_.page_size = options_.page_size;
  meta_.max_keys_per_node = static_cast<std::uint32_t>(options_.max_keys_per_node);
  tree_ = Tree(options_.max_keys_per_node);
  auto first = co_await commit(tree_, 0);  // txn 1 in slot 1; slot 0 stays zero
  if (!first.ok()) co_return first;
  auto closed = co_await file_->close();
  if (!closed.ok()) co_return io_error("close", closed.error(), 0);
  file_.reset();
  auto renamed = co_await fs_.rename(temp, options_.path);
  if (!renamed.ok()) co_return io_error("rename .new into place", renamed.error(), 0);
  std::string dir = options_.path.substr(0, options_.path.find_last_of('/') + 1);
  if (dir.empty()) dir = ".";
  auto dir_synced = co_await fs_.sync_dir(dir);
  if (!dir_synced.ok()) co_return io_error("sync_dir", dir_synced.error(), 0);
  auto reopened = co_await fs_.open(options_.path, io::OpenOptions::read_write_create());
  if (!reopened.ok()) co_return io_error("open", reopened.error(), 0);
  file_ = std::move(reopened.value());
  created_ = true;
  co_return Result<void>::success();
}

Task<Result<void>> Pager::load() {
  const bool present = fs_.exists(options_.path);
  if (options_.read_only && !present) {
    co_return make_error(ErrorCode::NotFound, "cow_btree page file " + options_.path + " does not exist");
  }
  if (!present && !options_.read_only) co_return co_await create();
  auto opened = co_await fs_.open(options_.path, options_.read_only ? io::OpenOptions::read_only()
                                                                   : io::OpenOptions::read_write_create());
  if (!opened.ok()) co_return io_error("open", opened.error(), 0);
  file_ = std::move(opened.value());
  auto size = file_->size();
  if (!size.ok()) co_return io_error("fstat", size.error(), 0);
  file_bytes_ = size.value();
  meta_.page_size = options_.page_size;
  if (size.value() == 0 && !options_.read_only) {
    // Only a store created before pages were built under a temporary name
    // can have an empty page file: nothing was ever committed in it.
    file_.reset();
    co_return co_await create();
  }
  auto slot0_run = co_await read_run(0, 1);
  if (!slot0_run.ok()) co_return std::move(slot0_run).error();
  std::optional<Meta> slot0 = decode_meta(slot0_run.value(), &slot_problems_[0]);
  if (slot0) meta_.page_size = slot0->page_size;
  auto slot1_run = co_await read_run(1, 1);
  if (!slot1_run.ok()) co_return std::move(slot1_run).error();
  std::optional<Meta> slot1 = decode_meta(slot1_run.value(), &slot_problems_[1]);
  slots_[0] = slot0;
  slots_[1] = slot1;
  std::optional<Meta> newest = pick_newest(slot0, slot1);
  if (!newest) {
    co_return make_error(ErrorCode::Corruption, "cow_btree page file " + options_.path +
                                                    " offset 0: neither meta slot is valid (slot 0: " +
                                                    slot_problems_[0] + "; slot 1: " + slot_problems_[1] + ")");
  }
  meta_ = *newest;
  state_.assign(meta_.page_count, kPageUsed);
  if (file_bytes_ < meta_.page_count * meta_.page_size) {
    co_return make_error(ErrorCode::Corruption,
                         "cow_btree page file " + options_.path + " offset " + std::to_string(file_bytes_) +
                             ": file ends before the " + std::to_string(meta_.page_count) +
                             " pages its meta (txn " + std::to_string(meta_.txn_id) + ") names");
  }
  auto root = co_await load_node(meta_.root, 0);
  if (!root.ok()) co_return std::move(root).error();
  tree_ = Tree(std::move(root.value()), meta_.max_keys_per_node, meta_.entry_count);
  if (meta_.free_list.on_disk()) {
    auto run = co_await read_run(meta_.free_list.page_id, meta_.free_list.page_count);
    if (!run.ok()) co_return std::move(run).error();
    std::string_view bytes = run.value();
    std::uint64_t offset = meta_.free_list.page_id * meta_.page_size;
    auto bad = [&](const char* why) {
      return make_error(ErrorCode::Corruption,
                        "cow_btree page file " + options_.path + " offset " + std::to_string(offset) + ": " + why);
    };
    if (bytes.size() != static_cast<std::size_t>(meta_.free_list.page_count) * meta_.page_size ||
        coding::decode_fixed32(bytes.data()) != meta_.free_list.checksum ||
        crc32c::unmask(meta_.free_list.checksum) != crc32c::value(bytes.data() + 4, bytes.size() - 4) ||
        coding::decode_fixed32(bytes.data() + 4) != kFreeListMagic) {
      co_return bad("free-list run fails its checksum");
    }
    bytes_read_ += bytes.size();
    std::uint32_t count = coding::decode_fixed32(bytes.data() + 24);
    std::uint32_t body = coding::decode_fixed32(bytes.data() + 28);
    if (body > bytes.size() - kNodeHeaderSize) co_return bad("free-list body longer than its pages");
    coding::Reader in(bytes.substr(kNodeHeaderSize, body));
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint64_t entry = 0;
      if (!in.get_varint64(entry)) co_return bad("short free-list entry");
      const std::uint64_t page = entry >> 1;
      if (page < 2 || page >= meta_.page_count) co_return bad("free-list entry outside the file");
      // Freed by the commit that wrote this list: the other meta slot's tree
      // may still reach it, so it waits for the commit after next.
      if (state_[page] != kPageUsed) co_return bad("page listed twice in the free list");
      set_state(page, (entry & 1) != 0 ? kPagePending : kPageFree);
    }
    if (in.remaining() != 0) co_return bad("trailing bytes in the free-list body");
  }
  co_return Result<void>::success();
}

void Pager::set_state(std::uint64_t page, std::uint8_t state) {
  auto count = [this](std::uint8_t st) -> std::size_t* {
    return st == kPageFree ? &free_count_ : st == kPagePending ? &pending_count_ : st == kPageFreedNow ? &freed_now_count_ : nullptr;
  };
  if (std::size_t* before = count(state_[page])) --*before;
  if (std::size_t* after = count(state)) ++*after;
  state_[page] = state;
}

std::uint64_t Pager::allocate(std::uint32_t pages) {
  // Next fit over the page states for `pages` consecutive reusable pages:
  // from where the last allocation of this commit ended, then once from the
  // start; past the end of the file if nothing fits. Pages only stop being
  // free during a commit, so once a scan found no run of some length, longer
  // runs are not searched for again until the next commit: a scan of every
  // page state per multi-page node would hold the loop for milliseconds.
  // The scan jumps from free page to free page with memchr, many states at
  // a time: a page file of a million leases has a few hundred thousand.
  if (free_count_ >= pages && pages < no_run_of_) {
    const std::uint64_t end = state_.size();
    for (int pass = 0; pass < 2; ++pass) {
      std::uint64_t p = pass == 0 ? std::max<std::uint64_t>(cursor_, 2) : 2;
      const std::uint64_t stop = pass == 0 ? end : std::min<std::uint64_t>(cursor_, end);
      while (p < stop) {
        const auto* free = static_cast<const std::uint8_t*>(std::memchr(state_.data() + p, kPageFree, stop - p));
        if (free == nullptr) break;
        const auto start = static_cast<std::uint64_t>(free - state_.data());
        std::uint64_t run_end = start + 1;
        while (run_end < stop && run_end - start < pages && state_[run_end] == kPageFree) ++run_end;
        if (run_end - start == pages) {
          for (std::uint64_t q = start; q < run_end; ++q) set_state(q, kPageUsed);
          cursor_ = run_end;
          return start;
        }
        p = run_end;  // too short: go on after it
      }
    }
    no_run_of_ = pages;
  }
  std::uint64_t end = meta_.page_count;
  meta_.page_count += pages;
  state_.resize(meta_.page_count, kPageUsed);
  return end;
}

Task<Result<void>> Pager::commit(Tree tree, std::uint64_t lsn) {
  if (options_.read_only) {
    co_return make_error(ErrorCode::InvalidArgument,
                         "cow_btree page file " + options_.path + " is open read-only; nothing can be committed");
  }
  if (failed_) {
    co_return make_error(ErrorCode::Unavailable, "cow_btree page file " + options_.path +
                                                     ": an earlier I/O error stopped commits (" + failure_ +
                                                     "); reopen the store");
  }
  Meta next = meta_;
  const Meta previous = meta_;
  // Pages this commit frees (kPageFreedNow) are reachable from the previous
  // tree, which the other meta slot keeps naming until the next commit
  // overwrites it.
  cursor_ = 2;
  no_run_of_ = std::numeric_limits<std::uint32_t>::max();
  if (state_.size() < meta_.page_count) state_.resize(meta_.page_count, kPageUsed);

  // A post-order walk over the nodes not yet on disk (a node is written
  // after its children, so their references are known), encoding and
  // writing each node as soon as it is reached: the loop runs other
  // coroutines (writers) during every write, a checkpoint never holds it for
  // more than a step of the walk and one node's encoding, and one encoded
  // node is in memory at a time. Every node of the new tree the walk touches
  // is marked, so the walk over the previous tree below needs no set.
  const std::uint64_t mark = previous.txn_id + 1;
  struct Frame {
    const Node* node;
    std::size_t next_child;
  };
  std::vector<Frame> stack;
  auto enter = [&stack, mark](const Node* node) {
    node->commit_mark = mark;
    if (!node->disk.on_disk()) stack.push_back({node, 0});
  };
  enter(tree.root().get());
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next_child < top.node->children.size()) {
      const Node* child = top.node->children[top.next_child++].get();
      enter(child);  // may reallocate `stack`: `top` is not used after this
      continue;
    }
    const Node* node = top.node;
    stack.pop_back();
    std::uint64_t page = allocate(pages_needed(*node, meta_.page_size));
    std::string run = encode_node(*node, page, meta_.page_size);
    node->disk = PageRef{page, static_cast<std::uint32_t>(run.size() / meta_.page_size),
                         coding::decode_fixed32(run.data())};
    auto wrote = co_await write_run(run, page);
    if (!wrote.ok()) co_return wrote;
  }
  // The previous tree's nodes the new tree no longer reaches (not marked
  // with this commit's `mark` by the walk above) free their pages. On-disk
  // subtrees the new tree shares are marked at their top only, which is
  // where this walk stops. Breadth first, over `dropped` itself: parents
  // come before their children, so releasing it in order below destroys one
  // node per element.
  // A deque: a vector of a hundred thousand nodes grew by copying them all,
  // holding the loop for up to 2.9 ms.
  std::deque<NodePtr> dropped;
  Pacer pacer(options_.runtime);
  auto drop = [&dropped, mark](const NodePtr& node) {
    if (node->commit_mark != mark && node->disk.on_disk()) dropped.push_back(node);
  };
  auto free_run = [this](const PageRef& ref) {
    for (std::uint64_t p = ref.page_id; p < ref.page_id + ref.page_count; ++p) set_state(p, kPageFreedNow);
  };
  if (previous.root.on_disk() && tree_.root()) drop(tree_.root());
  for (std::size_t i = 0; i < dropped.size(); ++i) {
    free_run(dropped[i]->disk);
    for (const NodePtr& child : dropped[i]->children) drop(child);
    co_await pacer;
  }
  if (previous.free_list.on_disk()) free_run(previous.free_list);
  // Reserve the free-list run for the list as it stands (an upper bound:
  // taking the run from the reusable pages only shrinks the list), then
  // encode it into exactly the reserved pages, on a worker: nothing changes
  // the page states while this commit waits for it.
  std::uint32_t list_pages =
      free_list_pages(free_count_ + pending_count_ + freed_now_count_, meta_.page_size);
  std::uint64_t list_page = allocate(list_pages);
  auto encode_list = [&] { return encode_free_list(state_, list_page, meta_.page_size, list_pages); };
  std::string list_run;
  if (options_.runtime != nullptr) {
    list_run = co_await options_.runtime->offload_background(encode_list);
  } else {
    list_run = encode_list();
  }
  next.free_list = PageRef{list_page, list_pages, coding::decode_fixed32(list_run.data())};
  auto list_written = co_await write_run(list_run, list_page);
  if (!list_written.ok()) co_return list_written;
  auto synced = co_await file_->datasync();
  if (!synced.ok()) co_return io_error("datasync", synced.error(), 0);

  next.txn_id = previous.txn_id + 1;
  next.lsn = lsn;
  next.root = tree.root()->disk;
  next.page_count = meta_.page_count;
  next.entry_count = tree.size();
  next.max_keys_per_node = static_cast<std::uint32_t>(tree.max_keys_per_node());
  std::string meta_page = encode_meta(next);
  std::uint64_t slot = next.txn_id & 1;
  auto wrote = co_await write_run(meta_page, slot);
  if (!wrote.ok()) co_return wrote;
  auto meta_synced = co_await file_->datasync();
  if (!meta_synced.ok()) co_return io_error("datasync", meta_synced.error(), slot * meta_.page_size);
  meta_ = next;
  tree_ = std::move(tree);
  // Pages freed by the previous commit were reachable only from the tree
  // whose slot this commit just overwrote: reusable from now on; this
  // commit's wait for the next. One pass over the page states, paced (only
  // a commit reads or changes them, and the checkpoint lock keeps the next
  // one out until this one returns).
  Pacer pass_pacer(options_.runtime);
  constexpr std::uint64_t kPagesPerCheck = 4096;
  for (std::uint64_t p = 2; p < state_.size(); ++p) {
    if (state_[p] == kPagePending) {
      state_[p] = kPageFree;
    } else if (state_[p] == kPageFreedNow) {
      state_[p] = kPagePending;
    }
    if (p % kPagesPerCheck == 0) co_await pass_pacer;
  }
  free_count_ += pending_count_;
  pending_count_ = freed_now_count_;
  freed_now_count_ = 0;
  ++commits_;
  // No tree but `dropped` (and readers' views) reaches the old nodes now.
  Pacer release_pacer(options_.runtime);
  for (NodePtr& node : dropped) {
    node.reset();
    co_await release_pacer;
  }
  co_return Result<void>::success();
}

}  // namespace orbit::cow_btree
