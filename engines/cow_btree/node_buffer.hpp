// Node buffers: where the packed entries of tree nodes (node.hpp) live.
//
// Why not malloc: a checkpoint frees tens of thousands of node buffers of
// 1-16 KB at once. glibc keeps freed chunks of 1 KB and more in lists
// sorted by size, and coalesces neighbours into chunks of new sizes; the
// next malloc of a writer's path copy then walked those lists for up to
// 3 ms on the loop (perf: every sample in _int_malloc). Here a buffer of
// 1 KB to 64 KB comes from a free list per size class (sixteen classes per
// power of two, so at most 6.25% over) and goes back to it: nothing
// coalesces, nothing is searched. Smaller and larger buffers use operator
// new. Memory is carved from 1 MiB chunks that live as long as the
// process; a freed buffer is reused by its class only.
//
// Threading: any thread (a reader may drop the last reference to a node);
// one mutex, held for a list push or pop. Under AddressSanitizer or
// ThreadSanitizer every buffer uses operator new, so the sanitizers see
// each one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ORBIT_NODE_BUFFER_POOLING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ORBIT_NODE_BUFFER_POOLING 0
#endif
#endif
#ifndef ORBIT_NODE_BUFFER_POOLING
#define ORBIT_NODE_BUFFER_POOLING 1
#endif

namespace orbit::cow_btree::node_buffer {

// False in sanitizer builds: every buffer is then operator new's.
inline constexpr bool kPooling = ORBIT_NODE_BUFFER_POOLING != 0;
inline constexpr std::size_t kMinPooled = 1024;
inline constexpr std::size_t kMaxPooled = 64 * 1024;
inline constexpr std::size_t kClassesPerDoubling = 16;

// The size class `bytes` is served from: `bytes` rounded up to a sixteenth
// of the power of two at or below it. REQUIRES: bytes >= 16.
std::size_t class_bytes(std::size_t bytes) noexcept;

void* allocate(std::size_t bytes);
void deallocate(void* p, std::size_t bytes) noexcept;

// Bytes taken from the system for pooled buffers, and of those the bytes
// on free lists now.
struct Usage {
  std::uint64_t chunk_bytes = 0;
  std::uint64_t free_bytes = 0;
};
Usage usage() noexcept;

// A standard allocator over allocate/deallocate, for the node's byte buffer.
template <typename T>
struct Allocator {
  using value_type = T;
  Allocator() noexcept = default;
  template <typename U>
  Allocator(const Allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(node_buffer::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { node_buffer::deallocate(p, n * sizeof(T)); }
  template <typename U>
  friend bool operator==(const Allocator&, const Allocator<U>&) noexcept {
    return true;
  }
};

}  // namespace orbit::cow_btree::node_buffer
