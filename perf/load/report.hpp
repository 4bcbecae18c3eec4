// The benchmark's three outputs: a table on stdout, JSON with the whole
// percentile curves, and an SVG chart of the latency curves (log-log).
#pragma once

#include <string>
#include <vector>

#include "perf/load/workload.hpp"

namespace orbit::bench {

struct RunContext {
  WorkloadOptions options;
  std::string durability;
  std::string io_backend;
  std::string data_dir;
};

std::string format_table(const std::vector<RunResult>& rows);
std::string to_json(const std::vector<RunResult>& rows, const RunContext& context);
std::string to_svg(const std::vector<RunResult>& rows, const RunContext& context);

}  // namespace orbit::bench
