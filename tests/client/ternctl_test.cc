// ternctl against a real tern-broker: every command's output, errors, and `ternctl worker`.

#include <gtest/gtest.h>

#include <thread>

#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using testing::BrokerProcess;
using testing::OneTaskProcess;
using testing::ProcessResult;
using testing::RunProcess;
using testing::TempDir;

class TernctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess();
    broker_->Start();
    dir_ = new TempDir();
    testing::WriteFile(dir_->File("order.bpmn"), OneTaskProcess("order", "pack"));
  }
  static void TearDownTestSuite() {
    delete broker_;
    delete dir_;
  }

  static ProcessResult Ternctl(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {TERNCTL_BIN, "--address", broker_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, input, {}, dir_->path());
  }

  // Runs a command that must succeed and print JSON.
  static nlohmann::json Json(std::vector<std::string> args) {
    auto result = Ternctl(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out;
    return json;
  }

  // A command that must fail: one line on stderr, nothing on stdout, exit code 1.
  static std::string Error(std::vector<std::string> args) {
    auto result = Ternctl(args);
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_EQ(result.err.rfind("ternctl: ", 0), 0u) << result.err;
    return result.err;
  }

  static std::string ActivateOneKey(const std::string& type) {
    auto jobs = Json({"activate", "jobs", type, "--maxJobsToActivate", "1"});
    EXPECT_EQ(jobs["jobs"].size(), 1u) << jobs.dump();
    return jobs["jobs"].empty() ? "0" : jobs["jobs"][0]["key"].get<std::string>();
  }

  static BrokerProcess* broker_;
  static TempDir* dir_;
};

BrokerProcess* TernctlTest::broker_ = nullptr;
TempDir* TernctlTest::dir_ = nullptr;

TEST_F(TernctlTest, StatusPrintsTheTopologyAsZbctlDoes) {
  auto result = Ternctl({"status"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "Cluster size: 1\nPartitions count: 1\nReplication factor: 1\nGateway version: 8.6.0\n"
            "Brokers:\n  Broker 0 - 127.0.0.1:" +
                std::to_string(broker_->cluster_port()) +
                "\n    Version: 8.6.0\n    Partition 1 : Leader, Healthy\n");
}

TEST_F(TernctlTest, DeployCreateActivateCompleteRoundTrip) {
  auto deployed = Json({"deploy", "order.bpmn"});
  ASSERT_EQ(deployed["processes"].size(), 1u);
  EXPECT_EQ(deployed["processes"][0]["bpmnProcessId"], "order");
  EXPECT_EQ(deployed["processes"][0]["resourceName"], "order.bpmn");
  EXPECT_TRUE(deployed["key"].is_string());  // int64 as a string, as protojson

  auto resource = Json({"deploy", "resource", "order.bpmn"});
  ASSERT_EQ(resource["deployments"].size(), 1u);
  EXPECT_EQ(resource["deployments"][0]["process"]["bpmnProcessId"], "order");
  EXPECT_EQ(resource["tenantId"], "<default>");

  auto created = Json({"create", "instance", "order", "--variables", R"({"item":"book"})"});
  EXPECT_EQ(created["bpmnProcessId"], "order");
  EXPECT_EQ(created["version"], 1);
  std::string instance = created["processInstanceKey"];

  auto jobs = Json({"activate", "jobs", "pack", "--maxJobsToActivate", "5", "--worker", "w1"});
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  auto job = jobs["jobs"][0];
  EXPECT_EQ(job["processInstanceKey"], instance);
  EXPECT_EQ(job["worker"], "w1");
  EXPECT_EQ(job["variables"], R"({"item":"book"})");
  EXPECT_EQ(job["customHeaders"], "{}");
  EXPECT_EQ(job["retries"], 3);
  EXPECT_TRUE(job["deadline"].is_string());
  std::string key = job["key"];

  auto updated = Ternctl({"update", "timeout", key, "--timeout", "60000"});
  EXPECT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(updated.out, "Updated the timeout of job with key '" + key + "' to '60000'\n");

  auto completed = Ternctl({"complete", "job", key, "--variables", R"({"packed":true})"});
  EXPECT_EQ(completed.exit_code, 0) << completed.err;
  EXPECT_EQ(completed.out,
            "Completed job with key '" + key + "' and variables '{\"packed\":true}'\n");

  auto again = Error({"complete", "job", key});
  EXPECT_NE(again.find("NOT_FOUND: Command 'COMPLETE' rejected"), std::string::npos) << again;
}

TEST_F(TernctlTest, WithResultFailRetriesVariablesCancelAndThrowError) {
  Json({"deploy", "resource", "order.bpmn"});
  // With result: the job is completed by a client worker meanwhile.
  auto client = broker_->NewClient();
  auto worker = client.newWorker()
                    .jobType("pack")
                    .handler([](const ActivatedJob&) {
                      return nlohmann::json{{"packed", 1}};
                    })
                    .open();
  ASSERT_TRUE(worker.ok());
  auto result =
      Json({"create", "instance", "order", "--withResult=packed", "--variables", R"({"a":1})"});
  EXPECT_EQ(result["variables"], R"({"packed":1})");
  worker->close();

  auto created = Json({"create", "instance", "order"});
  std::string instance = created["processInstanceKey"];
  std::string key = ActivateOneKey("pack");
  auto failed = Ternctl(
      {"fail", "job", key, "--retries", "2", "--errorMessage", "boom", "--retryBackoff", "0s"});
  EXPECT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_EQ(failed.out, "Failed job with key '" + key +
                            "' and set remaining retries to '2' and variables '{}' with retry "
                            "backoff '0s'\n");
  auto again = Json({"activate", "jobs", "pack"});
  ASSERT_EQ(again["jobs"].size(), 1u);
  EXPECT_EQ(again["jobs"][0]["retries"], 2);

  auto retries = Ternctl({"update", "retries", key, "--retries", "5"});
  EXPECT_EQ(retries.out, "Updated the retries of job with key '" + key + "' to '5'\n");

  auto set = Ternctl({"set", "variables", instance, "--variables", R"({"b":2})"});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out.rfind("Set the variables of element instance with key '" + instance +
                              "' to '{\"b\":2}' with command '",
                          0),
            0u)
      << set.out;
  auto set_json = Json({"set", "variables", instance, "--variables", R"({"c":3})", "-o", "json"});
  EXPECT_TRUE(set_json["key"].is_string());

  auto thrown = Ternctl({"throwError", "job", key, "--errorCode", "E1", "--errorMessage", "m"});
  EXPECT_EQ(thrown.exit_code, 0) << thrown.err;
  EXPECT_EQ(thrown.out, "Threw error with code 'E1' on job with key " + key + "\n");

  auto other = Json({"create", "instance", "order"});
  std::string other_instance = other["processInstanceKey"];
  auto cancelled = Ternctl({"cancel", "instance", other_instance});
  EXPECT_EQ(cancelled.out, "Canceled process instance with key '" + other_instance + "'\n");
  Error({"cancel", "instance", other_instance});
}

TEST_F(TernctlTest, ErrorsAreOneLineWithNonZeroExit) {
  auto missing = Error({"create", "instance", "no-such-process"});
  EXPECT_EQ(missing,
            "ternctl: NOT_FOUND: Command 'CREATE' rejected with code 'NOT_FOUND': Expected to "
            "find process definition with process ID 'no-such-process', but none found\n");
  Error({"resolve", "incident", "2251799813685249"});
  auto bad_json = Ternctl({"create", "instance", "order", "--variables", "[1,2]"});
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_NE(bad_json.err.find("JSON object"), std::string::npos) << bad_json.err;
  auto usage = Ternctl({"complete"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(std::count(usage.err.begin(), usage.err.end(), '\n'), 1) << usage.err;
  auto unreachable =
      RunProcess({TERNCTL_BIN, "--address", "127.0.0.1:" + std::to_string(testing::FreePort()),
                  "--requestTimeout", "2s", "status"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_EQ(unreachable.err.rfind("ternctl: UNAVAILABLE", 0), 0u) << unreachable.err;
}

TEST_F(TernctlTest, CommandsForRpcsTheBrokerDoesNotImplementYet) {
  // These RPCs answer UNIMPLEMENTED for now; then ternctl reports that as any error. Once they
  // are implemented the success output must be zbctl's.
  auto publish = Ternctl(
      {"publish", "message", "paid", "--correlationKey", "order-1", "--variables", R"({"x":1})"});
  if (publish.exit_code == 0) {
    auto json = nlohmann::json::parse(publish.out);
    EXPECT_TRUE(json["key"].is_string());
    EXPECT_EQ(json["tenantId"], "<default>");
  } else {
    EXPECT_EQ(publish.err,
              "ternctl: UNIMPLEMENTED: Tern does not implement the PublishMessage "
              "RPC yet\n");
  }
  auto signal = Ternctl({"broadcast", "signal", "alarm"});
  if (signal.exit_code == 0) {
    EXPECT_TRUE(nlohmann::json::parse(signal.out)["key"].is_string());
  } else {
    EXPECT_NE(signal.err.find("UNIMPLEMENTED"), std::string::npos) << signal.err;
    EXPECT_NE(signal.err.find("BroadcastSignal"), std::string::npos) << signal.err;
  }
  auto decision = Ternctl({"evaluate", "decision", "no-such-decision"});
  EXPECT_EQ(decision.exit_code, 1);  // unknown decision, or not implemented yet
  EXPECT_TRUE(decision.err.find("UNIMPLEMENTED") != std::string::npos ||
              decision.err.find("INVALID_ARGUMENT") != std::string::npos)
      << decision.err;
  auto deleted = Ternctl({"delete", "resource", "2251799813685249"});
  EXPECT_EQ(deleted.exit_code, 1);  // not a resource key, or not implemented yet
  EXPECT_TRUE(deleted.err.find("UNIMPLEMENTED") != std::string::npos ||
              deleted.err.find("NOT_FOUND") != std::string::npos)
      << deleted.err;
}

TEST_F(TernctlTest, WorkerRunsTheHandlerPerJobAndCompletesWithItsOutput) {
  testing::WriteFile(dir_->File("label.bpmn"), OneTaskProcess("label", "label-job"));
  Json({"deploy", "resource", "label.bpmn"});
  // The handler echoes the job's variables back under "input".
  testing::WriteFile(dir_->File("handler.sh"),
                     "#!/bin/sh\nprintf '{\"input\": %s, \"labelled\": true}' \"$(cat)\"\n");
  std::thread worker([&] {
    auto run = Ternctl(
        {"worker", "--type", "label-job", "--handler", "sh handler.sh", "--max-jobs-handled", "1"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.err.find("completed job"), std::string::npos) << run.err;
  });
  auto result = broker_->NewClient()
                    .newCreateInstanceCommand()
                    .bpmnProcessId("label")
                    .variables({{"parcel", 7}})
                    .withResult()
                    .requestTimeout(std::chrono::seconds(30))
                    .send()
                    .get();
  worker.join();
  ASSERT_TRUE(result.ok()) << result.status();
  auto variables = result->variablesAsJson();
  EXPECT_EQ(variables["labelled"], true);
  EXPECT_EQ(variables["input"], (nlohmann::json{{"parcel", 7}}));
}

TEST_F(TernctlTest, WorkerFailsTheJobWhenTheHandlerExitsNonZero) {
  testing::WriteFile(dir_->File("broken.bpmn"), OneTaskProcess("broken", "broken-job", 3));
  Json({"deploy", "resource", "broken.bpmn"});
  Json({"create", "instance", "broken"});
  auto run = Ternctl({"worker", "--type", "broken-job", "--handler", "echo nope >&2; exit 3",
                      "--max-jobs-handled", "1"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("handler exited with code 3: nope"), std::string::npos) << run.err;
  auto jobs = Json({"activate", "jobs", "broken-job"});
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["retries"], 2);
}

}  // namespace
}  // namespace tern
