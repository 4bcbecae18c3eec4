// orbit-cli: export, import, validate and inspect Orbit Persistence stores.
// Verbs and flags: tools/orbit-cli/README.md; file format: FORMAT.md.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "tools/orbit-cli/commands.hpp"

namespace {

using namespace orbit::cli;

void add_common(CLI::App& verb, CommonOptions& common) {
  verb.add_option("--backend", common.backend,
                  "cow, lsm or rocksdb (also CowBTree, LsmTree, RocksDb); default from config/env");
  verb.add_option("--data-dir", common.data_dir, "the store's directory; default from config/env");
  verb.add_option("--config", common.config_file, "JSON config file (overrides ORBIT_CONFIG_FILE)");
  verb.add_option("--durability", common.durability, "durable, buffered or none");
  verb.add_option("--io-backend", common.io_backend, "auto, io_uring or asio");
}

int run(int argc, char** argv) {
  CLI::App app{"orbit-cli: export, import, validate and inspect Orbit Persistence stores"};
  app.require_subcommand(1);
  app.name("orbit-cli");

  ExportOptions export_options;
  auto* export_cmd = app.add_subcommand("export", "write every lease of a store to a file or stdout");
  add_common(*export_cmd, export_options.common);
  export_cmd->add_option("--output,-o", export_options.output, "file, or - for stdout (default -)");
  export_cmd->add_option("--format", export_options.format, "json (JSON Lines, default) or binary");
  export_cmd->add_option("--page-size", export_options.page_size, "leases per scan page (default 1000)");
  bool export_no_progress = false;
  export_cmd->add_flag("--no-progress", export_no_progress, "no progress bar even on a terminal");

  ImportOptions import_options;
  auto* import_cmd = app.add_subcommand("import", "load an export into a store (created if missing)");
  add_common(*import_cmd, import_options.common);
  import_cmd->add_option("--input,-i", import_options.input, "file, or - for stdin (default -)");
  import_cmd->add_option("--batch-size", import_options.batch_size, "leases per atomic batch (default 1000)");
  import_cmd->add_option("--in-flight", import_options.in_flight, "batches committing at once (default 4)");
  import_cmd->add_option("--resume", import_options.resume_after,
                         "skip leases at input lines (records) up to this one, as a failed import suggests");
  bool import_no_progress = false;
  import_cmd->add_flag("--no-progress", import_no_progress, "no progress bar even on a terminal");

  CommonOptions validate_options;
  auto* validate_cmd = app.add_subcommand("validate", "check every checksum and invariant of a store, read-only");
  add_common(*validate_cmd, validate_options);

  StatsOptions stats_options;
  auto* stats_cmd = app.add_subcommand("stats", "print StorageStats");
  add_common(*stats_cmd, stats_options.common);
  stats_cmd->add_flag("--json", stats_options.json, "as JSON instead of a table");

  GetOptions get_options;
  auto* get_cmd = app.add_subcommand("get", "print one lease as JSON");
  add_common(*get_cmd, get_options.common);
  get_cmd->add_option("--actor-type", get_options.actor_type, "actor type")->required();
  get_cmd->add_option("--actor-id", get_options.actor_id, "actor UUID")->required();

  ScanOptionsCli scan_options;
  auto* scan_cmd = app.add_subcommand("scan", "print the leases of one actor type or one node as JSON Lines");
  add_common(*scan_cmd, scan_options.common);
  scan_cmd->add_option("--actor-type", scan_options.actor_type, "actor type");
  scan_cmd->add_option("--node", scan_options.node, "owning node id");
  scan_cmd->add_option("--limit", scan_options.limit, "at most this many (default 0 = all)");

  ListExpiringOptions expiring_options;
  auto* expiring_cmd = app.add_subcommand("list-expiring", "print leases expiring before a time, earliest first");
  add_common(*expiring_cmd, expiring_options.common);
  expiring_cmd->add_option("--before", expiring_options.before,
                           "now (default), now+30s, now-5m, now+1h, now+500ms, or ns since the epoch");
  expiring_cmd->add_option("--limit", expiring_options.limit, "at most this many (default 1000, 0 = all)");

  ConfigOptions config_options;
  auto* config_cmd = app.add_subcommand("config", "print the effective configuration and where each value came from");
  add_common(*config_cmd, config_options.common);
  config_cmd->add_flag("--json", config_options.json, "as JSON instead of a table");

  bool known_verb = false;
  if (argc > 1)
    for (const CLI::App* verb : app.get_subcommands({})) known_verb = known_verb || verb->get_name() == argv[1];
  if (argc > 1 && argv[1][0] != '-' && !known_verb)
    return report_error(kExitUsage, std::string("unknown verb '") + argv[1] +
                                        "' (accepted: export, import, validate, stats, get, scan, list-expiring, "
                                        "config)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.empty()) what = e.get_name();
    return report_error(kExitUsage, what + " (see orbit-cli --help)");
  }

  export_options.progress = !export_no_progress;
  import_options.progress = !import_no_progress;
  if (*export_cmd) return run_export(export_options);
  if (*import_cmd) return run_import(import_options);
  if (*validate_cmd) return run_validate(validate_options);
  if (*stats_cmd) return run_stats(stats_options);
  if (*get_cmd) return run_get(get_options);
  if (*scan_cmd) return run_scan(scan_options);
  if (*expiring_cmd) return run_list_expiring(expiring_options);
  if (*config_cmd) return run_config(config_options);
  return report_error(kExitUsage, "no verb given (see orbit-cli --help)");
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe (export | head) is a write error we report, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return report_error(kExitFailed, std::string("internal error: ") + e.what());
  } catch (...) {
    return report_error(kExitFailed, "internal error");
  }
}
