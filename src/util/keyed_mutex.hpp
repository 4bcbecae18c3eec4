// KeyedMutex: an async mutex per key, for one event-loop thread.
//
// The lease primitives read a lease, decide, and write it back; the write
// awaits the disk, and another primitive on the same key must not decide on
// the stale copy meanwhile. `co_await mutex.lock(key)` returns a guard; its
// destruction hands the key to the next waiter, in arrival order.
// REQUIRES: every call from the same thread (the store's loop).
#pragma once

#include <coroutine>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace orbit {

class KeyedMutex {
 public:
  class Guard {
   public:
    Guard() = default;
    Guard(KeyedMutex* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    Guard(Guard&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), key_(std::move(other.key_)) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
        key_ = std::move(other.key_);
      }
      return *this;
    }
    ~Guard() { release(); }
    void release() {
      if (owner_) std::exchange(owner_, nullptr)->unlock(key_);
    }

   private:
    KeyedMutex* owner_ = nullptr;
    std::string key_;
  };

  auto lock(std::string key) {
    struct Awaiter {
      KeyedMutex* mutex;
      std::string key;
      bool await_ready() {
        auto [it, inserted] = mutex->held_.try_emplace(key);
        return inserted;  // nobody held it: ours now
      }
      void await_suspend(std::coroutine_handle<> h) { mutex->held_[key].push_back(h); }
      Guard await_resume() { return Guard(mutex, std::move(key)); }
    };
    return Awaiter{this, std::move(key)};
  }

  std::size_t held_keys() const noexcept { return held_.size(); }

 private:
  void unlock(const std::string& key) {
    auto it = held_.find(key);
    if (it == held_.end()) return;
    if (it->second.empty()) {
      held_.erase(it);
      return;
    }
    auto next = it->second.front();
    it->second.pop_front();
    next.resume();  // the key stays held: ownership passes to `next`
  }

  std::unordered_map<std::string, std::deque<std::coroutine_handle<>>> held_;
};

}  // namespace orbit
