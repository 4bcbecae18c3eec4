// FileSystem/File behaviour, identical on both backends.
#include <fcntl.h>

#include <cstring>
#include <vector>

#include "tests/io/io_test_support.hpp"

namespace orbit::io::testing {
namespace {

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((i * 131 + seed * 7 + 3) & 0xff);
  return out;
}

class FileSystemSuite : public RuntimeTest {};

Task<void> read_after_write(Runtime* rt, std::string path) {
  auto& fs = rt->fs();
  auto file = co_await fs.open(path, OpenOptions::read_write_create());
  EXPECT_TRUE(file.ok()) << file.message();
  if (!file) co_return;
  auto data = pattern(10000, 1);
  EXPECT_TRUE((co_await (*file)->write_at(data, 100)).ok());
  std::vector<std::byte> back(10100);
  auto got = co_await (*file)->read_at(back, 0);
  EXPECT_TRUE(got.ok());
  EXPECT_EQ(*got, 10100u);
  EXPECT_EQ(std::memcmp(back.data() + 100, data.data(), data.size()), 0);
  // Past the end: a short read, then an empty one.
  auto tail = co_await (*file)->read_at(back, 10000);
  EXPECT_EQ(*tail, 100u);
  auto none = co_await (*file)->read_at(back, 20000);
  EXPECT_EQ(*none, 0u);
  EXPECT_EQ(*(*file)->size(), 10100u);
  EXPECT_TRUE((co_await (*file)->datasync()).ok());
  EXPECT_TRUE((co_await (*file)->sync()).ok());
  EXPECT_TRUE((co_await (*file)->close()).ok());
}

// Goal: bytes written are read back exactly; reads stop at end of file.
TEST_P(FileSystemSuite, ReadAfterWrite) { rt->block_on(read_after_write(rt.get(), dir + "/a")); }

Task<void> gather_and_sync(Runtime* rt, std::string path) {
  auto file = co_await rt->fs().open(path, OpenOptions::read_write_create());
  EXPECT_TRUE(file.ok());
  if (!file) co_return;
  auto a = pattern(4096, 2), b = pattern(100, 3), c = pattern(5000, 4);
  iovec parts[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
  EXPECT_TRUE((co_await (*file)->write_and_datasync(parts, 0)).ok());
  EXPECT_TRUE((co_await (*file)->writev_at(std::span<const iovec>(parts, 2), 9196)).ok());
  std::vector<std::byte> back(9196 + 4196);
  EXPECT_EQ(*(co_await (*file)->read_at(back, 0)), back.size());
  EXPECT_EQ(std::memcmp(back.data(), a.data(), a.size()), 0);
  EXPECT_EQ(std::memcmp(back.data() + 4096, b.data(), b.size()), 0);
  EXPECT_EQ(std::memcmp(back.data() + 4196, c.data(), c.size()), 0);
  EXPECT_EQ(std::memcmp(back.data() + 9196, a.data(), a.size()), 0);
  // An empty gather is just a sync.
  EXPECT_TRUE((co_await (*file)->write_and_datasync({}, 0)).ok());
  // writev_now: the same bytes, written from the calling thread.
  EXPECT_TRUE((*file)->writev_now(std::span<const iovec>(parts, 3), 9196 + 4196).ok());
  std::vector<std::byte> now(a.size() + b.size() + c.size());
  EXPECT_EQ(*(co_await (*file)->read_at(now, 9196 + 4196)), now.size());
  EXPECT_EQ(std::memcmp(now.data(), back.data(), a.size() + b.size() + c.size()), 0);
}

// Goal: write_and_datasync, writev_at and writev_now write every buffer in order.
TEST_P(FileSystemSuite, WriteAndDatasyncGathersBuffers) { rt->block_on(gather_and_sync(rt.get(), dir + "/g")); }

Task<void> kernel_errors(Runtime* rt, std::string dir) {
  auto& fs = rt->fs();
  auto missing = co_await fs.open(dir + "/missing", OpenOptions::read_only());
  EXPECT_EQ(missing.error(), ENOENT);

  OpenOptions write_only;
  write_only.read = false;
  write_only.write = true;
  write_only.create = true;
  auto wo = co_await fs.open(dir + "/wo", write_only);
  EXPECT_TRUE(wo.ok());
  std::vector<std::byte> buffer(16);
  auto read = co_await (*wo)->read_at(buffer, 0);
  EXPECT_EQ(read.error(), EBADF);

  auto ro = co_await fs.open(dir + "/wo", OpenOptions::read_only());
  EXPECT_TRUE(ro.ok());
  EXPECT_EQ((co_await (*ro)->write_at(buffer, 0)).error(), EBADF);

  OpenOptions exclusive = OpenOptions::read_write_create();
  exclusive.exclusive = true;
  EXPECT_EQ((co_await fs.open(dir + "/wo", exclusive)).error(), EEXIST);

  EXPECT_TRUE((co_await (*ro)->close()).ok());
  EXPECT_EQ((co_await (*ro)->close()).error(), EBADF);
  EXPECT_EQ((co_await fs.remove(dir + "/missing")).error(), ENOENT);
  EXPECT_EQ((co_await fs.rename(dir + "/missing", dir + "/x")).error(), ENOENT);
  EXPECT_EQ((co_await fs.sync_dir(dir + "/missing")).error(), ENOENT);
}

// Goal: the kernel's errors arrive as the errno it gave, never as a crash.
TEST_P(FileSystemSuite, KernelErrorsAreReported) { rt->block_on(kernel_errors(rt.get(), dir)); }

Task<void> namespace_ops(Runtime* rt, std::string dir) {
  auto& fs = rt->fs();
  EXPECT_TRUE(fs.create_dirs(dir + "/x/y/z").ok());
  EXPECT_TRUE(fs.create_dirs(dir + "/x/y/z").ok());  // idempotent
  for (const char* name : {"c", "a", "b"}) {
    auto f = co_await fs.open(dir + "/x/" + name, OpenOptions::read_write_create());
    EXPECT_TRUE(f.ok());
  }
  auto names = fs.list_dir(dir + "/x");
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c", "y"}));
  EXPECT_TRUE((co_await fs.rename(dir + "/x/a", dir + "/x/d")).ok());
  EXPECT_TRUE((co_await fs.remove(dir + "/x/b")).ok());
  EXPECT_TRUE((co_await fs.sync_dir(dir + "/x")).ok());
  EXPECT_FALSE(fs.exists(dir + "/x/a"));
  EXPECT_FALSE(fs.exists(dir + "/x/b"));
  EXPECT_TRUE(fs.exists(dir + "/x/d"));
  EXPECT_EQ(*fs.list_dir(dir + "/x"), (std::vector<std::string>{"c", "d", "y"}));
  EXPECT_EQ(fs.file_size(dir + "/x/nothing").error(), ENOENT);
  EXPECT_EQ(fs.list_dir(dir + "/nothing").error(), ENOENT);

  auto f = co_await fs.open(dir + "/x/d", OpenOptions::read_write_create());
  EXPECT_TRUE((co_await (*f)->allocate(0, 1 << 20)).ok());
  EXPECT_EQ(*(*f)->size(), 0u);  // KEEP_SIZE
  EXPECT_TRUE((co_await (*f)->truncate(12345)).ok());
  EXPECT_EQ(*fs.file_size(dir + "/x/d"), 12345u);
}

// Goal: rename, remove, sync_dir, list_dir (sorted), allocate, truncate.
TEST_P(FileSystemSuite, NamespaceOperations) { rt->block_on(namespace_ops(rt.get(), dir)); }

Task<void> direct_io(Runtime* rt, std::string path) {
  OpenOptions options = OpenOptions::read_write_create();
  options.direct = true;
  options.dsync = true;
  auto file = co_await rt->fs().open(path, options);
  if (!file && file.error() == EINVAL) co_return;  // the filesystem (tmpfs) has no O_DIRECT
  EXPECT_TRUE(file.ok()) << file.message();
  if (!file) co_return;
  auto* buffer = static_cast<std::byte*>(std::aligned_alloc(4096, 8192));
  std::memset(buffer, 0x5a, 8192);
  EXPECT_TRUE((co_await (*file)->write_at({buffer, 8192}, 4096)).ok());
  std::memset(buffer, 0, 8192);
  EXPECT_EQ(*(co_await (*file)->read_at({buffer, 8192}, 4096)), 8192u);
  EXPECT_EQ(buffer[8191], std::byte{0x5a});
  std::free(buffer);
}

// Goal: O_DIRECT|O_DSYNC files work with aligned buffers.
TEST_P(FileSystemSuite, DirectAndDsyncAreHonoured) { rt->block_on(direct_io(rt.get(), dir + "/direct")); }

Task<void> one_of_many(Runtime* rt, File* file, int index, std::atomic<int>* good, WaitGroup* wg) {
  auto data = pattern(64, static_cast<unsigned>(index));
  auto offset = static_cast<std::uint64_t>(index) * 64;
  bool ok = (co_await file->write_at(data, offset)).ok();
  if (index % 100 == 0) ok = ok && (co_await file->datasync()).ok();
  std::vector<std::byte> back(64);
  auto read = co_await file->read_at(back, offset);
  ok = ok && read.ok() && *read == 64 && back == data;
  if (ok) good->fetch_add(1);
  (void)rt;
  wg->done();
}

Task<std::unique_ptr<File>> open_for_test(Runtime* rt, std::string path) {
  auto file = co_await rt->fs().open(path, OpenOptions::read_write_create());
  EXPECT_TRUE(file.ok());
  co_return file ? std::move(*file) : nullptr;
}

// Goal: 10,000 coroutines doing file I/O at once all succeed (the SQ
// overflows many times over; requests queue instead of failing).
TEST_P(FileSystemSuite, TenThousandConcurrentCoroutines) {
  auto file = rt->block_on(open_for_test(rt.get(), dir + "/many"));
  ASSERT_NE(file, nullptr);
  std::atomic<int> good{0};
  WaitGroup wg;
  wg.add(10000);
  for (int i = 0; i < 10000; ++i) rt->spawn(one_of_many(rt.get(), file.get(), i, &good, &wg));
  wg.wait();
  EXPECT_EQ(good.load(), 10000);
  EXPECT_EQ(*rt->fs().file_size(dir + "/many"), 640000u);
}

// Goal: a tiny submission queue still completes every request.
TEST_P(FileSystemSuite, TinyQueueDepthQueuesInsteadOfFailing) {
  rt.reset();
  RuntimeOptions options;
  options.queue_depth = 2;
  SetUpWith(options);
  auto file = rt->block_on(open_for_test(rt.get(), dir + "/tiny"));
  ASSERT_NE(file, nullptr);
  std::atomic<int> good{0};
  WaitGroup wg;
  wg.add(500);
  for (int i = 0; i < 500; ++i) rt->spawn(one_of_many(rt.get(), file.get(), i, &good, &wg));
  wg.wait();
  EXPECT_EQ(good.load(), 500);
}

ORBIT_INSTANTIATE_BACKENDS(FileSystemSuite);

}  // namespace
}  // namespace orbit::io::testing
