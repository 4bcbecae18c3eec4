// KeyedMutex: an async mutex per key, for one event-loop thread.
//
// The lease primitives read a lease, decide, and write it back; the write
// awaits the disk, and another primitive on the same key must not decide on
// the stale copy meanwhile. `co_await mutex.lock(key)` returns a guard; its
// destruction hands the key to the next waiter, in arrival order.
// REQUIRES: every call from the same thread (the store's loop).
#pragma once

#include <coroutine>
#include <string>
#include <unordered_map>
#include <utility>

namespace orbit {

class KeyedMutex {
  // A coroutine waiting for a key: a node of the key's FIFO, living in its
  // awaiter (so in the suspended coroutine's frame) until it is resumed.
  // A held key's entry allocates nothing more than its map node, whose key
  // is the caller's string, moved in: every lease primitive locks one.
  struct Waiter {
    std::coroutine_handle<> handle;
    Waiter* next = nullptr;
  };
  struct Waiters {
    Waiter* head = nullptr;
    Waiter* tail = nullptr;
  };
  using Map = std::unordered_map<std::string, Waiters>;
  // A map element's address stays valid across rehashing until it is erased.
  using Held = Map::value_type;

 public:
  class Guard {
   public:
    Guard() = default;
    Guard(KeyedMutex* owner, Held* held) : owner_(owner), held_(held) {}
    Guard(Guard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), held_(std::exchange(other.held_, nullptr)) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
        held_ = std::exchange(other.held_, nullptr);
      }
      return *this;
    }
    ~Guard() { release(); }
    void release() {
      if (owner_) std::exchange(owner_, nullptr)->unlock(*std::exchange(held_, nullptr));
    }

   private:
    KeyedMutex* owner_ = nullptr;
    Held* held_ = nullptr;
  };

  auto lock(std::string key) {
    struct Awaiter {
      KeyedMutex* mutex;
      std::string key;
      Held* held = nullptr;
      Waiter waiter;
      bool await_ready() {
        auto [it, inserted] = mutex->held_.try_emplace(std::move(key));  // moved only if inserted
        held = &*it;
        return inserted;  // nobody held it: ours now
      }
      void await_suspend(std::coroutine_handle<> h) {
        waiter.handle = h;
        Waiters& queue = held->second;
        if (queue.tail)
          queue.tail->next = &waiter;
        else
          queue.head = &waiter;
        queue.tail = &waiter;
      }
      Guard await_resume() { return Guard(mutex, held); }
    };
    return Awaiter{this, std::move(key), nullptr, {}};
  }

  std::size_t held_keys() const noexcept { return held_.size(); }

 private:
  void unlock(Held& held) {
    Waiters& queue = held.second;
    Waiter* next = queue.head;
    if (!next) {
      held_.erase(held_.find(held.first));  // (not erase(key): the key is the element's own)
      return;
    }
    queue.head = next->next;
    if (!queue.head) queue.tail = nullptr;
    next->handle.resume();  // the key stays held: ownership passes to `next`
  }

  Map held_;
};

}  // namespace orbit
