#include "perf/load/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace orbit::bench {
namespace {

std::string us(std::uint64_t ns, std::uint64_t count) {
  if (count == 0) return "-";
  const double v = static_cast<double>(ns) / 1000.0;
  return v < 10 ? fmt::format("{:.2f}", v) : v < 1000 ? fmt::format("{:.1f}", v) : fmt::format("{:.0f}", v);
}

nlohmann::json histogram_json(const metrics::LatencyHistogram& h) {
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& point : h.curve()) curve.push_back({point.percentile, point.value_ns});
  return {{"count", h.count()},   {"min_ns", h.min()},   {"mean_ns", h.mean()},
          {"p50_ns", h.percentile(50)}, {"p99_ns", h.percentile(99)}, {"p999_ns", h.percentile(99.9)},
          {"max_ns", h.max()},    {"curve", curve}};
}

std::string table_header() {
  std::string out = fmt::format(
      "{:<17} {:>5} {:>10} | {:>8} {:>8} {:>9} {:>9} | {:>7} {:>7} {:>8} {:>8} | {:>6} {:>7} {:>7} {:>6}\n", "target",
      "conc", "ops/s", "w p50", "w p99", "w p99.9", "w max", "r p50", "r p99", "r p99.9", "r max", "wamp", "syncs/w",
      "RSS MB", "CPU s");
  return out + std::string(out.size() - 1, '-') + "\n";
}

// A "mix" or "compaction" row, with its errors and background work.
std::string format_row(const RunResult& r) {
  const std::string wamp = r.disk_bytes_written && r.user_bytes_written
                               ? fmt::format("{:.2f}", static_cast<double>(r.disk_bytes_written) /
                                                           static_cast<double>(r.user_bytes_written))
                               : "-";
  std::string out = fmt::format(
      "{:<17} {:>5} {:>10.0f} | {:>8} {:>8} {:>9} {:>9} | {:>7} {:>7} {:>8} {:>8} | {:>6} {:>7.3f} {:>7.0f} "
      "{:>6.1f}\n",
      r.target, r.concurrency, r.throughput(), us(r.writes.percentile(50), r.writes.count()),
      us(r.writes.percentile(99), r.writes.count()), us(r.writes.percentile(99.9), r.writes.count()),
      us(r.writes.max(), r.writes.count()), us(r.reads.percentile(50), r.reads.count()),
      us(r.reads.percentile(99), r.reads.count()), us(r.reads.percentile(99.9), r.reads.count()),
      us(r.reads.max(), r.reads.count()), wamp, r.fsyncs_per_write,
      static_cast<double>(r.peak_rss_bytes) / (1 << 20), r.cpu_seconds);
  if (r.errors) out += fmt::format("  ! {} errors, first: {}\n", r.errors, r.first_error);
  if (r.flushes || r.compactions || r.checkpoints || r.write_stalls)
    out += fmt::format(
        "  background: {} flushes, {} compactions, {} checkpoints; {} writers stalled for {:.1f} ms\n",
        r.flushes, r.compactions, r.checkpoints, r.write_stalls,
        static_cast<double>(r.write_stall_time.count()) / 1000.0);
  return out;
}

const RunResult* find_row(const std::vector<RunResult>& rows, std::string_view workload,
                          std::string_view target, std::uint32_t concurrency) {
  for (const auto& r : rows)
    if (r.workload == workload && r.target == target && r.concurrency == concurrency && r.writes.count())
      return &r;
  return nullptr;
}

std::string p999_ratio(const RunResult& ours, const RunResult* theirs) {
  if (!theirs || !theirs->writes.percentile(99.9)) return "-";
  return fmt::format("{:.2f}x", static_cast<double>(ours.writes.percentile(99.9)) /
                                    static_cast<double>(theirs->writes.percentile(99.9)));
}

// The "compaction" rows and LsmTree's write p99.9 against RocksDB's in them.
std::string format_compaction_rows(const std::vector<RunResult>& rows) {
  std::string out;
  std::uint32_t memtable_mb = 0;
  for (const auto& r : rows) {
    if (r.workload != "compaction") continue;
    out += format_row(r);
    memtable_mb = r.memtable_mb;
  }
  if (out.empty()) return out;
  for (const auto& r : rows) {
    if (r.workload != "compaction" || r.target != "LsmTree") continue;
    out +=
        fmt::format("LsmTree write p99.9 vs RocksDb backend / rocksdb-direct at {:>4} in flight: {} / {}\n",
                    r.concurrency, p999_ratio(r, find_row(rows, "compaction", "RocksDb", r.concurrency)),
                    p999_ratio(r, find_row(rows, "compaction", "rocksdb-direct", r.concurrency)));
  }
  return fmt::format(
             "\nwith compaction running: the mix again with {} MB memtables on every target below (RocksDB's "
             "write_buffer_size too), so that each flushes and compacts throughout:\n",
             memtable_mb) +
         table_header() + out;
}

}  // namespace

std::string format_table(const std::vector<RunResult>& rows) {
  std::string out = table_header();
  for (const auto& r : rows)
    if (r.workload == "mix") out += format_row(r);
  // Our RocksDb backend against RocksDB used directly, same concurrency.
  for (const auto& ours : rows) {
    if (ours.target != "RocksDb" || ours.workload != "mix") continue;
    const RunResult* direct = find_row(rows, "mix", "rocksdb-direct", ours.concurrency);
    if (!direct || !direct->throughput()) continue;
    out += fmt::format(
        "RocksDb backend vs rocksdb-direct at {:>4} in flight: {:.2f}x throughput, write p50 {:.2f}x\n",
        ours.concurrency, ours.throughput() / direct->throughput(),
        static_cast<double>(ours.writes.percentile(50)) / static_cast<double>(direct->writes.percentile(50)));
  }
  out += format_compaction_rows(rows);
  std::string hot;
  for (const auto& r : rows) {
    if (r.workload != "hot-get") continue;
    hot += fmt::format("{:<17} {:>10.0f} | {:>7} {:>7} {:>8} {:>8}\n", r.target, r.throughput(),
                       us(r.reads.percentile(50), r.reads.count()), us(r.reads.percentile(99), r.reads.count()),
                       us(r.reads.percentile(99.9), r.reads.count()), us(r.reads.max(), r.reads.count()));
    if (r.errors) hot += fmt::format("  ! {} errors, first: {}\n", r.errors, r.first_error);
  }
  if (!hot.empty()) {
    out += fmt::format("\nhot get_lease through the public API ({} leases read in turn by one coroutine on the store's "
                       "loop):\n{:<17} {:>10} | {:>7} {:>7} {:>8} {:>8}\n",
                       kHotLeases, "target", "reads/s", "r p50", "r p99", "r p99.9", "r max");
    out += hot;
  }
  out += "latencies in microseconds; wamp = bytes written to disk / user bytes written; syncs/w = fdatasyncs per write\n";
  return out;
}

std::string to_json(const std::vector<RunResult>& rows, const RunContext& context) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : rows) {
    runs.push_back({{"target", r.target},
                    {"workload", r.workload},
                    {"memtable_mb", r.memtable_mb},
                    {"concurrency", r.concurrency},
                    {"seconds", r.seconds},
                    {"ops", r.ops},
                    {"ops_per_second", r.throughput()},
                    {"errors", r.errors},
                    {"first_error", r.first_error},
                    {"user_bytes_written", r.user_bytes_written},
                    {"disk_bytes_written", r.disk_bytes_written},
                    {"peak_rss_bytes", r.peak_rss_bytes},
                    {"cpu_seconds", r.cpu_seconds},
                    {"fsyncs_per_write", r.fsyncs_per_write},
                    {"flushes", r.flushes},
                    {"compactions", r.compactions},
                    {"checkpoints", r.checkpoints},
                    {"write_stalls", r.write_stalls},
                    {"write_stall_us", r.write_stall_time.count()},
                    {"writes", histogram_json(r.writes)},
                    {"reads", histogram_json(r.reads)}});
  }
  nlohmann::json doc = {{"tool", "orbit-bench"},
                        {"leases", context.options.leases},
                        {"record_bytes", context.options.record_bytes},
                        {"seconds_per_run", context.options.seconds},
                        {"seed", context.options.seed},
                        {"mix", context.options.mix.to_string()},
                        {"durability", context.durability},
                        {"io_backend", context.io_backend},
                        {"data_dir", context.data_dir},
                        {"runs", runs}};
  return doc.dump(2);
}

// One panel per concurrency; in each, the write-latency percentile curve of
// every target. X: percentile on the 1/(1-p) scale (HdrHistogram style),
// Y: latency, log scale.
std::string to_svg(const std::vector<RunResult>& rows, const RunContext& context) {
  std::set<std::uint32_t> levels;
  std::uint64_t lo = UINT64_MAX, hi = 1;
  for (const auto& r : rows) {
    if (!r.writes.count() || r.workload == "compaction") continue;
    levels.insert(r.concurrency);
    lo = std::min(lo, std::max<std::uint64_t>(r.writes.min(), 100));
    hi = std::max(hi, r.writes.max());
  }
  const double y_lo = std::floor(std::log10(static_cast<double>(lo == UINT64_MAX ? 1000 : lo)));
  const double y_hi = std::ceil(std::log10(static_cast<double>(hi)));
  const double x_max = 5.0;  // up to 99.999%
  const int panel_w = 420, panel_h = 300, margin = 80, top = 50;
  const int width = margin + static_cast<int>(levels.size()) * (panel_w + margin);
  const int height = top + panel_h + 150;
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};
  std::map<std::string, const char*> color;
  for (const auto& r : rows)
    if (!color.count(r.target)) color[r.target] = kColors[color.size() % 7];

  std::string svg = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='12'>\n"
      "<rect width='100%' height='100%' fill='white'/>\n"
      "<text x='{}' y='22' font-size='16'>orbit-bench: write latency percentiles ({} leases, {} B, mix {}, {})</text>\n",
      width, height, margin, context.options.leases, context.options.record_bytes, context.options.mix.to_string(),
      context.durability);
  int panel = 0;
  for (auto level : levels) {
    const int x0 = margin + panel++ * (panel_w + margin), y0 = top;
    auto px = [&](double percentile) {
      const double x = -std::log10(std::max(1e-7, 1.0 - percentile / 100.0));
      return x0 + std::min(x, x_max) / x_max * panel_w;
    };
    auto py = [&](double ns) {
      const double y = std::log10(std::max(ns, 1.0));
      return y0 + panel_h - (y - y_lo) / (y_hi - y_lo) * panel_h;
    };
    svg += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#444'/>\n", x0, y0, panel_w,
                       panel_h);
    svg += fmt::format("<text x='{}' y='{}'>concurrency {}</text>\n", x0 + 4, y0 - 6, level);
    for (int d = 0; d <= 5; ++d) {
      static const char* kLabels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
      const double x = x0 + d / x_max * panel_w;
      svg += fmt::format("<line x1='{0}' x2='{0}' y1='{1}' y2='{2}' stroke='#ddd'/><text x='{0}' y='{3}' "
                         "text-anchor='middle'>{4}</text>\n",
                         x, y0, y0 + panel_h, y0 + panel_h + 16, kLabels[d]);
    }
    for (double e = y_lo; e <= y_hi; e += 1) {
      const double y = py(std::pow(10.0, e));
      const double value_us = std::pow(10.0, e) / 1000.0;
      svg += fmt::format("<line x1='{0}' x2='{1}' y1='{2}' y2='{2}' stroke='#ddd'/><text x='{3}' y='{4}' "
                         "text-anchor='end'>{5} us</text>\n",
                         x0, x0 + panel_w, y, x0 - 4, y + 4, value_us >= 1 ? fmt::format("{:.0f}", value_us)
                                                                           : fmt::format("{:g}", value_us));
    }
    for (const auto& r : rows) {
      if (r.concurrency != level && !(r.target == "device-fdatasync")) continue;
      if (!r.writes.count() || r.workload == "compaction") continue;
      std::string points;
      for (const auto& p : r.writes.curve())
        points += fmt::format("{:.1f},{:.1f} ", px(p.percentile), py(static_cast<double>(p.value_ns)));
      const bool dashed = r.target == "device-fdatasync" || r.target == "rocksdb-direct";
      svg += fmt::format("<polyline fill='none' stroke='{}' stroke-width='2' {} points='{}'/>\n", color[r.target],
                         dashed ? "stroke-dasharray='6,3'" : "", points);
    }
  }
  int legend_y = top + panel_h + 40;
  for (const auto& [target, c] : color) {
    svg += fmt::format("<line x1='{0}' x2='{1}' y1='{2}' y2='{2}' stroke='{3}' stroke-width='3'/>"
                       "<text x='{4}' y='{5}'>{6}</text>\n",
                       margin, margin + 30, legend_y, c, margin + 36, legend_y + 4, target);
    legend_y += 18;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace orbit::bench
