// Inputs that used to stall job delivery or the monitoring server, against a real tern-broker:
// a job too large for the gateway's message, a job stream whose client stops reading, and idle
// or half-open connections to the monitoring port.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "gateway.grpc.pb.h"
#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using std::chrono::milliseconds;
using testing::BrokerProcess;
using testing::DeployOneTask;
using testing::Eventually;
using testing::StartInstance;
namespace gp = ::gateway_protocol;

// A connected TCP socket to 127.0.0.1:port, or -1.
int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// GET `path` from the monitoring server; the whole answer, or "" if none came within `limit`.
std::string HttpGet(int port, const std::string& path, milliseconds limit) {
  int fd = Connect(port);
  if (fd < 0) return "";
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return "";
  }
  std::string answer;
  auto end = std::chrono::steady_clock::now() + limit;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd waiting{fd, POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now()).count());
    if (poll(&waiting, 1, std::max(left, 1)) <= 0) continue;
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

std::vector<ActivatedJob> Activate(const Client& client, const std::string& type,
                                   milliseconds long_poll = milliseconds(-1)) {
  auto jobs = client.newActivateJobsCommand()
                  .jobType(type)
                  .maxJobsToActivate(10)
                  .timeout(std::chrono::minutes(10))
                  .requestTimeout(long_poll)
                  .send()
                  .get();
  EXPECT_TRUE(jobs.ok()) << jobs.status();
  return jobs.ok() ? jobs->jobs : std::vector<ActivatedJob>{};
}

// The broker's open incidents (GET /incidents).
nlohmann::json Incidents(const BrokerProcess& broker) {
  std::string answer = HttpGet(broker.monitoring_port(), "/incidents", milliseconds(10'000));
  auto body = answer.find("\r\n\r\n");
  if (body == std::string::npos) return nlohmann::json::array();
  return nlohmann::json::parse(answer.substr(body + 4), nullptr, /*allow_exceptions=*/false);
}

TEST(RobustnessBrokerTest, JobTooLargeForAMessageRaisesAnIncidentAndSmallJobsAreDelivered) {
  BrokerProcess broker;
  broker.Start();
  auto client = broker.NewClient();
  DeployOneTask(client, "big", "big-job");
  int64_t large = StartInstance(client, "big", {{"name", "large"}});
  // Five variables of 1 MB each: every request fits the 4 MB limit, the job does not.
  for (int i = 0; i < 5; ++i) {
    auto set = client.newSetVariablesCommand(large)
                   .variable("v" + std::to_string(i), std::string(1'000'000, 'x'))
                   .send()
                   .get();
    ASSERT_TRUE(set.ok()) << set.status();
  }
  int64_t small = StartInstance(client, "big", {{"name", "small"}});

  auto jobs = Activate(client, "big-job");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].processInstanceKey, small);
  auto completed = client.newCompleteCommand(jobs[0].key).send().get();
  ASSERT_TRUE(completed.ok()) << completed.status();

  nlohmann::json incident;
  ASSERT_TRUE(Eventually([&] {
    for (const auto& entry : Incidents(broker)) {
      if (entry.value("processInstanceKey", "") == std::to_string(large)) incident = entry;
    }
    return !incident.is_null();
  })) << broker.LogTail();
  EXPECT_EQ(incident["errorType"], "MESSAGE_SIZE_EXCEEDED");
  std::string message = incident["errorMessage"];
  EXPECT_NE(message.find("larger than the configured message size (4 MB)"), std::string::npos)
      << message;
  // The large job no longer comes up, and it does not block the type.
  EXPECT_TRUE(Activate(client, "big-job").empty());
  int64_t another = StartInstance(client, "big", {{"name", "another"}});
  jobs = Activate(client, "big-job");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].processInstanceKey, another);

  // Shrinking the variables and resolving the incident hands the job out again.
  auto shrunk = client.newSetVariablesCommand(large)
                    .variables({{"v0", nullptr}, {"v1", nullptr}, {"v2", nullptr}, {"v3", nullptr}})
                    .send()
                    .get();
  ASSERT_TRUE(shrunk.ok()) << shrunk.status();
  auto resolved =
      client.newResolveIncidentCommand(std::stoll(incident["key"].get<std::string>())).send().get();
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  jobs = Activate(client, "big-job", milliseconds(5'000));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].processInstanceKey, large);
  EXPECT_EQ(jobs[0].variablesAsJson()["v4"].get<std::string>().size(), 1'000'000u);
}

TEST(RobustnessBrokerTest, JobsPushedToAStreamThatStopsReadingAreReadableOrHandedBack) {
  // A stream whose client stops reading: every job pushed to it is either still readable by
  // that client (the transport accepted it) or handed back to polling workers (the gateway's
  // per-stream queue was full, or a write did not complete within the push stall delay); none
  // is left locked and unseen until its 10-minute timeout. The C++ gRPC client's transport
  // accepts many megabytes on loopback without the application reading, so this does not
  // force the stall path; it checks that no job falls between the two.
  BrokerProcess broker;
  broker.Start();
  auto client = broker.NewClient();
  DeployOneTask(client, "pushed", "pushed-job");

  auto channel = grpc::CreateChannel(broker.address(), grpc::InsecureChannelCredentials());
  auto stub = gp::Gateway::NewStub(channel);
  grpc::ClientContext stream_context;
  stream_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  gp::StreamActivatedJobsRequest request;
  request.set_type("pushed-job");
  request.set_worker("stuck");
  request.set_timeout(10 * 60 * 1000);
  auto reader = stub->StreamActivatedJobs(&stream_context, request);
  std::set<int64_t> created;
  std::set<int64_t> polled;
  // Polls once; true when there was nothing to poll.
  auto poll_once = [&] {
    auto jobs = Activate(client, "pushed-job");
    for (const auto& job : jobs) polled.insert(job.processInstanceKey);
    return jobs.empty();
  };
  // Wait until the stream is registered: a job created now is pushed, not left for polling.
  // Probes created before that are polled, and count as handed to polling.
  ASSERT_TRUE(Eventually([&] {
    created.insert(StartInstance(client, "pushed", {{"probe", true}}));
    return poll_once();
  }));
  constexpr int kJobs = 12;
  for (int i = 0; i < kJobs; ++i) {
    created.insert(
        StartInstance(client, "pushed", {{"i", i}, {"payload", std::string(200'000, 'p')}}));
    poll_once();
  }
  poll_once();

  // Now the client reads: what it gets and what polling got account for every job once.
  std::set<int64_t> read;
  gp::ActivatedJob pushed;
  auto accounted = [&] {
    size_t n = 0;
    for (int64_t key : created) n += (read.contains(key) || polled.contains(key)) ? 1 : 0;
    return n;
  };
  while (accounted() < created.size() && reader->Read(&pushed)) {
    EXPECT_TRUE(created.contains(pushed.processinstancekey()));
    read.insert(pushed.processinstancekey());
  }
  stream_context.TryCancel();
  reader->Finish();
  EXPECT_EQ(accounted(), created.size()) << broker.LogTail();
  for (int64_t key : read) EXPECT_FALSE(polled.contains(key)) << key << " delivered twice";
  std::cout << "stream that stopped reading: " << read.size() << " jobs readable, " << polled.size()
            << " handed back to polling, of " << created.size() << "\n";
}

TEST(RobustnessBrokerTest, ReadyAnswersWhileFiftyConnectionsSitHalfOpen) {
  BrokerProcess broker;
  broker.Start();
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) {
    int fd = Connect(broker.monitoring_port());
    ASSERT_GE(fd, 0);
    // Half of them send a partial request line and stop; the other half send nothing.
    if (i % 2 == 0) {
      const char partial[] = "GET /rea";
      ASSERT_EQ(send(fd, partial, sizeof(partial) - 1, MSG_NOSIGNAL),
                static_cast<ssize_t>(sizeof(partial) - 1));
    }
    idle.push_back(fd);
  }
  // A readiness probe's generous deadline: without the fix this took 25 s and more.
  std::string answer = HttpGet(broker.monitoring_port(), "/ready", milliseconds(10'000));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << "answer: " << answer;
  answer = HttpGet(broker.monitoring_port(), "/health", milliseconds(10'000));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << "answer: " << answer;
  for (int fd : idle) close(fd);
  // The broker serves a normal create and complete afterwards.
  auto client = broker.NewClient();
  DeployOneTask(client, "after", "after-job");
  int64_t instance = StartInstance(client, "after", {});
  auto jobs = Activate(client, "after-job", milliseconds(5'000));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].processInstanceKey, instance);
  EXPECT_TRUE(client.newCompleteCommand(jobs[0].key).send().get().ok());
}

}  // namespace
}  // namespace tern
