// Goal: the seed's migration path works between every pair of backends this
// build has: export a store of test_lease_count() varied leases, import it
// into another backend, validate it, export it again, and find the leases
// byte-for-byte identical (and identical to what was written through the
// API). With only one backend built, it migrates into a second directory of
// the same backend. Also: `export | import` through "-" and the binary format.
#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include "tests/cli/cli_test_support.hpp"
#include "tools/orbit-cli/lease_json.hpp"

namespace orbit::cli_test {
namespace {

std::string name(PersistenceBackend b) { return std::string(to_string(b)); }

std::vector<std::pair<PersistenceBackend, PersistenceBackend>> pairs() {
  auto built = PersistenceFactory::available_backends();
  std::vector<std::pair<PersistenceBackend, PersistenceBackend>> out;
  for (auto from : built)
    for (auto to : built)
      if (from != to || built.size() == 1) out.emplace_back(from, to);
  return out;
}

TEST(CliMigration, EveryPairOfBuiltBackendsKeepsEveryLeaseExactly) {
  const std::size_t count = test_lease_count();
  ScratchDir dir("migration");
  const auto leases = make_leases(count, 2024);
  const std::string expected = expected_export_body(leases);
  for (auto source : PersistenceFactory::available_backends()) {
    const std::string src_dir = dir / ("src-" + name(source));
    const std::string src_export = dir / ("src-" + name(source) + ".json");
    fill_store(source, src_dir, leases);
    auto exported = run_cli("export --backend=" + name(source) + " --data-dir=" + src_dir + " --output=" + src_export);
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    ASSERT_EQ(export_body(src_export), expected) << name(source) << " export differs from the leases written";
  }
  for (auto [from, to] : pairs()) {
    SCOPED_TRACE(name(from) + " -> " + name(to));
    const auto started = std::chrono::steady_clock::now();
    const std::string src_export = dir / ("src-" + name(from) + ".json");
    const std::string dst_dir = dir / ("dst-" + name(from) + "-to-" + name(to));
    const std::string dst_export = dst_dir + ".json";
    auto imported = run_cli("import --backend=" + name(to) + " --data-dir=" + dst_dir + " --input=" + src_export);
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    auto validated = run_cli("validate --backend=" + name(to) + " --data-dir=" + dst_dir);
    ASSERT_EQ(validated.exit_code, 0) << validated.out << validated.err;
    EXPECT_NE(validated.out.find(std::to_string(count) + " leases"), std::string::npos) << validated.out;
    auto reexported = run_cli("export --backend=" + name(to) + " --data-dir=" + dst_dir + " --output=" + dst_export);
    ASSERT_EQ(reexported.exit_code, 0) << reexported.err;
    EXPECT_TRUE(export_body(dst_export) == expected) << "leases differ after migration";
    std::printf("[ migrate  ] %s -> %s: %zu leases in %.2f s\n", name(from).c_str(), name(to).c_str(), count,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
}

TEST(CliMigration, ExportPipesIntoImportThroughStdio) {
  ScratchDir dir("pipe");
  const auto leases = make_leases(5000, 77);
  const auto backends = PersistenceFactory::available_backends();
  ASSERT_FALSE(backends.empty());
  const auto from = backends.front(), to = backends.back();
  fill_store(from, dir / "a", leases);
  for (const char* format : {"json", "binary"}) {
    SCOPED_TRACE(format);
    const std::string dst = dir / (std::string("b-") + format);
    auto piped = run_shell(cli() + " export --backend=" + name(from) + " --data-dir=" + dir / "a" + " --format=" +
                           format + " --output=- | " + cli() + " import --backend=" + name(to) +
                           " --data-dir=" + dst + " --input=-");
    ASSERT_EQ(piped.exit_code, 0) << piped.err;
    auto out = run_cli("export --backend=" + name(to) + " --data-dir=" + dst + " --output=" + dst + ".json");
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_TRUE(export_body(dst + ".json") == expected_export_body(leases));
  }
}

TEST(CliMigration, EmptyStoreExportsAndImports) {
  ScratchDir dir("empty");
  const auto backend = PersistenceFactory::available_backends().front();
  fill_store(backend, dir / "a", {});
  auto r = run_cli("export --backend=" + name(backend) + " --data-dir=" + dir / "a");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.find('\n') + 1), cli::trailer_json(0) + "\n");
  auto piped = run_shell(cli() + " export --backend=" + name(backend) + " --data-dir=" + dir / "a" + " | " + cli() +
                         " import --backend=" + name(backend) + " --data-dir=" + dir / "b");
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
}

}  // namespace
}  // namespace orbit::cli_test
