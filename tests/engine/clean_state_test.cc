// Clean state: every instance that ends, by completing or by being cancelled, leaves nothing
// behind. For each BPMN model of the compat suite the test drives instances as far as a generic
// driver can (jobs of every literal type completed, every message published, every signal
// broadcast, time moved on by a day per round), cancels what is still running, and then expects
// every column family empty except an allow-list of what deployments own (definitions, their
// start-event subscriptions and timers, the key generator); those may not grow past their size
// right after deploy. A leak here is state that grows with every instance in production.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine_harness.h"

namespace tern::engine {
namespace {

using testing::EngineHarness;

const std::filesystem::path kModels = TERN_ELEMENT_MODELS_DIR;
// Variables that let the models' gateways and correlation keys resolve.
constexpr char kVariables[] =
    R"({"orderId": "o-1", "a": 1, "b": 1, "size": "small", "choice": "chosen", "amount": 100,
        "items": [1, 2, 3], "y": 1})";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> Matches(const std::string& text, const std::string& pattern) {
  std::set<std::string> found;
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    found.insert((*it)[1].str());
  }
  return found;
}

// What a deployment owns and keeps after its instances end. A timer start event's timer may also
// go away (a date fires once), so these are checked for growth, not for equality.
bool OwnedByDeployments(state::ColumnFamily cf) {
  using CF = state::ColumnFamily;
  switch (cf) {
    case CF::kMeta:
    case CF::kProcessByKey:
    case CF::kProcessKeyByIdAndVersion:
    case CF::kLatestProcessVersion:
    case CF::kProcessVersionHighWater:
    case CF::kDeletedResource:
    case CF::kMessageStartSubscription:
    case CF::kSignalSubscription:  // signal start events; catch events' entries must not pile up
    case CF::kSignalSubscriptionByOwner:
    case CF::kTimer:  // timer start events
    case CF::kTimerByOwner:
    case CF::kDecisionByKey:
    case CF::kLatestDecision:
    case CF::kDecisionKeyByIdAndVersion:
    case CF::kDecisionRequirementsByKey:
    case CF::kLatestDecisionRequirements:
    case CF::kProcessKeyByIdAndDeployment:
    case CF::kProcessKeyByIdAndVersionTag:
    case CF::kDecisionKeyByIdAndDeployment:
    case CF::kDecisionKeyByIdAndVersionTag:
    case CF::kFormByKey:
    case CF::kLatestForm:
    case CF::kFormKeyByIdAndVersion:
    case CF::kFormKeyByIdAndDeployment:
    case CF::kFormKeyByIdAndVersionTag:
      return true;
    default:
      return false;
  }
}

std::map<state::ColumnFamily, int> Counts(EngineHarness& harness) {
  std::map<state::ColumnFamily, int> counts;
  for (auto cf : state::kAllColumnFamilies) {
    if (cf != state::ColumnFamily::kMeta) counts[cf] = harness.CountEntries(cf);
  }
  return counts;
}

// Root process instances that began activating and have not completed or terminated (an
// instance waiting on a start listener job is still activating).
std::set<int64_t> RunningRootInstances(const EngineHarness& harness) {
  std::set<int64_t> running;
  for (const auto& record : harness.Records()) {
    if (record.record_type() != record::EVENT || record.value_type() != record::PROCESS_INSTANCE)
      continue;
    const auto& value = record.process_instance();
    if (record.key() != value.process_instance_key() || value.parent_process_instance_key() > 0)
      continue;
    if (Is(record, ProcessInstanceIntent::kElementActivating)) running.insert(record.key());
    if (Is(record, ProcessInstanceIntent::kElementCompleted) ||
        Is(record, ProcessInstanceIntent::kElementTerminated)) {
      running.erase(record.key());
    }
  }
  return running;
}

class CleanStateTest : public ::testing::TestWithParam<std::string> {};

// Drives the model's instances for `rounds` rounds (0: cancel straight after creation), then
// cancels what still runs and checks the column families.
void RunToTheEnd(const std::string& file_name, int rounds) {
  EngineHarness harness;
  const std::string xml = ReadFile(kModels / file_name);
  // Companions: the child of the call activities and the decision of the business rule task.
  for (const char* companion : {"call-child.bpmn", "routing.dmn"}) {
    if (file_name != companion) {
      auto deployed = harness.Deploy(companion, ReadFile(kModels / companion));
      ASSERT_EQ(deployed.record_type(), record::EVENT) << companion;
    }
  }
  auto deployed = harness.Deploy(file_name, xml);
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  harness.Tick();
  const auto after_deploy = Counts(harness);

  const auto process_ids = Matches(xml, R"re(<bpmn:process id="([^"]+)")re");
  auto job_types = Matches(xml, R"re(zeebe:taskDefinition type="([^="][^"]*)")re");
  for (const auto& type : Matches(xml, R"re(zeebe:executionListener[^>]* type="([^="][^"]*)")re"))
    job_types.insert(type);
  job_types.insert("io.camunda.zeebe:userTask");
  const auto messages = Matches(xml, R"re(<bpmn:message [^>]*name="([^"]+)")re");
  const auto signals = Matches(xml, R"re(<bpmn:signal [^>]*name="([^"]+)")re");

  for (const auto& process_id : process_ids) harness.CreateInstance(process_id, kVariables);
  for (int round = 0; round < rounds; ++round) {
    for (const auto& type : job_types) {
      auto batch = harness.ActivateJobs(type, 100);
      for (int64_t key : batch.job_batch().job_keys()) harness.CompleteJob(key, kVariables);
    }
    for (const auto& name : messages) {
      record::MessageRecord message;
      message.set_name(name);
      message.set_correlation_key("o-1");
      message.set_time_to_live(0);
      message.set_variables(kVariables);
      harness.Send(MakeCommand(-1, MessageIntent::kPublish, message));
    }
    for (const auto& name : signals) {
      record::SignalRecord signal;
      signal.set_signal_name(name);
      harness.Send(MakeCommand(-1, SignalIntent::kBroadcast, signal));
    }
    harness.AdvanceTime(24 * 60 * 60 * 1000);
    harness.Tick();
    harness.Tick();
  }
  // Cancelling may start more work (compensation is not run on cancel, but terminations cascade
  // through batches): tick until nothing runs.
  for (int attempt = 0; attempt < 5 && !RunningRootInstances(harness).empty(); ++attempt) {
    for (int64_t key : RunningRootInstances(harness)) harness.Cancel(key);
    harness.Tick();
  }
  EXPECT_TRUE(RunningRootInstances(harness).empty()) << file_name;

  const auto at_end = Counts(harness);
  for (const auto& [cf, count] : after_deploy) {
    int limit = OwnedByDeployments(cf) ? count : 0;
    EXPECT_LE(at_end.at(cf), limit)
        << file_name << " after " << rounds << " round(s): column family "
        << state::ColumnFamilyName(cf) << " holds " << at_end.at(cf) << " entries, " << count
        << " after deploy";
  }
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum()) << file_name;
}

TEST_P(CleanStateTest, CancelledRightAfterCreationLeavesNothing) { RunToTheEnd(GetParam(), 0); }

TEST_P(CleanStateTest, DrivenThenCancelledLeavesNothing) { RunToTheEnd(GetParam(), 4); }

std::vector<std::string> ModelFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kModels)) {
    if (entry.path().extension() == ".bpmn") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(EveryCompatModel, CleanStateTest, ::testing::ValuesIn(ModelFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace tern::engine
