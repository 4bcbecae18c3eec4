// The orbit-cli verbs. Each returns the process exit code and prints its
// errors as one line on standard error ("orbit-cli: error: ..."):
//   0  success (validate: every check held)
//   1  the operation failed, or validate found problems
//   2  the command line or configuration is not accepted
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "orbit/result.hpp"
#include "tools/orbit-cli/cli_store.hpp"

namespace orbit::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Prints "orbit-cli: error: <message>" (newlines folded) and returns the
// exit code for the error (2 for InvalidArgument, else 1).
int report_error(const Error& error);
int report_error(int exit_code, const std::string& message);

struct ExportOptions {
  CommonOptions common;
  std::string output = "-";
  std::string format = "json";  // json | binary
  std::size_t page_size = 1000;
  bool progress = true;
};
int run_export(const ExportOptions& options);

struct ImportOptions {
  CommonOptions common;
  std::string input = "-";
  std::size_t batch_size = 1000;
  std::size_t in_flight = 4;
  std::uint64_t resume_after = 0;  // skip leases at lines/records <= this
  bool progress = true;
};
int run_import(const ImportOptions& options);

int run_validate(const CommonOptions& options);

struct StatsOptions {
  CommonOptions common;
  bool json = false;
};
int run_stats(const StatsOptions& options);

struct GetOptions {
  CommonOptions common;
  std::string actor_type;
  std::string actor_id;
};
int run_get(const GetOptions& options);

struct ScanOptionsCli {
  CommonOptions common;
  std::string actor_type;
  std::string node;
  std::size_t limit = 0;  // 0 = all
};
int run_scan(const ScanOptionsCli& options);

struct ListExpiringOptions {
  CommonOptions common;
  std::string before = "now";  // now, now+30s, now-5m, or integer ns since the epoch
  std::size_t limit = 1000;    // 0 = all (held in memory: the API does not page this list)
};
int run_list_expiring(const ListExpiringOptions& options);

struct ConfigOptions {
  CommonOptions common;
  bool json = false;
};
int run_config(const ConfigOptions& options);

}  // namespace orbit::cli
