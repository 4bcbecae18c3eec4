// Goal: node buffers of 1-64 KB come from size classes at most 6.25% over
// the request, a freed buffer is reused by the next request of its class
// (nothing coalesces, nothing is searched), buffers freed on another thread
// come back too, and sanitizer builds bypass the pool.
#include "engines/cow_btree/node_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace orbit::cow_btree::node_buffer {
namespace {

TEST(NodeBuffer, ClassesAreAtMostASixteenthOver) {
  EXPECT_EQ(class_bytes(1024), 1024u);
  EXPECT_EQ(class_bytes(1025), 1088u);
  EXPECT_EQ(class_bytes(2047), 2048u);
  EXPECT_EQ(class_bytes(12000), 12288u);
  EXPECT_EQ(class_bytes(kMaxPooled), kMaxPooled);
  for (std::size_t bytes = kMinPooled; bytes <= kMaxPooled; ++bytes) {
    const std::size_t c = class_bytes(bytes);
    ASSERT_GE(c, bytes);
    ASSERT_LE(c * 16, bytes * 17) << bytes;
    ASSERT_EQ(class_bytes(c), c) << "a class is its own class: " << bytes;
  }
}

TEST(NodeBuffer, FreedBufferIsReusedByItsClassOnly) {
  if (!kPooling) GTEST_SKIP() << "sanitizer build: every buffer is operator new's";
  void* a = allocate(3000);
  std::memset(a, 0x5a, 3000);
  const Usage before = usage();
  deallocate(a, 3000);
  EXPECT_EQ(usage().free_bytes, before.free_bytes + class_bytes(3000));
  void* other = allocate(5000);  // another class: not `a`
  EXPECT_NE(other, a);
  const Usage between = usage();
  void* b = allocate(2950);  // 2950 and 3000 share the 3072-byte class
  EXPECT_EQ(b, a);
  EXPECT_EQ(usage().free_bytes, between.free_bytes - class_bytes(3000));
  deallocate(b, 2950);
  deallocate(other, 5000);
}

TEST(NodeBuffer, SmallAndHugeBuffersBypassThePool) {
  const Usage before = usage();
  void* small = allocate(200);
  void* huge = allocate(kMaxPooled + 1);
  std::memset(small, 1, 200);
  std::memset(huge, 2, kMaxPooled + 1);
  deallocate(small, 200);
  deallocate(huge, kMaxPooled + 1);
  EXPECT_EQ(usage().free_bytes, before.free_bytes);
}

TEST(NodeBuffer, BuffersFreedOnAnotherThreadComeBack) {
  std::vector<void*> buffers;
  for (int i = 0; i < 2000; ++i) {
    const std::size_t bytes = 1024 + static_cast<std::size_t>(i) * 29 % 20000;
    void* p = allocate(bytes);
    std::memset(p, i & 0xff, bytes);
    buffers.push_back(p);
  }
  std::thread freer([&] {
    for (int i = 0; i < 2000; ++i) deallocate(buffers[i], 1024 + static_cast<std::size_t>(i) * 29 % 20000);
  });
  freer.join();
  if (!kPooling) return;
  const Usage freed = usage();
  for (int i = 0; i < 2000; ++i) buffers[i] = allocate(1024 + static_cast<std::size_t>(i) * 29 % 20000);
  EXPECT_EQ(usage().chunk_bytes, freed.chunk_bytes) << "every request was served from the freed buffers";
  for (int i = 0; i < 2000; ++i) deallocate(buffers[i], 1024 + static_cast<std::size_t>(i) * 29 % 20000);
}

TEST(NodeBuffer, StringsOverTheAllocatorGrowAndShrink) {
  std::basic_string<char, std::char_traits<char>, Allocator<char>> s;
  for (int i = 0; i < 5000; ++i) s.append(std::to_string(i));
  const std::string copy(s.data(), s.size());
  s.erase(10, 8000);
  s.shrink_to_fit();
  EXPECT_EQ(std::string(s.data(), s.size()), copy.substr(0, 10) + copy.substr(8010));
}

}  // namespace
}  // namespace orbit::cow_btree::node_buffer
