// The job worker against an in-process fake gateway: backoff, handler outcomes, limits,
// streaming and shutdown.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "fake_gateway.h"
#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::FakeGateway;
namespace gp = ::gateway_protocol;
using testing::MakeJob;

Client ClientFor(const FakeGateway& fake) {
  auto client = Client::newClientBuilder()
                    .gatewayAddress(fake.address())
                    .defaultRequestTimeout(std::chrono::seconds(10))
                    .defaultJobPollInterval(milliseconds(10))
                    .build();
  EXPECT_TRUE(client.ok()) << client.status();
  return *client;
}

// Serves each job once, in order, to whoever activates first.
class JobQueue {
 public:
  void Add(gp::ActivatedJob job) {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  grpc::Status Serve(const gp::ActivateJobsRequest& request,
                     grpc::ServerWriter<gp::ActivateJobsResponse>* writer, int* count = nullptr) {
    gp::ActivateJobsResponse response;
    {
      std::lock_guard lock(mu_);
      while (!jobs_.empty() && response.jobs_size() < request.maxjobstoactivate()) {
        *response.add_jobs() = jobs_.front();
        jobs_.erase(jobs_.begin());
      }
    }
    if (count != nullptr) *count = response.jobs_size();
    if (response.jobs_size() > 0) writer->Write(response);
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::vector<gp::ActivatedJob> jobs_;
};

TEST(WorkerFakeTest, BacksOffOnResourceExhaustedThenWorks) {
  FakeGateway fake;
  JobQueue queue;
  queue.Add(MakeJob(1, "t"));
  std::atomic<int> activations{0};
  fake.on_activate = [&](const gp::ActivateJobsRequest& request,
                         grpc::ServerWriter<gp::ActivateJobsResponse>* writer) {
    if (activations++ < 4) {
      return grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          "Expected to activate jobs of type 't', but no jobs available and at "
          "least one broker returned 'RESOURCE_EXHAUSTED'. Please try again later.");
    }
    return queue.Serve(request, writer);
  };
  fake.Start();
  auto client = ClientFor(fake);

  // A deterministic backoff that records what the worker asked it.
  std::mutex mu;
  std::vector<milliseconds> asked;
  std::vector<milliseconds> answered;
  auto backoff = [&](milliseconds previous) {
    milliseconds next = previous.count() == 0 ? milliseconds(40) : previous * 2;
    std::lock_guard lock(mu);
    asked.push_back(previous);
    answered.push_back(next);
    return next;
  };
  auto worker = client.newWorker()
                    .jobType("t")
                    .handler([](const ActivatedJob&) { return nlohmann::json::object(); })
                    .backoff(backoff)
                    .requestTimeout(milliseconds(100))
                    .open();
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == 1; }));
  worker->close();

  std::lock_guard lock(mu);
  ASSERT_EQ(asked.size(), 4u);
  EXPECT_EQ(asked[0], milliseconds(0));
  for (size_t i = 1; i < asked.size(); ++i) EXPECT_EQ(asked[i], answered[i - 1]);
  // The worker waited at least the backoff before each new poll.
  auto calls = fake.calls();
  std::vector<FakeGateway::Clock::time_point> polls;
  for (const auto& c : calls) {
    if (c.rpc == "ActivateJobs") polls.push_back(c.received);
  }
  ASSERT_GE(polls.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_GE(polls[i + 1] - polls[i], answered[i]) << "poll " << i + 1;
  }
  auto metrics = worker->metrics();
  EXPECT_EQ(metrics.pollErrors, 4);
  EXPECT_EQ(metrics.jobsActivated, 1);
}

TEST(WorkerFakeTest, ThrowingHandlerFailsTheJobWithTheMessageAndOneRetryFewer) {
  FakeGateway fake;
  JobQueue queue;
  queue.Add(MakeJob(11, "t", /*retries=*/3));
  fake.on_activate = [&](auto& request, auto* writer) { return queue.Serve(request, writer); };
  fake.Start();
  auto client = ClientFor(fake);
  auto worker = client.newWorker()
                    .jobType("t")
                    .handler([](const ActivatedJob&, JobClient&) {
                      throw std::runtime_error("credit bureau unreachable");
                    })
                    .failRetryBackoff(milliseconds(1500))
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(fake.WaitForCalls("FailJob", 1));
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsFailed == 1; }));
  worker->close();
  auto fails = fake.fails();
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_EQ(fails[0].jobkey(), 11);
  EXPECT_EQ(fails[0].retries(), 2);
  EXPECT_EQ(fails[0].errormessage(), "credit bureau unreachable");
  EXPECT_EQ(fails[0].retrybackoff(), 1500);
  auto metrics = worker->metrics();
  EXPECT_EQ(metrics.handlerExceptions, 1);
  EXPECT_EQ(metrics.jobsCompleted, 0);
  EXPECT_TRUE(fake.completes().empty());
}

TEST(WorkerFakeTest, BpmnErrorThrowsTheErrorAndFunctionsCompleteWithTheirVariables) {
  FakeGateway fake;
  JobQueue queue;
  queue.Add(MakeJob(21, "t", 3, R"({"amount": 50000})"));
  queue.Add(MakeJob(22, "t", 3, R"({"amount": 500})"));
  fake.on_activate = [&](auto& request, auto* writer) { return queue.Serve(request, writer); };
  fake.Start();
  auto client = ClientFor(fake);
  auto worker = client.newWorker()
                    .jobType("t")
                    .handler([](const ActivatedJob& job) -> nlohmann::json {
                      int amount = job.variablesAsJson()["amount"];
                      if (amount > 10000) {
                        throw BpmnError("TOO_MUCH", "amount over limit", {{"limit", 10000}});
                      }
                      return {{"approved", true}};
                    })
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(Eventually([&] {
    auto m = worker->metrics();
    return m.jobsCompleted == 1 && m.jobsErrorThrown == 1;
  }));
  worker->close();
  auto errors = fake.throw_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].jobkey(), 21);
  EXPECT_EQ(errors[0].errorcode(), "TOO_MUCH");
  EXPECT_EQ(errors[0].errormessage(), "amount over limit");
  EXPECT_EQ(nlohmann::json::parse(errors[0].variables()), (nlohmann::json{{"limit", 10000}}));
  auto completes = fake.completes();
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(completes[0].jobkey(), 22);
  EXPECT_EQ(nlohmann::json::parse(completes[0].variables()), (nlohmann::json{{"approved", true}}));
  EXPECT_EQ(worker->metrics().handlerExceptions, 0);
}

TEST(WorkerFakeTest, AutoCompleteOnlyWhenTheHandlerDidNotAnswer) {
  FakeGateway fake;
  JobQueue queue;
  queue.Add(MakeJob(31, "t"));
  queue.Add(MakeJob(32, "t"));
  fake.on_activate = [&](auto& request, auto* writer) { return queue.Serve(request, writer); };
  fake.Start();
  auto client = ClientFor(fake);
  auto worker = client.newWorker()
                    .jobType("t")
                    .autoComplete(true)
                    .handler([](const ActivatedJob& job, JobClient& jobs) {
                      // Job 32 is failed explicitly; job 31 is left to auto-complete.
                      if (job.key == 32) {
                        auto failed =
                            jobs.newFailCommand(job).retries(0).errorMessage("no").send().get();
                        if (!failed.ok()) throw std::runtime_error(failed.status().ToString());
                      }
                    })
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(Eventually([&] {
    auto m = worker->metrics();
    return m.jobsCompleted == 1 && m.jobsFailed == 1;
  }));
  worker->close();
  ASSERT_EQ(fake.completes().size(), 1u);
  EXPECT_EQ(fake.completes()[0].jobkey(), 31);
  ASSERT_EQ(fake.fails().size(), 1u);
  EXPECT_EQ(fake.fails()[0].jobkey(), 32);
}

TEST(WorkerFakeTest, NeverHoldsMoreThanMaxJobsActiveAndRunsConcurrencyHandlers) {
  FakeGateway fake;
  constexpr int kJobs = 40;
  constexpr int kMax = 4;
  JobQueue queue;
  for (int i = 0; i < kJobs; ++i) queue.Add(MakeJob(100 + i, "t"));
  // Every request must fit in what the worker has room for: kMax minus the jobs served to it
  // whose handler has not returned yet. (Handlers count themselves finished before the worker
  // frees their slot, so this estimate never exceeds what the worker holds.)
  std::mutex mu;
  int served = 0;
  int finished = 0;
  int violations = 0;
  fake.on_activate = [&](const gp::ActivateJobsRequest& request,
                         grpc::ServerWriter<gp::ActivateJobsResponse>* writer) {
    std::lock_guard lock(mu);
    if (request.maxjobstoactivate() > kMax - (served - finished)) ++violations;
    int count = 0;
    auto status = queue.Serve(request, writer, &count);
    served += count;
    return status;
  };
  fake.Start();
  auto client = ClientFor(fake);
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  auto worker = client.newWorker()
                    .jobType("t")
                    .maxJobsActive(kMax)
                    .concurrency(2)
                    .activationThreshold(1.0)
                    .handler([&](const ActivatedJob&) {
                      int now = ++running;
                      int seen = max_running;
                      while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
                      }
                      std::this_thread::sleep_for(milliseconds(5));
                      --running;
                      std::lock_guard lock(mu);
                      ++finished;
                      return nlohmann::json::object();
                    })
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == kJobs; }));
  worker->close();
  EXPECT_LE(max_running.load(), 2);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(violations, 0);
  }
  for (const auto& request : fake.activates()) {
    EXPECT_GE(request.maxjobstoactivate(), 1);
    EXPECT_LE(request.maxjobstoactivate(), kMax);
  }
  auto metrics = worker->metrics();
  EXPECT_EQ(metrics.jobsActivated, kJobs);
  EXPECT_EQ(metrics.jobsHandled, kJobs);
}

TEST(WorkerFakeTest, CloseFinishesRunningHandlersGivesBackQueuedJobsAndRunsNoHandlerAfter) {
  FakeGateway fake;
  JobQueue queue;
  for (int i = 0; i < 8; ++i) queue.Add(MakeJob(200 + i, "t", /*retries=*/5));
  fake.on_activate = [&](auto& request, auto* writer) { return queue.Serve(request, writer); };
  fake.Start();
  auto client = ClientFor(fake);
  std::atomic<bool> closed{false};
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> after_close{0};
  std::promise<void> two_started;
  auto worker = client.newWorker()
                    .jobType("t")
                    .maxJobsActive(8)
                    .concurrency(2)
                    .handler([&](const ActivatedJob&) {
                      if (closed) ++after_close;
                      if (++started == 2) two_started.set_value();
                      std::this_thread::sleep_for(milliseconds(200));
                      ++finished;
                      if (closed) ++after_close;
                      return nlohmann::json::object();
                    })
                    .open();
  ASSERT_TRUE(worker.ok());
  two_started.get_future().wait();
  worker->close();
  closed = true;
  int started_at_close = started;
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(after_close.load(), 0);
  EXPECT_EQ(started.load(), started_at_close);
  EXPECT_EQ(finished.load(), started.load());
  auto metrics = worker->metrics();
  // Every job was either handled and completed, or given back with its retries unchanged.
  EXPECT_EQ(metrics.jobsActivated, 8);
  EXPECT_EQ(metrics.jobsHandled + metrics.jobsGivenBack, 8);
  EXPECT_EQ(metrics.jobsCompleted, metrics.jobsHandled);
  EXPECT_GE(metrics.jobsGivenBack, 1);
  EXPECT_EQ(static_cast<int64_t>(fake.fails().size()), metrics.jobsGivenBack);
  for (const auto& fail : fake.fails()) {
    EXPECT_EQ(fail.retries(), 5);
    EXPECT_EQ(fail.retrybackoff(), 0);
  }
  EXPECT_FALSE(worker->isOpen());
}

TEST(WorkerFakeTest, StreamedJobsAreHandledAndReadingPausesAtMaxJobsActive) {
  FakeGateway fake;
  constexpr int kJobs = 10;
  fake.on_stream = [&](grpc::ServerContext* context, const gp::StreamActivatedJobsRequest& request,
                       grpc::ServerWriter<gp::ActivatedJob>* writer) {
    EXPECT_EQ(request.type(), "s");
    EXPECT_EQ(request.worker(), "stream-worker");
    for (int i = 0; i < kJobs; ++i) writer->Write(MakeJob(300 + i, "s"));
    while (!context->IsCancelled()) std::this_thread::sleep_for(milliseconds(5));
    return grpc::Status::CANCELLED;
  };
  fake.Start();
  auto client = ClientFor(fake);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> handled{0};
  auto worker = client.newWorker()
                    .jobType("s")
                    .name("stream-worker")
                    .streamEnabled(true)
                    .maxJobsActive(2)
                    .concurrency(2)
                    .handler([&](const ActivatedJob&) {
                      released.wait();
                      ++handled;
                      return nlohmann::json::object();
                    })
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsActivated == 2; }));
  // Handlers are blocked: the worker must not read further jobs off the stream.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(worker->metrics().jobsActivated, 2);
  release.set_value();
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == kJobs; }));
  worker->close();
  EXPECT_EQ(handled.load(), kJobs);
  EXPECT_GE(fake.CountCalls("StreamActivatedJobs"), 1);
}

TEST(WorkerFakeTest, FallsBackToPollingWhenStreamingIsUnimplemented) {
  FakeGateway fake;
  fake.on_stream = [](grpc::ServerContext*, const gp::StreamActivatedJobsRequest&,
                      grpc::ServerWriter<gp::ActivatedJob>*) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no streams here");
  };
  JobQueue queue;
  for (int i = 0; i < 5; ++i) queue.Add(MakeJob(400 + i, "p"));
  fake.on_activate = [&](auto& request, auto* writer) { return queue.Serve(request, writer); };
  fake.Start();
  auto client = ClientFor(fake);
  auto worker = client.newWorker()
                    .jobType("p")
                    .streamEnabled(true)
                    .handler([](const ActivatedJob&) { return nlohmann::json::object(); })
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == 5; }));
  worker->close();
  EXPECT_EQ(fake.CountCalls("StreamActivatedJobs"), 1);
  EXPECT_EQ(worker->metrics().streamsOpened, 1);
}

TEST(WorkerFakeTest, ReopensAFailedStreamAfterBackoff) {
  FakeGateway fake;
  std::atomic<int> streams{0};
  fake.on_stream = [&](grpc::ServerContext* context, const gp::StreamActivatedJobsRequest&,
                       grpc::ServerWriter<gp::ActivatedJob>* writer) {
    if (++streams < 3) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    writer->Write(MakeJob(500, "r"));
    while (!context->IsCancelled()) std::this_thread::sleep_for(milliseconds(5));
    return grpc::Status::CANCELLED;
  };
  fake.Start();
  auto client = ClientFor(fake);
  auto worker = client.newWorker()
                    .jobType("r")
                    .streamEnabled(true)
                    .backoff([](milliseconds) { return milliseconds(20); })
                    .handler([](const ActivatedJob&) { return nlohmann::json::object(); })
                    .open();
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(Eventually([&] { return worker->metrics().jobsCompleted == 1; }));
  worker->close();
  EXPECT_EQ(fake.CountCalls("StreamActivatedJobs"), 3);
  EXPECT_EQ(worker->metrics().streamsOpened, 3);
}

TEST(StreamCommandTest, ConsumerGetsPushedJobsAndCancelEndsTheStream) {
  FakeGateway fake;
  fake.on_stream = [&](grpc::ServerContext* context, const gp::StreamActivatedJobsRequest& request,
                       grpc::ServerWriter<gp::ActivatedJob>* writer) {
    EXPECT_EQ(request.timeout(), 60000);
    EXPECT_EQ(request.fetchvariable_size(), 1);
    writer->Write(MakeJob(600, "c", 3, R"({"a":1})"));
    writer->Write(MakeJob(601, "c", 3, R"({"a":2})"));
    while (!context->IsCancelled()) std::this_thread::sleep_for(milliseconds(5));
    return grpc::Status::CANCELLED;
  };
  fake.Start();
  auto client = ClientFor(fake);
  std::mutex mu;
  std::set<int64_t> keys;
  auto stream = client.newStreamJobsCommand()
                    .jobType("c")
                    .timeout(milliseconds(60000))
                    .fetchVariables({"a"})
                    .consumer([&](ActivatedJob job) {
                      std::lock_guard lock(mu);
                      keys.insert(job.key);
                    })
                    .send();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return keys.size() == 2;
  }));
  stream.cancel();
  auto result = stream.get();
  EXPECT_TRUE(result.ok()) << result.status();
}

}  // namespace
}  // namespace tern
