// The jsonl exporter: Zeebe's record shape, acknowledgement after flush, rotation by size.

#include "exporter/jsonl_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "exporter/record_json.h"
#include "tests/engine/engine_harness.h"
#include "tests/engine/models.h"

namespace tern::exporter {
namespace {

namespace fs = std::filesystem;
using engine::testing::EngineHarness;

class FakeController : public Controller {
 public:
  void AcknowledgePosition(int64_t position) override {
    acknowledged = std::max(acknowledged, position);
  }
  int64_t acknowledged_position() const override { return acknowledged; }
  int64_t acknowledged = 0;
};

std::vector<nlohmann::json> ReadLines(const fs::path& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(RecordJsonTest, HasZeebesShape) {
  EngineHarness h;
  h.Deploy("one-task.bpmn", engine::models::kOneTask);
  h.CreateInstance("one-task", R"({"order": {"id": 7}})");
  auto jobs = h.ActivateJobs("work").job_batch().job_keys();
  ASSERT_EQ(jobs.size(), 1);
  const auto records = h.Records();
  bool saw_activated = false, saw_job = false;
  for (const auto& record : records) {
    auto json = RecordJson(record);
    EXPECT_EQ(json["position"], record.position());
    EXPECT_EQ(json["key"], record.key());
    EXPECT_TRUE(json["intent"].is_string());
    EXPECT_TRUE(json["valueType"].is_string());
    EXPECT_TRUE(json["recordType"].is_string());
    if (json["valueType"] == "PROCESS_INSTANCE" && json["intent"] == "ELEMENT_ACTIVATED" &&
        json["value"]["elementId"] == "task") {
      saw_activated = true;
      EXPECT_EQ(json["recordType"], "EVENT");
      EXPECT_EQ(json["value"]["bpmnProcessId"], "one-task");
      EXPECT_EQ(json["value"]["bpmnElementType"], "SERVICE_TASK");
      EXPECT_TRUE(json["value"]["processInstanceKey"].is_number_integer());
    }
    if (json["valueType"] == "JOB" && json["intent"] == "CREATED") {
      saw_job = true;
      EXPECT_EQ(json["value"]["type"], "work");
      EXPECT_EQ(json["value"]["customHeaders"]["priority"], "high");
    }
  }
  EXPECT_TRUE(saw_activated);
  EXPECT_TRUE(saw_job);
}

TEST(JsonlExporterTest, WritesOneLinePerRecordAcknowledgesAfterFlushAndRotates) {
  const fs::path dir = fs::temp_directory_path() / StrCat("tern-jsonl-test-", getpid());
  fs::remove_all(dir);
  EngineHarness h;
  h.Deploy("one-task.bpmn", engine::models::kOneTask);
  for (int i = 0; i < 20; ++i) h.CreateInstance("one-task");
  const auto records = h.Records();

  JsonlExporter exporter;
  ExporterContext context;
  context.spec = {"audit",
                  "jsonl",
                  {{"path", (dir / "p{partition}.jsonl").string()},
                   {"max-bytes", "4096"},
                   {"max-files", "100"}}};
  context.partition_id = 3;
  ASSERT_TRUE(exporter.Configure(context).ok());
  EXPECT_EQ(exporter.path(), (dir / "p3.jsonl").string());
  FakeController controller;
  ASSERT_TRUE(exporter.Open(&controller).ok());
  for (const auto& record : records) ASSERT_TRUE(exporter.Export(record).ok());
  // Rotations flush what they rotate away, but the tail is acknowledged only by Flush.
  EXPECT_LT(controller.acknowledged, records.back().position());
  ASSERT_TRUE(exporter.Flush().ok());
  EXPECT_EQ(controller.acknowledged, records.back().position());
  exporter.Close();

  // All files together, oldest first, hold every record once, in order.
  std::vector<nlohmann::json> lines;
  for (int i = 100; i >= 1; --i) {
    fs::path rotated = dir / StrCat("p3.jsonl.", i);
    if (!fs::exists(rotated)) continue;
    EXPECT_LE(fs::file_size(rotated), 4096u + 2048u);
    for (auto& line : ReadLines(rotated)) lines.push_back(std::move(line));
  }
  ASSERT_TRUE(fs::exists(dir / "p3.jsonl.1"));
  for (auto& line : ReadLines(dir / "p3.jsonl")) lines.push_back(std::move(line));
  ASSERT_EQ(lines.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i)
    EXPECT_EQ(lines[i]["position"], records[i].position());
  fs::remove_all(dir);
}

TEST(JsonlExporterTest, RejectsUnknownSettings) {
  JsonlExporter exporter;
  ExporterContext context;
  context.spec = {"audit", "jsonl", {{"pth", "/tmp/x"}}};
  EXPECT_FALSE(exporter.Configure(context).ok());
  EXPECT_FALSE(CreateExporter("elasticsearch").ok());
}

}  // namespace
}  // namespace tern::exporter
