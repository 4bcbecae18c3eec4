// Goal: the inspection verbs print what the store holds (stats, get, scan,
// list-expiring) and `config` names where every value came from: default,
// file, env, flag.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_test_support.hpp"
#include "tools/orbit-cli/lease_json.hpp"

namespace orbit::cli_test {
namespace {

int lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(CliInspect, ConfigNamesEveryOrigin) {
  ScratchDir dir("config");
  std::ofstream(dir / "orbit.json") << R"({"lsm_config": {"max_levels": 5}, "data_dir": "/from/file"})";
  auto r = run_shell("ORBIT_DURABILITY=buffered " + cli() + " config --json --config=" + dir / "orbit.json" +
                     " --data-dir=/from/flag --backend=lsm");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto config = nlohmann::json::parse(r.out);
  EXPECT_EQ(config["lsm_config.max_levels"]["value"], "5");
  EXPECT_EQ(config["lsm_config.max_levels"]["origin"], "file");
  EXPECT_EQ(config["durability"]["value"], "buffered");
  EXPECT_EQ(config["durability"]["origin"], "env");
  EXPECT_EQ(config["data_dir"]["value"], "/from/flag");
  EXPECT_EQ(config["data_dir"]["origin"], "flag");
  EXPECT_EQ(config["backend"]["value"], "LsmTree");
  EXPECT_EQ(config["cow_config.max_keys_per_node"]["origin"], "default");
  auto table = run_shell(cli() + " config --backend=rocksdb");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("rocksdb_config.block_cache_mb"), std::string::npos) << table.out;
}

TEST(CliInspect, StatsGetScanAndListExpiring) {
  ScratchDir dir("inspect");
  const auto backend = PersistenceFactory::available_backends().front();
  const std::string flags = " --backend=" + std::string(to_string(backend)) + " --data-dir=" + dir / "s";
  auto leases = make_leases(500, 31);
  fill_store(backend, dir / "s", leases);

  auto stats = run_cli("stats --json" + flags);
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(nlohmann::json::parse(stats.out)["total_keys"], 500);
  auto table = run_cli("stats" + flags);
  EXPECT_NE(table.out.find("total_keys"), std::string::npos);

  const Lease& one = *std::find_if(leases.begin(), leases.end(), [](const Lease& l) { return l.key.actor_type == "Room"; });
  auto got = run_cli("get --actor-type=Room --actor-id=" + one.key.actor_id.to_string() + flags);
  ASSERT_EQ(got.exit_code, 0) << got.err;
  std::string expected;
  cli::append_lease_json(one, expected);
  EXPECT_EQ(got.out, expected + "\n");
  auto missing = run_cli("get --actor-type=Nope --actor-id=" + Uuid::from_u64(1).to_string() + flags);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no lease for Nope/"), std::string::npos) << missing.err;

  std::size_t players = 0;
  for (const Lease& l : leases) players += l.key.actor_type == "Player";
  auto scan = run_cli("scan --actor-type=Player" + flags);
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  EXPECT_EQ(lines(scan.out), static_cast<int>(players));
  auto limited = run_cli("scan --actor-type=Player --limit=3" + flags);
  EXPECT_EQ(lines(limited.out), 3);
  std::size_t on_node = 0;
  for (const Lease& l : leases) on_node += l.node_id == "node-5";
  auto by_node = run_cli("scan --node=node-5" + flags);
  EXPECT_EQ(lines(by_node.out), static_cast<int>(on_node));
  EXPECT_NE(run_cli("scan" + flags).exit_code, 0);  // needs --actor-type or --node

  // Every test lease expires before 2100 (4102444800 s since the epoch).
  auto expiring = run_cli("list-expiring --before=4102444800000000000 --limit=0" + flags);
  ASSERT_EQ(expiring.exit_code, 0) << expiring.err;
  EXPECT_EQ(lines(expiring.out), 500);
  EXPECT_EQ(lines(run_cli("list-expiring --before=now+1h --limit=7" + flags).out), 7);
  auto bad = run_cli("list-expiring --before=tomorrow" + flags);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("'tomorrow'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace orbit::cli_test
