// An embedding program in ten lines: open a store, write a lease, read it back.
#include <orbit/persistence.hpp>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const char* dir = argc > 1 ? argv[1] : "./consumer-data";
  auto backends = orbit::PersistenceFactory::available_backends();
  if (backends.empty()) {
    std::puts("no backend built");
    return 1;
  }
  for (auto backend : backends) {
    auto store = orbit::sync_wait(orbit::PersistenceFactory::create_default(
        backend, std::string(dir) + "/" + std::string(orbit::to_string(backend))));
    if (!store) return std::printf("open: %s\n", store.error().to_string().c_str()), 1;
    auto lease = orbit::Lease::create({orbit::Uuid::random(), "Player"}, "node-1", 30s);
    auto stored = orbit::sync_wait((*store)->store_lease(lease));
    auto got = orbit::sync_wait((*store)->get_lease(lease.key));
    if (!stored || !got || got.value() != lease) return std::puts("round trip failed"), 1;
    std::printf("%s: stored and read back %s in %lld ns\n", std::string(orbit::to_string(backend)).c_str(),
                lease.key.to_string().c_str(), static_cast<long long>(stored.metrics().latency.count()));
    if (!orbit::sync_wait((*store)->close())) return 1;
  }
  return 0;
}
