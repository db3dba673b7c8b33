// Exporter settings of the broker (docs/exporters.md): history on by default in SQLite under the
// data directory, `--history` / TERN_HISTORY / `history:` choose or turn it off (PostgreSQL
// URLs too; a URL libpq cannot parse stops the broker without showing its password),
// `--export-jsonl` and `exporters:` in the YAML file add more.

#include "broker/exporter_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "broker/config.h"

namespace tern::broker {
namespace {

absl::StatusOr<BrokerConfig> Load(std::vector<std::string> args) {
  args.insert(args.begin(), "tern-broker");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return LoadBrokerConfig(static_cast<int>(argv.size()), argv.data());
}

TEST(BrokerExporterConfig, HistoryIsOnByDefaultInSqliteUnderTheDataDirectory) {
  auto config = Load({"--data-dir", "/var/lib/tern"});
  ASSERT_TRUE(config.ok()) << config.status();
  auto options = ExporterOptionsFor(*config);
  ASSERT_EQ(options.exporters.size(), 1u);
  EXPECT_EQ(options.exporters[0].id, "history");
  EXPECT_EQ(options.exporters[0].type, "sql");
  EXPECT_EQ(options.data_dir, "/var/lib/tern");
}

TEST(BrokerExporterConfig, HistoryFlagEnvironmentAndFile) {
  auto none = Load({"--history", "none"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(ExporterOptionsFor(*none).exporters.empty());

  auto sqlite = Load({"--history", "sqlite:/tmp/elsewhere.db"});
  ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  EXPECT_EQ(ExporterOptionsFor(*sqlite).exporters.at(0).args.at("url"), "sqlite:/tmp/elsewhere.db");

  ::setenv("TERN_HISTORY", "none", 1);
  auto from_environment = Load({});
  ::unsetenv("TERN_HISTORY");
  ASSERT_TRUE(from_environment.ok()) << from_environment.status();
  EXPECT_TRUE(ExporterOptionsFor(*from_environment).exporters.empty());

  std::string file = ::testing::TempDir() + "/tern_config_history.yaml";
  std::ofstream(file) << "history: none\n";
  auto from_file = Load({"--config", file});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_TRUE(ExporterOptionsFor(*from_file).exporters.empty());
}

TEST(BrokerExporterConfig, PostgresqlUrlsAreTakenAndBadUrlsAreRefused) {
  for (const char* url : {"postgresql://tern:secret@db:5432/tern",
                          "postgres://tern:secret@db/tern?sslmode=require"}) {
    auto postgres = Load({"--history", url});
    ASSERT_TRUE(postgres.ok()) << postgres.status();
    auto options = ExporterOptionsFor(*postgres);
    ASSERT_EQ(options.exporters.size(), 1u);
    EXPECT_EQ(options.exporters[0].args.at("url"), url);
  }
  auto unparsable = Load({"--history", "postgresql://tern:secret@db/tern?no_such_option=1"});
  ASSERT_FALSE(unparsable.ok());
  EXPECT_EQ(unparsable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(unparsable.status().message()).find("no_such_option"), std::string::npos);
  EXPECT_EQ(std::string(unparsable.status().message()).find("secret"), std::string::npos);
  auto bad = Load({"--history", "mysql://x"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BrokerExporterConfig, JsonlFromFlagAndExportersFromTheFile) {
  std::string file = ::testing::TempDir() + "/tern_config_exporters.yaml";
  std::ofstream(file) << "history: none\n"
                         "exporters:\n"
                         "  audit:\n"
                         "    type: jsonl\n"
                         "    path: /tmp/audit-{partition}.jsonl\n"
                         "    max-bytes: 64MiB\n";
  auto config = Load({"--config", file, "--export-jsonl", "-"});
  ASSERT_TRUE(config.ok()) << config.status();
  auto options = ExporterOptionsFor(*config);
  ASSERT_EQ(options.exporters.size(), 2u);
  EXPECT_EQ(options.exporters[0].id, "jsonl");
  EXPECT_EQ(options.exporters[0].args.at("path"), "-");
  EXPECT_EQ(options.exporters[1].id, "audit");
  EXPECT_EQ(options.exporters[1].type, "jsonl");
  EXPECT_EQ(options.exporters[1].args.at("max-bytes"), "64MiB");

  std::ofstream(file) << "exporters:\n  audit:\n    type: jsonl\n    colour: blue\n";
  auto unknown = Load({"--config", file});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(std::string(unknown.status().message()).find("exporter 'audit'"), std::string::npos);
  std::ofstream(file) << "exporters:\n  history:\n    type: jsonl\n";
  EXPECT_FALSE(Load({"--config", file}).ok());  // the id of the history store
}

}  // namespace
}  // namespace tern::broker
