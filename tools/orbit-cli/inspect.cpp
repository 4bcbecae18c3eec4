// validate, stats, get, scan, list-expiring, config: looking inside a store.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "orbit/factory.hpp"
#include "orbit/sync_wait.hpp"
#include "tools/orbit-cli/commands.hpp"
#include "tools/orbit-cli/lease_json.hpp"

namespace orbit::cli {
namespace {

void close_quietly(PersistenceProvider& store) { (void)sync_wait(store.close()); }

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

void print_lease(const Lease& lease) {
  std::string line;
  append_lease_json(lease, line);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// "now", "now+30s", "now-5m" (units ms, s, m, h) or integer ns since the epoch.
std::optional<SystemTime> parse_time(const std::string& text) {
  const auto parse_int = [](std::string_view digits, std::int64_t& out) {
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
  };
  if (text.rfind("now", 0) == 0) {
    SystemTime t = std::chrono::system_clock::now();
    if (text.size() == 3) return t;
    const char sign = text[3];
    if (sign != '+' && sign != '-') return std::nullopt;
    std::string_view rest(text);
    rest.remove_prefix(4);
    std::int64_t per = 0;
    if (rest.ends_with("ms")) per = 1'000'000, rest.remove_suffix(2);
    else if (rest.ends_with("s")) per = 1'000'000'000, rest.remove_suffix(1);
    else if (rest.ends_with("m")) per = 60'000'000'000, rest.remove_suffix(1);
    else if (rest.ends_with("h")) per = 3'600'000'000'000, rest.remove_suffix(1);
    else return std::nullopt;
    std::int64_t n = 0;
    if (!parse_int(rest, n)) return std::nullopt;
    const auto delta = std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(n * per));
    return sign == '+' ? t + delta : t - delta;
  }
  std::int64_t ns = 0;
  if (!parse_int(text, ns)) return std::nullopt;
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace

int report_error(int exit_code, const std::string& message) {
  std::fprintf(stderr, "orbit-cli: error: %s\n", one_line(message).c_str());
  return exit_code;
}

int report_error(const Error& error) {
  return report_error(error.code == ErrorCode::InvalidArgument ? kExitUsage : kExitFailed, error.message);
}

int run_validate(const CommonOptions& options) {
  auto config = build_config(options);
  if (!config) return report_error(config.error());
  if (auto ok = check_store_dir(*config, /*may_create=*/false); !ok) return report_error(ok.error());
  auto report = sync_wait(PersistenceFactory::verify_store(*config));
  if (!report) return report_error(report.error());
  for (const FileProblem& p : report->problems)
    std::printf("%s:%llu: %s\n", p.file.empty() ? "(store)" : p.file.c_str(),
                static_cast<unsigned long long>(p.offset), one_line(p.what).c_str());
  std::printf("%s: %zu problems; checked %llu files, %llu bytes, %llu leases (%s at '%s')\n",
              report->ok() ? "ok" : "FAILED", report->problems.size(),
              static_cast<unsigned long long>(report->files_checked),
              static_cast<unsigned long long>(report->bytes_checked),
              static_cast<unsigned long long>(report->leases_checked), std::string(to_string(config->backend)).c_str(),
              config->data_dir.c_str());
  return report->ok() ? kExitOk : kExitFailed;
}

int run_stats(const StatsOptions& options) {
  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  auto opened = open_store(*config, false);
  if (!opened) return report_error(opened.error());
  auto store = std::move(opened).value();
  auto stats = sync_wait(store->stats());
  close_quietly(*store);
  if (!stats) return report_error(stats.error());
  const StorageStats& s = *stats;
  const std::vector<std::pair<const char*, nlohmann::json>> rows{
      {"backend", std::string(to_string(config->backend))},
      {"total_keys", s.total_keys},
      {"total_size_bytes", s.total_size_bytes},
      {"memory_usage_bytes", s.memory_usage_bytes},
      {"disk_usage_bytes", s.disk_usage_bytes},
      {"average_key_size", s.average_key_size},
      {"average_value_size", s.average_value_size},
      {"wal_syncs", s.wal_syncs},
      {"wal_records", s.wal_records},
      {"writes_per_sync", s.writes_per_sync},
      {"disk_bytes_written", s.disk_bytes_written},
      {"disk_bytes_read", s.disk_bytes_read},
      {"recovery_time_us", s.recovery_time.count()},
      {"recovery_log_bytes_cut", s.recovery_log_bytes_cut},
      {"background_errors", s.background_errors},
      {"last_background_error", s.last_background_error},
      {"write_stalls", s.write_stalls},
      {"write_stall_time_us", s.write_stall_time.count()},
      {"compactions", s.compactions},
      {"flushes", s.flushes},
      {"checkpoints", s.checkpoints},
  };
  if (options.json) {
    nlohmann::ordered_json out;
    for (const auto& [name, value] : rows) out[name] = value;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& [name, value] : rows)
      std::printf("%-22s %s\n", name, value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
  }
  return kExitOk;
}

int run_get(const GetOptions& options) {
  auto id = Uuid::parse(options.actor_id);
  if (!id) return report_error(kExitUsage, "--actor-id '" + options.actor_id + "' is not a UUID (8-4-4-4-12 hex)");
  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  auto opened = open_store(*config, false);
  if (!opened) return report_error(opened.error());
  auto store = std::move(opened).value();
  ActorKey key(*id, options.actor_type);
  auto lease = sync_wait(store->get_lease(std::move(key)));
  close_quietly(*store);
  if (!lease) {
    if (lease.code() == ErrorCode::NotFound)
      return report_error(kExitFailed, "no lease for " + options.actor_type + "/" + id->to_string());
    return report_error(lease.error());
  }
  print_lease(*lease);
  return kExitOk;
}

int run_scan(const ScanOptionsCli& options) {
  if (options.actor_type.empty() == options.node.empty())
    return report_error(kExitUsage, "scan needs exactly one of --actor-type or --node");
  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  auto opened = open_store(*config, false);
  if (!opened) return report_error(opened.error());
  auto store = std::move(opened).value();
  constexpr std::size_t kPage = 1000;
  std::optional<ActorKey> after;
  std::size_t printed = 0;
  for (;;) {
    std::size_t want = kPage;
    if (options.limit) want = std::min(kPage, options.limit - printed);
    ScanOptions scan(want, after);
    auto page = options.node.empty() ? sync_wait(store->scan_by_actor_type(options.actor_type, std::move(scan)))
                                     : sync_wait(store->list_by_node(options.node, std::move(scan)));
    if (!page) {
      close_quietly(*store);
      return report_error(page.error());
    }
    for (const Lease& lease : *page) print_lease(lease);
    printed += page->size();
    if (page->size() < want || (options.limit && printed >= options.limit)) break;
    after = page->back().key;
  }
  close_quietly(*store);
  return kExitOk;
}

int run_list_expiring(const ListExpiringOptions& options) {
  auto before = parse_time(options.before);
  if (!before)
    return report_error(kExitUsage, "--before '" + options.before +
                                        "' is not accepted (now, now+30s, now-5m, now+1h, now+500ms, or integer "
                                        "nanoseconds since the epoch)");
  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  auto opened = open_store(*config, false);
  if (!opened) return report_error(opened.error());
  auto store = std::move(opened).value();
  auto leases = sync_wait(store->list_expiring_before(*before, options.limit));
  close_quietly(*store);
  if (!leases) return report_error(leases.error());
  for (const Lease& lease : *leases) print_lease(lease);
  return kExitOk;
}

int run_config(const ConfigOptions& options) {
  auto config = build_config(options.common);
  if (!config) return report_error(config.error());
  nlohmann::ordered_json tree = nlohmann::ordered_json::parse(config->to_json());
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  auto origin = [&](const std::string& key) {
    auto it = config->origins.find(key);
    if (it == config->origins.end()) return std::string("default");
    if (it->second == ConfigSource::Builder) return std::string("flag");
    if (it->second == ConfigSource::Environment) return std::string("env");
    return std::string(to_string(it->second));
  };
  for (const auto& [key, value] : tree.items()) {
    if (value.is_object()) {
      for (const auto& [inner, inner_value] : value.items()) {
        const std::string path = key + "." + inner;
        rows.emplace_back(path, inner_value.is_string() ? inner_value.get<std::string>() : inner_value.dump(),
                          origin(path));
      }
    } else {
      rows.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump(), origin(key));
    }
  }
  if (options.json) {
    nlohmann::ordered_json out;
    for (const auto& [key, value, from] : rows) out[key] = {{"value", value}, {"origin", from}};
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-40s %-20s %s\n", "KEY", "VALUE", "ORIGIN");
  for (const auto& [key, value, from] : rows) std::printf("%-40s %-20s %s\n", key.c_str(), value.c_str(), from.c_str());
  return kExitOk;
}

}  // namespace orbit::cli
