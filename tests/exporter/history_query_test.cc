// The search API's query layer on a real SQLite history store, filled by the real HistoryStore
// from the records of a real engine: filters, sorts, paging by offset and by cursor both ways,
// get by key, XML, element statistics, and 400s naming the bad field.

#include "exporter/history_query.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/strings.h"
#include "exporter/history_store.h"
#include "exporter/sql.h"
#include "tests/engine/engine_harness.h"
#include "tests/engine/models.h"
#include "tests/exporter/postgres_server.h"

namespace tern::exporter {
namespace {

namespace fs = std::filesystem;
using engine::testing::EngineHarness;
using json = nlohmann::json;

constexpr int kInstances = 12;
constexpr int64_t kStartMs = 1'700'000'000'000;

class HistoryQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new fs::path(fs::temp_directory_path() /
                         StrCat("tern-history-query-test-", getpid(), ".db"));
    Remove();
    // 12 one-task instances started a second apart with {"n": i, "name": "order-i"}: 5 jobs are
    // activated, 4 complete, the 5th fails into an incident; another instance is cancelled, the
    // rest wait.
    EngineHarness h;
    ASSERT_EQ(h.Deploy("one-task.bpmn", engine::models::kOneTask).record_type(), record::EVENT);
    ASSERT_EQ(h.Deploy("parallel.bpmn", engine::models::kParallel).record_type(), record::EVENT);
    for (int i = 0; i < kInstances; ++i) {
      h.AdvanceTime(1'000);
      instances_.push_back(
          h.CreateInstance("one-task", StrCat(R"({"n": )", i, R"(, "name": "order-)", i, R"("})"))
              .process_instance_creation()
              .process_instance_key());
    }
    h.AdvanceTime(1'000);
    auto batch = h.ActivateJobs("work", 5).job_batch();
    ASSERT_EQ(batch.job_keys_size(), 5);
    for (int i = 0; i < 4; ++i) {
      h.CompleteJob(batch.job_keys(i));
      completed_.insert(batch.jobs(i).process_instance_key());
    }
    h.FailJob(batch.job_keys(4), 0, "no retries left");
    incident_ = batch.jobs(4).process_instance_key();
    std::set<int64_t> activated = completed_;
    activated.insert(incident_);
    for (int i = 0; i < kInstances; ++i) {
      if (activated.contains(instances_[i])) continue;
      if (cancelled_ == 0) {
        cancelled_ = instances_[i];
      } else if (waiting_index_ < 0) {
        waiting_index_ = i;
      }
    }
    h.Cancel(cancelled_);
    h.CreateInstance("parallel");

    auto connection = OpenSqlite(path_->string());
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto store = HistoryStore::Open(*std::move(connection), 1);
    ASSERT_TRUE(store.ok()) << store.status();
    records_ = h.Records();
    for (const auto& record : records_) ASSERT_TRUE((*store)->Apply(record).ok());
    ASSERT_TRUE((*store)->Commit().ok());
  }
  static void TearDownTestSuite() {
    Remove();
    delete path_;
    path_ = nullptr;
  }
  static void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_->string() + suffix);
  }

  void SetUp() override {
    // A reader of its own, as the broker's search thread has.
    auto connection = OpenSqlite(path_->string());
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto query = HistoryQuery::Open(*std::move(connection));
    ASSERT_TRUE(query.ok()) << query.status();
    query_ = *std::move(query);
  }

  json Search(std::string_view entity, const json& request) {
    auto answer = query_->Search(entity, request);
    EXPECT_TRUE(answer.ok()) << answer.status() << " for " << request.dump();
    return answer.ok() ? *answer : json::object();
  }
  // The 400 message for a bad request; empty when it was not refused as INVALID_ARGUMENT.
  std::string Refusal(std::string_view entity, const json& request) {
    auto answer = query_->Search(entity, request);
    if (answer.status().code() != absl::StatusCode::kInvalidArgument) return "";
    return std::string(answer.status().message());
  }
  static std::vector<std::string> Keys(const json& answer, const std::string& field) {
    std::vector<std::string> keys;
    if (!answer.contains("items") || !answer["items"].is_array()) return keys;
    for (const auto& item : answer["items"]) keys.push_back(item.value(field, ""));
    return keys;
  }

  // The instances active, without incident, in key order.
  static std::vector<std::string> ActiveKeys() {
    std::vector<std::string> keys;
    for (int64_t key : instances_) {
      if (!completed_.contains(key) && key != cancelled_) keys.push_back(std::to_string(key));
    }
    return keys;
  }

  static fs::path* path_;
  static std::vector<record::Record> records_;
  static std::vector<int64_t> instances_;
  static std::set<int64_t> completed_;
  static int64_t incident_;
  static int64_t cancelled_;
  static int waiting_index_;  // an instance whose job was never activated
  std::unique_ptr<HistoryQuery> query_;
};

fs::path* HistoryQueryTest::path_ = nullptr;
std::vector<record::Record> HistoryQueryTest::records_;
std::vector<int64_t> HistoryQueryTest::instances_;
std::set<int64_t> HistoryQueryTest::completed_;
int64_t HistoryQueryTest::incident_ = 0;
int64_t HistoryQueryTest::cancelled_ = 0;
int HistoryQueryTest::waiting_index_ = -1;

TEST_F(HistoryQueryTest, ProcessInstancesByStateAndDefinition) {
  json active = Search("process-instances",
                       {{"filter", {{"processDefinitionId", "one-task"}, {"state", "ACTIVE"}}}});
  // 12 - 4 completed - 1 cancelled; the one with the incident is still active.
  EXPECT_EQ(active["page"]["totalItems"], 7);
  EXPECT_EQ(active["page"]["hasMoreTotalItems"], false);
  ASSERT_EQ(active["items"].size(), 7u);
  const json& first = active["items"][0];
  EXPECT_EQ(first["processDefinitionId"], "one-task");
  EXPECT_EQ(first["processDefinitionVersion"], 1);
  EXPECT_EQ(first["state"], "ACTIVE");
  EXPECT_EQ(first["tenantId"], "<default>");
  EXPECT_TRUE(first["startDate"].get<std::string>().ends_with("Z"));
  EXPECT_FALSE(first.contains("endDate"));
  EXPECT_FALSE(first.contains("parentProcessInstanceKey"));

  json incidents = Search("process-instances", {{"filter", {{"hasIncident", true}}}});
  ASSERT_EQ(incidents["items"].size(), 1u);
  EXPECT_EQ(incidents["items"][0]["processInstanceKey"], std::to_string(incident_));

  json ended = Search("process-instances",
                      {{"filter", {{"state", {{"$in", {"COMPLETED", "TERMINATED"}}}}}}});
  EXPECT_EQ(ended["page"]["totalItems"], 5);
  for (const auto& item : ended["items"]) EXPECT_TRUE(item.contains("endDate"));

  // By variables (each entry must hold) and by an incident's message.
  json by_variable =
      Search("process-instances",
             {{"filter",
               {{"variables", json::array({{{"name", "name"}, {"value", {{"$like", "*order-1*"}}}},
                                           {{"name", "n"}, {"value", {{"$neq", "1"}}}}})}}}});
  EXPECT_EQ(
      Keys(by_variable, "processInstanceKey"),
      (std::vector<std::string>{std::to_string(instances_[10]), std::to_string(instances_[11])}));
  json by_message =
      Search("process-instances", {{"filter", {{"errorMessage", {{"$like", "no retries*"}}}}}});
  EXPECT_EQ(Keys(by_message, "processInstanceKey"),
            std::vector<std::string>{std::to_string(incident_)});

  json like =
      Search("process-instances", {{"filter", {{"processDefinitionId", {{"$like", "one-*"}}}}}});
  EXPECT_EQ(like["page"]["totalItems"], kInstances);
  const json after_ninth = {{"$gt", std::to_string(instances_[9])}};
  json by_key = Search(
      "process-instances",
      {{"filter", {{"processInstanceKey", after_ninth}, {"processDefinitionId", "one-task"}}}});
  EXPECT_EQ(
      Keys(by_key, "processInstanceKey"),
      (std::vector<std::string>{std::to_string(instances_[10]), std::to_string(instances_[11])}));
  // Dates: instances started at kStartMs + (i + 1) s.
  json started =
      Search("process-instances", {{"filter",
                                    {{"startDate",
                                      {{"$gte", base::FormatIsoMillisUtc(kStartMs + 3'000)},
                                       {"$lt", base::FormatIsoMillisUtc(kStartMs + 6'000)}}}}}});
  EXPECT_EQ(Keys(started, "processInstanceKey"),
            (std::vector<std::string>{std::to_string(instances_[2]), std::to_string(instances_[3]),
                                      std::to_string(instances_[4])}));
}

TEST_F(HistoryQueryTest, SortsAndPagesByOffsetAndCursorsBothWays) {
  const json filter = {{"processDefinitionId", "one-task"}};
  const json sort = json::array({{{"field", "startDate"}, {"order", "DESC"}}});
  json all = Search("process-instances", {{"filter", filter}, {"sort", sort}});
  std::vector<std::string> expected;
  for (int i = kInstances - 1; i >= 0; --i) expected.push_back(std::to_string(instances_[i]));
  ASSERT_EQ(Keys(all, "processInstanceKey"), expected);

  // Forward by endCursor, pages of 5: 5, 5, 2, then an empty page.
  std::vector<std::string> walked;
  json page = {{"limit", 5}};
  std::vector<json> answers;
  for (int i = 0; i < 4; ++i) {
    json answer = Search("process-instances", {{"filter", filter}, {"sort", sort}, {"page", page}});
    EXPECT_EQ(answer["page"]["totalItems"], kInstances);
    answers.push_back(answer);
    for (const auto& key : Keys(answer, "processInstanceKey")) walked.push_back(key);
    if (answer["items"].empty()) {
      EXPECT_FALSE(answer["page"].contains("endCursor"));
      break;
    }
    page = {{"limit", 5}, {"after", answer["page"]["endCursor"]}};
  }
  EXPECT_EQ(walked, expected);
  ASSERT_GE(answers.size(), 3u);
  EXPECT_EQ(answers[2]["items"].size(), 2u);

  // Backward from the third page's startCursor: the second page again.
  json back = Search("process-instances",
                     {{"filter", filter},
                      {"sort", sort},
                      {"page", {{"limit", 5}, {"before", answers[2]["page"]["startCursor"]}}}});
  EXPECT_EQ(Keys(back, "processInstanceKey"), Keys(answers[1], "processInstanceKey"));

  // Offset.
  json offset =
      Search("process-instances",
             {{"filter", filter}, {"sort", sort}, {"page", {{"from", 10}, {"limit", 5}}}});
  EXPECT_EQ(Keys(offset, "processInstanceKey"),
            (std::vector<std::string>{expected[10], expected[11]}));

  // Two sort fields: state ascending, then key descending within a state.
  json by_state = Search(
      "process-instances",
      {{"filter", filter},
       {"sort",
        json::array({{{"field", "state"}}, {{"field", "processInstanceKey"}, {"order", "desc"}}})},
       {"page", {{"limit", 3}}}});
  std::vector<std::string> active = ActiveKeys();
  ASSERT_EQ(active.size(), 7u);
  EXPECT_EQ(Keys(by_state, "processInstanceKey"),
            (std::vector<std::string>{active[6], active[5], active[4]}));
  json next = Search("process-instances",
                     {{"filter", filter},
                      {"sort", json::array({{{"field", "state"}},
                                            {{"field", "processInstanceKey"}, {"order", "desc"}}})},
                      {"page", {{"limit", 10}, {"after", by_state["page"]["endCursor"]}}}});
  EXPECT_EQ(Keys(next, "processInstanceKey").size(), 9u);
  EXPECT_EQ(next["items"][3]["state"], "ACTIVE");  // the last of the 7 active
  EXPECT_EQ(next["items"][4]["state"], "COMPLETED");
}

TEST_F(HistoryQueryTest, BadFieldsAreRefusedNamingTheField) {
  EXPECT_NE(Refusal("process-instances", {{"filter", {{"nope", 1}}}}).find("'filter.nope'"),
            std::string::npos);
  EXPECT_NE(Refusal("process-instances", {{"filter", {{"elementId", "task"}}}})
                .find("'filter.elementId'"),
            std::string::npos);
  EXPECT_NE(
      Refusal("process-instances", {{"filter", {{"variables", json::array({{{"nam", "n"}}})}}}})
          .find("'filter.variables[0].nam'"),
      std::string::npos);
  EXPECT_NE(Refusal("process-instances", {{"filter", {{"state", {{"$regex", "A"}}}}}})
                .find("'filter.state.$regex'"),
            std::string::npos);
  EXPECT_NE(Refusal("process-instances", {{"filter", {{"processInstanceKey", "abc"}}}})
                .find("'filter.processInstanceKey'"),
            std::string::npos);
  EXPECT_NE(Refusal("process-instances", {{"filter", {{"startDate", "yesterday"}}}})
                .find("'filter.startDate'"),
            std::string::npos);
  EXPECT_NE(
      Refusal("process-instances", {{"sort", json::array({{{"field", "color"}}})}}).find("'color'"),
      std::string::npos);
  EXPECT_NE(
      Refusal("process-instances", {{"sort", json::array({{{"field", "state"}, {"order", "UP"}}})}})
          .find("'sort[0].order'"),
      std::string::npos);
  EXPECT_NE(Refusal("jobs", {{"page", {{"limit", 0}}}}).find("'page.limit'"), std::string::npos);
  EXPECT_NE(
      Refusal("jobs", {{"page", {{"limit", HistoryQuery::kMaxPageSize + 1}}}}).find("'page.limit'"),
      std::string::npos);
  EXPECT_NE(Refusal("jobs", {{"page", {{"after", "bm90IGEgY3Vyc29y"}}}}).find("'page.after'"),
            std::string::npos);
  EXPECT_NE(Refusal("jobs", {{"page", {{"after", "!!"}}}}).find("'page.after'"), std::string::npos);
  EXPECT_NE(Refusal("jobs", {{"page", {{"from", 1}, {"after", "W10="}}}}).find("page"),
            std::string::npos);
  EXPECT_NE(Refusal("jobs", {{"filters", json::object()}}).find("'filters'"), std::string::npos);
  // More values than a statement may carry is the client's error, not the store's.
  json many = json::array();
  for (int i = 1; i <= 1'000; ++i) many.push_back(i);
  EXPECT_NE(
      Refusal("process-instances", {{"filter",
                                     {{"processInstanceKey", {{"$in", many}}},
                                      {"processDefinitionKey", {{"$in", many}}},
                                      {"processDefinitionId", {{"$in", json::array({"a"})}}}}}})
          .find("at most 2000"),
      std::string::npos);
  // A cursor of one sort is no cursor of another.
  json by_type = Search("jobs", {{"sort", json::array({{{"field", "type"}}})}});
  ASSERT_TRUE(by_type["page"].contains("endCursor"));
  EXPECT_NE(Refusal("jobs", {{"page", {{"after", by_type["page"]["endCursor"]}}}}).find("cursor"),
            std::string::npos);
  EXPECT_EQ(query_->Search("no-such-things", json::object()).status().code(),
            absl::StatusCode::kNotFound);
  // A filter value is a parameter, never SQL.
  json injected = Search("variables", {{"filter", {{"name", "n' OR '1'='1"}}}});
  EXPECT_EQ(injected["page"]["totalItems"], 0);
}

TEST_F(HistoryQueryTest, GetByKeyXmlAndStatistics) {
  auto instance = query_->Get("process-instances", *completed_.begin());
  ASSERT_TRUE(instance.ok()) << instance.status();
  EXPECT_EQ((*instance)["state"], "COMPLETED");
  const std::string definition_key = (*instance)["processDefinitionKey"];
  EXPECT_EQ(query_->Get("process-instances", 42).status().code(), absl::StatusCode::kNotFound);

  auto definition = query_->Get("process-definitions", std::stoll(definition_key));
  ASSERT_TRUE(definition.ok()) << definition.status();
  EXPECT_EQ((*definition)["processDefinitionId"], "one-task");
  EXPECT_EQ((*definition)["version"], 1);
  EXPECT_EQ((*definition)["resourceName"], "one-task.bpmn");
  auto xml = query_->ProcessDefinitionXml(std::stoll(definition_key));
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_NE(xml->find("<bpmn:process id=\"one-task\""), std::string::npos);
  EXPECT_EQ(query_->ProcessDefinitionXml(42).status().code(), absl::StatusCode::kNotFound);
  json latest = Search("process-definitions", {{"filter", {{"isLatestVersion", true}}}});
  EXPECT_EQ(latest["page"]["totalItems"], 2);

  // Per element of the definition: start events all completed; the task: 4 completed, 1 with
  // an incident, 1 cancelled, 6 active; the end event: 4 completed.
  auto statistics =
      query_->ProcessDefinitionElementStatistics(std::stoll(definition_key), json::object());
  ASSERT_TRUE(statistics.ok()) << statistics.status();
  std::map<std::string, json> by_element;
  for (const auto& item : (*statistics)["items"]) by_element[item["elementId"]] = item;
  EXPECT_EQ(by_element["start"]["completed"], kInstances);
  EXPECT_EQ(by_element["task"]["active"], 6);
  EXPECT_EQ(by_element["task"]["incidents"], 1);
  EXPECT_EQ(by_element["task"]["completed"], 4);
  EXPECT_EQ(by_element["task"]["canceled"], 1);
  EXPECT_EQ(by_element["end"]["completed"], 4);
  // Only the instances a filter selects.
  auto filtered = query_->ProcessDefinitionElementStatistics(
      std::stoll(definition_key), {{"filter", {{"state", "COMPLETED"}}}});
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  for (const auto& item : (*filtered)["items"]) {
    if (item["elementId"] == "task") {
      EXPECT_EQ(item["active"], 0);
    }
  }
  EXPECT_EQ(query_
                ->ProcessDefinitionElementStatistics(std::stoll(definition_key),
                                                     {{"filter", {{"bogus", 1}}}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto one = query_->ProcessInstanceElementStatistics(incident_);
  ASSERT_TRUE(one.ok()) << one.status();
  for (const auto& item : (*one)["items"]) {
    if (item["elementId"] == "task") {
      EXPECT_EQ(item["incidents"], 1);
    }
  }
}

TEST_F(HistoryQueryTest, ElementInstancesVariablesIncidentsAndJobs) {
  ASSERT_GE(waiting_index_, 0);
  const std::string waiting = std::to_string(instances_[waiting_index_]);
  json elements = Search("element-instances", {{"filter", {{"processInstanceKey", waiting}}}});
  ASSERT_EQ(elements["items"].size(), 2u);  // start (completed) and task (active)
  EXPECT_EQ(elements["items"][0]["type"], "START_EVENT");
  EXPECT_EQ(elements["items"][1]["elementId"], "task");
  EXPECT_EQ(elements["items"][1]["type"], "SERVICE_TASK");
  EXPECT_EQ(elements["items"][1]["state"], "ACTIVE");
  EXPECT_EQ(elements["items"][1]["hasIncident"], false);
  auto element =
      query_->Get("element-instances",
                  std::stoll(elements["items"][1]["elementInstanceKey"].get<std::string>()));
  ASSERT_TRUE(element.ok());
  EXPECT_EQ((*element)["elementId"], "task");

  json variables = Search("variables", {{"filter", {{"processInstanceKey", waiting}}},
                                        {"sort", json::array({{{"field", "name"}}})}});
  ASSERT_EQ(variables["items"].size(), 2u);
  EXPECT_EQ(variables["items"][0]["name"], "n");
  EXPECT_EQ(variables["items"][0]["value"], std::to_string(waiting_index_));
  EXPECT_EQ(variables["items"][0]["isTruncated"], false);
  EXPECT_EQ(variables["items"][1]["value"], StrCat("\"order-", waiting_index_, "\""));
  json named =
      Search("variables", {{"filter", {{"name", "name"}, {"value", {{"$like", "*order-1*"}}}}}});
  EXPECT_EQ(named["page"]["totalItems"], 3);  // order-1, order-10, order-11

  json incidents = Search("incidents", {{"filter", {{"state", "ACTIVE"}}}});
  ASSERT_EQ(incidents["items"].size(), 1u);
  EXPECT_EQ(incidents["items"][0]["errorType"], "JOB_NO_RETRIES");
  EXPECT_EQ(incidents["items"][0]["errorMessage"], "no retries left");
  EXPECT_EQ(incidents["items"][0]["processInstanceKey"], std::to_string(incident_));
  EXPECT_EQ(incidents["items"][0]["elementId"], "task");

  json jobs = Search("jobs", {{"filter", {{"type", "work"}}}});
  EXPECT_EQ(jobs["page"]["totalItems"], kInstances);
  json completed = Search("jobs", {{"filter", {{"state", "COMPLETED"}}}});
  EXPECT_EQ(completed["page"]["totalItems"], 4);
  json failed = Search("jobs", {{"filter", {{"state", "FAILED"}}}});
  ASSERT_EQ(failed["items"].size(), 1u);
  EXPECT_EQ(failed["items"][0]["retries"], 0);
  EXPECT_EQ(failed["items"][0]["hasFailedWithRetriesLeft"], false);
  EXPECT_EQ(failed["items"][0]["customHeaders"]["priority"], "high");
  EXPECT_EQ(failed["items"][0]["kind"], "BPMN_ELEMENT");
}

TEST_F(HistoryQueryTest, ProgressPerPartition) {
  auto progress = query_->Progress();
  ASSERT_TRUE(progress.ok()) << progress.status();
  ASSERT_EQ(progress->size(), 1u);
  EXPECT_EQ((*progress)[0].partition_id, 1);
  EXPECT_GT((*progress)[0].position, 0);
}

// The same records in a real PostgreSQL store (Debian's postgresql-15, started by the test):
// every search, get, XML and statistics answers exactly as on SQLite.
TEST_F(HistoryQueryTest, PostgresqlAnswersAsSqlite) {
  auto server = tern::testing::PostgresServer::Shared();
  ASSERT_TRUE(server.ok()) << server.status();
  auto url = (*server)->CreateDatabase(StrCat("history_query_", getpid()));
  ASSERT_TRUE(url.ok()) << url.status();
  {
    auto connection = OpenPostgresql(*url);
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto store = HistoryStore::Open(*std::move(connection), 1);
    ASSERT_TRUE(store.ok()) << store.status();
    for (const auto& record : records_) ASSERT_TRUE((*store)->Apply(record).ok());
    ASSERT_TRUE((*store)->Commit().ok());
  }
  auto connection = OpenPostgresql(*url);
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto postgres = HistoryQuery::Open(*std::move(connection));
  ASSERT_TRUE(postgres.ok()) << postgres.status();

  const json one_task = {{"processDefinitionId", "one-task"}};
  const std::vector<std::pair<std::string, json>> searches = {
      {"process-instances", json::object()},
      {"process-instances", {{"filter", {{"state", "ACTIVE"}, {"hasIncident", false}}}}},
      {"process-instances",
       {{"filter", one_task},
        {"sort", json::array({{{"field", "startDate"}, {"order", "DESC"}}})},
        {"page", {{"limit", 5}}}}},
      {"process-instances",
       {{"filter",
         {{"variables", json::array({{{"name", "name"}, {"value", {{"$like", "*order-1*"}}}}})}}}}},
      {"process-instances", {{"filter", {{"errorMessage", "no retries left"}}}}},
      {"process-instances",
       {{"sort", json::array({{{"field", "state"}}, {{"field", "endDate"}, {"order", "DESC"}}})},
        {"page", {{"from", 3}, {"limit", 4}}}}},
      {"process-definitions", {{"filter", {{"isLatestVersion", true}}}}},
      {"element-instances",
       {{"filter", {{"type", {{"$in", {"SERVICE_TASK", "END_EVENT"}}}}}},
        {"sort", json::array({{{"field", "elementId"}}})}}},
      {"variables", {{"filter", {{"name", {{"$neq", "n"}}}}}, {"page", {{"limit", 3}}}}},
      {"incidents", json::object()},
      {"jobs", {{"sort", json::array({{{"field", "state"}, {"order", "DESC"}}})}}},
      {"decision-definitions", json::object()},
  };
  for (const auto& [entity, request] : searches) {
    json expected = Search(entity, request);
    auto answer = (*postgres)->Search(entity, request);
    ASSERT_TRUE(answer.ok()) << answer.status() << " for " << entity << " " << request.dump();
    EXPECT_EQ(*answer, expected) << entity << " " << request.dump();
    // The next page by cursor, too.
    if (!expected["page"].contains("endCursor")) continue;
    json next = request;
    next["page"] = {{"limit", 3}, {"after", expected["page"]["endCursor"]}};
    auto next_answer = (*postgres)->Search(entity, next);
    ASSERT_TRUE(next_answer.ok()) << next_answer.status();
    EXPECT_EQ(*next_answer, Search(entity, next)) << entity << " " << next.dump();
  }
  EXPECT_EQ((*postgres)->Search("jobs", {{"filter", {{"speed", 1}}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto definition = query_->Get("process-instances", incident_);
  ASSERT_TRUE(definition.ok());
  const int64_t definition_key =
      std::stoll((*definition)["processDefinitionKey"].get<std::string>());
  auto statistics = (*postgres)->ProcessDefinitionElementStatistics(
      definition_key, {{"filter", {{"state", "ACTIVE"}}}});
  ASSERT_TRUE(statistics.ok()) << statistics.status();
  EXPECT_EQ(*statistics, *query_->ProcessDefinitionElementStatistics(
                             definition_key, {{"filter", {{"state", "ACTIVE"}}}}));
  auto xml = (*postgres)->ProcessDefinitionXml(definition_key);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_EQ(*xml, *query_->ProcessDefinitionXml(definition_key));
  auto instance = (*postgres)->Get("process-instances", incident_);
  ASSERT_TRUE(instance.ok()) << instance.status();
  EXPECT_EQ(*instance, *definition);
}

}  // namespace
}  // namespace tern::exporter
