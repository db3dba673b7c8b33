// The job worker against real tern-broker processes, including a broker crash and restart.

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using std::chrono::milliseconds;
using testing::BrokerProcess;
using testing::DeployOneTask;
using testing::Eventually;
using testing::StartInstance;

// The command may or may not have been applied: the broker went away before it answered.
bool IsAmbiguous(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded ||
         code == StatusCode::kUnknown || code == StatusCode::kCancelled;
}

// No job of `type` is left to activate.
bool NoJobsLeft(const Client& client, const std::string& type) {
  auto jobs =
      client.newActivateJobsCommand().jobType(type).requestTimeout(milliseconds(-1)).send().get();
  return jobs.ok() && jobs->jobs.empty();
}

TEST(WorkerBrokerTest, PollingWorkerCompletesEveryInstance) {
  BrokerProcess broker;
  broker.Start();
  auto client = broker.NewClient();
  DeployOneTask(client, "poll", "poll-job");
  std::mutex mu;
  std::set<int64_t> handled;
  auto worker = client.newWorker()
                    .jobType("poll-job")
                    .maxJobsActive(8)
                    .concurrency(2)
                    .handler([&](const ActivatedJob& job) -> nlohmann::json {
                      std::lock_guard lock(mu);
                      handled.insert(job.processInstanceKey);
                      return {{"seen", job.variablesAsJson()["i"]}};
                    })
                    .open();
  ASSERT_TRUE(worker.ok()) << worker.status();
  std::set<int64_t> started;
  for (int i = 0; i < 30; ++i) started.insert(StartInstance(client, "poll", {{"i", i}}));
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == 30; }))
      << worker->metrics().jobsCompleted;
  worker->close();
  std::lock_guard lock(mu);
  EXPECT_EQ(handled, started);
  EXPECT_EQ(worker->metrics().commandErrors, 0);
  EXPECT_TRUE(NoJobsLeft(client, "poll-job"));
}

TEST(WorkerBrokerTest, StreamingWorkerGetsPushedJobsAndDrainsOlderOnesByPolling) {
  BrokerProcess broker;
  broker.Start();
  auto client = broker.NewClient();
  DeployOneTask(client, "push", "push-job");
  // Waiting before the worker opens: only polling can find these.
  for (int i = 0; i < 5; ++i) StartInstance(client, "push", {{"i", i}});
  auto worker = client.newWorker()
                    .jobType("push-job")
                    .streamEnabled(true)
                    .handler([](const ActivatedJob&) { return nlohmann::json::object(); })
                    .open();
  ASSERT_TRUE(worker.ok()) << worker.status();
  for (int i = 5; i < 25; ++i) StartInstance(client, "push", {{"i", i}});
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == 25; }))
      << worker->metrics().jobsCompleted;
  worker->close();
  auto metrics = worker->metrics();
  EXPECT_GE(metrics.streamsOpened, 1);
  EXPECT_EQ(metrics.jobsActivated, 25);
  EXPECT_TRUE(NoJobsLeft(client, "push-job"));
}

TEST(WorkerBrokerTest, ThrowingHandlerFailsTheJobWithOneRetryFewer) {
  BrokerProcess broker;
  broker.Start();
  auto client = broker.NewClient();
  DeployOneTask(client, "throws", "throws-job", /*retries=*/3);
  StartInstance(client, "throws", nlohmann::json::object());
  std::mutex mu;
  std::vector<int32_t> retries_seen;
  auto worker = client.newWorker()
                    .jobType("throws-job")
                    .handler([&](const ActivatedJob& job, JobClient& jobs) {
                      std::lock_guard lock(mu);
                      retries_seen.push_back(job.retries);
                      if (retries_seen.size() == 1) throw std::runtime_error("first try fails");
                      auto done = jobs.newCompleteCommand(job).send().get();
                      if (!done.ok()) throw std::runtime_error(done.status().ToString());
                    })
                    .open();
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == 1; }));
  worker->close();
  std::lock_guard lock(mu);
  ASSERT_EQ(retries_seen.size(), 2u);
  EXPECT_EQ(retries_seen[0], 3);
  EXPECT_EQ(retries_seen[1], 2);
  auto metrics = worker->metrics();
  EXPECT_EQ(metrics.jobsFailed, 1);
  EXPECT_EQ(metrics.handlerExceptions, 1);
}

// The broker crashes (SIGKILL) while the worker runs and comes back on the same port with the
// same data. The worker must reconnect by itself, every instance's job must be completed at
// least once, and once close() returned no handler may run.
void RestartScenario(bool streaming) {
  BrokerProcess broker;
  broker.Start();
  auto client = broker.NewClient();
  DeployOneTask(client, "restart", "restart-job");

  std::mutex mu;
  std::set<int64_t> completed;  // instances whose job completion is known to have landed
  std::atomic<bool> closed{false};
  std::atomic<int> handlers_after_close{0};
  std::atomic<int> landed_without_answer{0};
  std::atomic<bool> crashed{false};
  // What the handler saw per instance, printed for instances that never complete.
  std::map<int64_t, std::string> history;
  auto worker_client = Client::newClientBuilder()
                           .gatewayAddress(broker.address())
                           .defaultRequestTimeout(std::chrono::seconds(5))
                           .build();
  ASSERT_TRUE(worker_client.ok());
  auto worker =
      worker_client->newWorker()
          .jobType("restart-job")
          .maxJobsActive(4)
          .concurrency(2)
          // Jobs whose completion was lost in the crash come back after this.
          .timeout(milliseconds(2000))
          .requestTimeout(milliseconds(1000))
          .streamEnabled(streaming)
          .backoff(ExponentialBackoff(milliseconds(50), milliseconds(500)))
          .handler([&](const ActivatedJob& job, JobClient& jobs) {
            if (closed) ++handlers_after_close;
            const bool handed_out_before_crash = !crashed;
            std::this_thread::sleep_for(milliseconds(5));
            auto done = jobs.newCompleteCommand(job).send().get();
            {
              std::lock_guard lock(mu);
              history[job.processInstanceKey] +=
                  " job " + std::to_string(job.key) + ": " + done.status().ToString() + ";";
            }
            // A completion that reached the log just before the crash loses its answer. The
            // client then sends it again by itself (it retries UNAVAILABLE, like Zeebe's
            // clients), or the handler asks again below until the answer is definite. Either
            // way NOT_FOUND for a job handed out before the crash, or after an ambiguous
            // answer, means the first attempt landed: nothing else removes this job, and a
            // re-activated copy is completed under the same key and answers OK.
            bool ambiguous_before = false;
            const auto ask_until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (!done.ok() && IsAmbiguous(done.status().code()) &&
                   std::chrono::steady_clock::now() < ask_until) {
              ambiguous_before = true;
              std::this_thread::sleep_for(milliseconds(100));
              done = jobs.newCompleteCommand(job).send().get();
            }
            const bool landed_earlier = (ambiguous_before || handed_out_before_crash) &&
                                        !done.ok() && done.status().code() == StatusCode::kNotFound;
            if (landed_earlier) ++landed_without_answer;
            if (done.ok() || landed_earlier) {
              std::lock_guard lock(mu);
              completed.insert(job.processInstanceKey);
            }
            if (closed) ++handlers_after_close;
          })
          .open();
  ASSERT_TRUE(worker.ok()) << worker.status();

  std::set<int64_t> started;
  for (int i = 0; i < 20; ++i) started.insert(StartInstance(client, "restart", {{"i", i}}));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return completed.size() >= 5;
  }));

  crashed = true;
  broker.Kill();
  // Commands sent while the broker is down fail; the worker keeps polling with backoff.
  std::this_thread::sleep_for(milliseconds(500));
  broker.Start();
  auto after = broker.NewClient();
  for (int i = 20; i < 40; ++i) started.insert(StartInstance(after, "restart", {{"i", i}}));
  started.erase(0);  // a failed StartInstance would have added 0 (and failed the test)

  const bool all_completed = Eventually(
      [&] {
        std::lock_guard lock(mu);
        return std::includes(completed.begin(), completed.end(), started.begin(), started.end());
      },
      std::chrono::seconds(60));
  if (!all_completed) {
    worker->close();
    auto left = after.newActivateJobsCommand()
                    .jobType("restart-job")
                    .requestTimeout(milliseconds(3000))
                    .send()
                    .get();
    std::string report;
    std::lock_guard lock(mu);
    for (int64_t key : started) {
      if (completed.count(key)) continue;
      report += "instance " + std::to_string(key) + " handled:" + history[key] + "\n";
    }
    if (left.ok()) {
      for (const auto& job : left->jobs) {
        report += "still activatable: job " + std::to_string(job.key) + " of instance " +
                  std::to_string(job.processInstanceKey) + "\n";
      }
    }
    auto metrics = worker->metrics();
    FAIL() << "completed " << completed.size() << " of " << started.size() << "\n"
           << report << "worker: activated " << metrics.jobsActivated << ", completed "
           << metrics.jobsCompleted << ", command errors " << metrics.commandErrors
           << ", poll errors " << metrics.pollErrors << ", streams " << metrics.streamsOpened
           << "\n"
           << broker.LogTail();
  }
  std::cout << landed_without_answer << " completions landed without an answer\n";
  worker->close();
  closed = true;
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(handlers_after_close.load(), 0);
  EXPECT_TRUE(NoJobsLeft(after, "restart-job"));
}

TEST(WorkerBrokerTest, PollingWorkerSurvivesABrokerRestart) { RestartScenario(false); }

TEST(WorkerBrokerTest, StreamingWorkerSurvivesABrokerRestart) { RestartScenario(true); }

}  // namespace
}  // namespace tern
