// Goal: the public request types survive being built inline inside a
// co_await expression. g++ 12 miscompiles aggregate-initialized temporaries
// there (a moved std::string is freed twice); our types have constructors,
// which it compiles correctly. Under ASan a regression is a hard failure.
#include <gtest/gtest.h>

#include "orbit/provider.hpp"
#include "orbit/sync_wait.hpp"

namespace orbit {
namespace {

using namespace std::chrono_literals;

Task<std::size_t> take_renew(RenewRequest r) { co_return r.key.actor_type.size() + r.node_id.size(); }
Task<std::size_t> take_acquire(AcquireRequest r) { co_return r.node_id.size() + r.custom_data.size(); }
Task<std::size_t> take_key(ActorKey k) { co_return k.actor_type.size(); }
std::string long_text(int i) { return std::string(40, static_cast<char>('a' + i)); }

TEST(GccCoroutineWorkaround, BracedRequestsInsideCoAwait) {
  auto body = []() -> Task<std::size_t> {
    std::size_t total = 0;
    for (int i = 0; i < 10; ++i) {
      total += co_await take_renew({{Uuid::from_u64(1), long_text(i)}, "node-1", 3, 30s});
      total += co_await take_acquire({{Uuid::from_u64(2), "Player"}, long_text(i), 30s});
      total += co_await take_key({Uuid::from_u64(3), long_text(i)});
    }
    co_return total;
  };
  EXPECT_EQ(sync_wait(body()), 10u * ((40 + 6) + (40 + 2) + 40));
}

}  // namespace
}  // namespace orbit
