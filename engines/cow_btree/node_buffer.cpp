#include "engines/cow_btree/node_buffer.hpp"

#include <array>
#include <bit>
#include <mutex>
#include <vector>

namespace orbit::cow_btree::node_buffer {
namespace {

constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
constexpr int kMinShift = std::bit_width(kMinPooled) - 1;
constexpr int kMaxShift = std::bit_width(kMaxPooled) - 1;
constexpr std::size_t kClasses = static_cast<std::size_t>(kMaxShift - kMinShift) * kClassesPerDoubling + 1;

bool pooled(std::size_t bytes) noexcept { return kPooling && bytes >= kMinPooled && bytes <= kMaxPooled; }

// Index of the class of `rounded` (a class_bytes() value): sixteen per
// power of two from kMinPooled, then kMaxPooled alone.
std::size_t class_index(std::size_t rounded) noexcept {
  const int k = std::bit_width(rounded) - 1;
  const std::size_t steps = rounded >> (k - 4);  // 16..31
  return static_cast<std::size_t>(k - kMinShift) * kClassesPerDoubling + (steps - kClassesPerDoubling);
}

struct Pool {
  std::mutex mutex;
  std::array<std::vector<void*>, kClasses> free;
  // Never released (the pool lives as long as the process); kept so that leak
  // checkers find every chunk reachable.
  std::vector<void*> chunks;
  char* cursor = nullptr;
  std::size_t left = 0;
  Usage usage;
};

Pool& pool() {
  static Pool* p = new Pool();  // leaked on purpose: buffers may be freed during static destruction
  return *p;
}

}  // namespace

std::size_t class_bytes(std::size_t bytes) noexcept {
  const std::size_t step = std::bit_floor(bytes) / kClassesPerDoubling;
  return (bytes + step - 1) / step * step;
}

void* allocate(std::size_t bytes) {
  if (!pooled(bytes)) return ::operator new(bytes);
  const std::size_t rounded = class_bytes(bytes);
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  std::vector<void*>& list = p.free[class_index(rounded)];
  if (!list.empty()) {
    void* out = list.back();
    list.pop_back();
    p.usage.free_bytes -= rounded;
    return out;
  }
  if (p.left < rounded) {
    // The rest of the current chunk is left unused (at most one buffer's worth).
    p.cursor = static_cast<char*>(::operator new(kChunkBytes));
    p.chunks.push_back(p.cursor);
    p.left = kChunkBytes;
    p.usage.chunk_bytes += kChunkBytes;
  }
  void* out = p.cursor;
  p.cursor += rounded;
  p.left -= rounded;
  return out;
}

void deallocate(void* ptr, std::size_t bytes) noexcept {
  if (ptr == nullptr) return;
  if (!pooled(bytes)) {
    ::operator delete(ptr);
    return;
  }
  const std::size_t rounded = class_bytes(bytes);
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  try {
    p.free[class_index(rounded)].push_back(ptr);
    p.usage.free_bytes += rounded;
  } catch (...) {
    // Out of memory growing the list: the buffer is lost to reuse, not freed twice.
  }
}

Usage usage() noexcept {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  return p.usage;
}

}  // namespace orbit::cow_btree::node_buffer
