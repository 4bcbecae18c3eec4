// Orbit Persistence — the umbrella header. Include this and link orbit::persistence.
//
//   auto store = orbit::sync_wait(orbit::PersistenceConfigBuilder()
//                                     .backend(orbit::PersistenceBackend::LsmTree)
//                                     .data_dir("/var/lib/orbit")
//                                     .create_provider());
//   auto lease = orbit::Lease::create({orbit::Uuid::random(), "Player"}, "node-1", 30s);
//   auto result = co_await (*store)->store_lease(lease);   // result.metrics().latency ...
#pragma once

#include "orbit/config.hpp"
#include "orbit/factory.hpp"
#include "orbit/lease.hpp"
#include "orbit/metrics.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"
#include "orbit/sync_wait.hpp"
#include "orbit/task.hpp"
