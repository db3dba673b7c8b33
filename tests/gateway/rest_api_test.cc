// The REST API of a real tern-broker process on loopback, spoken over raw sockets: limits
// (body, header size, header timeout, connections), keep-alive, problem details, and one
// process run through deploy, create, activate and complete.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/client/test_util.h"

namespace tern::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kMaxConnections = 8;

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
};

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length framed); nullopt when the connection closes first or
  // nothing complete arrives within `timeout`.
  std::optional<HttpAnswer> Read(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = Clock::now() + timeout;
    while (true) {
      if (auto answer = TryParse()) return answer;
      if (!Fill(deadline)) return std::nullopt;
    }
  }

  // Whether the server closed the connection within `timeout` (reads and drops any data).
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!Fill(deadline)) return closed_;
    }
    return false;
  }

 private:
  bool Fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[65536];
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    data_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  std::optional<HttpAnswer> TryParse() {
    auto end = data_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    HttpAnswer answer;
    std::string head = data_.substr(0, end);
    answer.status = std::stoi(head.substr(head.find(' ') + 1, 3));
    size_t line = head.find("\r\n");
    while (line != std::string::npos) {
      size_t next = head.find("\r\n", line + 2);
      std::string header =
          head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      auto colon = header.find(':');
      std::string name = header.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(c));
      std::string value = header.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      answer.headers[name] = value;
      line = next;
    }
    size_t length = answer.headers.contains("content-length")
                        ? std::stoul(answer.headers["content-length"])
                        : 0;
    if (data_.size() < end + 4 + length) return std::nullopt;
    answer.body = data_.substr(end + 4, length);
    data_.erase(0, end + 4 + length);
    return answer;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string data_;
};

std::string RequestText(const std::string& method, const std::string& path,
                        const std::string& content_type = "", const std::string& body = "",
                        bool close = false) {
  std::string text = method + " " + path + " HTTP/1.1\r\nHost: test\r\n";
  if (!content_type.empty()) text += "Content-Type: " + content_type + "\r\n";
  if (!body.empty() || method != "GET") {
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (close) text += "Connection: close\r\n";
  return text + "\r\n" + body;
}

class RestApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess({"--rest-max-connections", std::to_string(kMaxConnections)});
    broker_->Start();
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }

  static HttpAnswer Call(const std::string& method, const std::string& path,
                         const std::string& content_type = "", const std::string& body = "") {
    Connection connection(broker_->rest_port());
    EXPECT_TRUE(connection.connected());
    EXPECT_TRUE(connection.Send(RequestText(method, path, content_type, body, true)));
    auto answer = connection.Read();
    EXPECT_TRUE(answer.has_value()) << method << " " << path;
    return answer.value_or(HttpAnswer{});
  }

  static HttpAnswer PostJson(const std::string& path, const json& body) {
    return Call("POST", path, "application/json", body.dump());
  }

  // Deploys a model of tests/compat/bpmn; true when the broker accepted it.
  static bool Deploy(const std::string& file) {
    std::string bpmn = ReadFileOrEmpty(std::string(TERN_SOURCE_DIR) + "/tests/compat/bpmn/" + file);
    EXPECT_FALSE(bpmn.empty()) << file;
    std::string name = file.substr(file.rfind('/') + 1);
    std::string multipart =
        "--XYZ\r\nContent-Disposition: form-data; name=\"resources\"; filename=\"" + name +
        "\"\r\nContent-Type: application/xml\r\n\r\n" + bpmn + "\r\n--XYZ--\r\n";
    HttpAnswer deployed =
        Call("POST", "/v2/deployments", "multipart/form-data; boundary=XYZ", multipart);
    EXPECT_EQ(deployed.status, 200) << deployed.body;
    return deployed.status == 200;
  }

  // Searches user tasks until `done(items)` holds or 30 s passed; the last answer's items.
  template <typename Done>
  static json SearchUserTasksUntil(const json& query, Done done) {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    json items;
    while (true) {
      HttpAnswer answer = PostJson("/v2/user-tasks/search", query);
      EXPECT_EQ(answer.status, 200) << answer.body;
      items = answer.Json()["items"];
      if (done(items) || Clock::now() > deadline) return items;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // A problem document with every RFC 9457 member, for `path`.
  static void ExpectProblem(const HttpAnswer& answer, int status, const std::string& path) {
    EXPECT_EQ(answer.status, status) << answer.body;
    EXPECT_EQ(answer.headers.at("content-type"), "application/problem+json");
    json problem = answer.Json();
    ASSERT_TRUE(problem.is_object()) << answer.body;
    EXPECT_TRUE(problem["type"].is_string());
    EXPECT_TRUE(problem["title"].is_string());
    EXPECT_EQ(problem["status"], status);
    EXPECT_TRUE(problem["detail"].is_string());
    EXPECT_FALSE(problem["detail"].get<std::string>().empty());
    if (!path.empty()) {
      EXPECT_EQ(problem["instance"], path);
    }
  }

  static BrokerProcess* broker_;
};

BrokerProcess* RestApiTest::broker_ = nullptr;

TEST_F(RestApiTest, TopologyAndLicense) {
  HttpAnswer topology = Call("GET", "/v2/topology");
  ASSERT_EQ(topology.status, 200) << topology.body;
  EXPECT_EQ(topology.headers["content-type"], "application/json");
  json body = topology.Json();
  EXPECT_EQ(body["clusterSize"], 1);
  EXPECT_EQ(body["partitionsCount"], 1);
  ASSERT_EQ(body["brokers"].size(), 1u);
  EXPECT_EQ(body["brokers"][0]["partitions"][0]["role"], "leader");
  EXPECT_EQ(body["brokers"][0]["partitions"][0]["health"], "healthy");
  HttpAnswer license = Call("GET", "/v2/license");
  ASSERT_EQ(license.status, 200);
  EXPECT_EQ(license.Json()["validLicense"], false);
}

TEST_F(RestApiTest, MalformedJsonIsBadRequest) {
  ExpectProblem(Call("POST", "/v2/messages/publication", "application/json", "{\"name\": "), 400,
                "/v2/messages/publication");
  ExpectProblem(Call("POST", "/v2/messages/publication", "application/json", "[1, 2]"), 400,
                "/v2/messages/publication");
}

TEST_F(RestApiTest, WrongContentTypeIsUnsupportedMediaType) {
  ExpectProblem(Call("POST", "/v2/messages/publication", "text/plain", "{\"name\": \"m\"}"), 415,
                "/v2/messages/publication");
  ExpectProblem(Call("POST", "/v2/deployments", "application/json", "{}"), 415, "/v2/deployments");
}

TEST_F(RestApiTest, InvalidFieldsAreBadRequestNamingTheField) {
  HttpAnswer answer = PostJson("/v2/messages/publication", {{"name", 5}});
  ExpectProblem(answer, 400, "/v2/messages/publication");
  EXPECT_NE(answer.Json()["detail"].get<std::string>().find("name"), std::string::npos);
  HttpAnswer variables =
      PostJson("/v2/messages/publication", {{"name", "m"}, {"variables", json::array({1})}});
  ExpectProblem(variables, 400, "/v2/messages/publication");
  ExpectProblem(PostJson("/v2/jobs/not-a-key/completion", json::object()), 400,
                "/v2/jobs/not-a-key/completion");
}

TEST_F(RestApiTest, BodyOverTheLimitIsPayloadTooLarge) {
  Connection connection(broker_->rest_port());
  ASSERT_TRUE(connection.Send(
      "POST /v2/messages/publication HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string((4 << 20) + 1) + "\r\n\r\n{\"name\":"));
  auto answer = connection.Read();
  ASSERT_TRUE(answer.has_value());
  ExpectProblem(*answer, 413, "/v2/messages/publication");
  EXPECT_TRUE(connection.ClosedWithin(std::chrono::seconds(30)));
}

TEST_F(RestApiTest, HeadersOverTheLimitAreRefused) {
  Connection connection(broker_->rest_port());
  ASSERT_TRUE(connection.Send("GET /v2/topology HTTP/1.1\r\nHost: test\r\nX-Big: " +
                              std::string(32 << 10, 'x') + "\r\n\r\n"));
  auto answer = connection.Read();
  ASSERT_TRUE(answer.has_value());
  ExpectProblem(*answer, 431, "");
}

TEST_F(RestApiTest, UnknownKeysAreNotFound) {
  // A key of partition 1 that no test reaches, and one whose partition does not exist.
  const int64_t unused_key = (int64_t{1} << 51) + (int64_t{1} << 50);
  for (const std::string& path :
       {"/v2/jobs/" + std::to_string(unused_key) + "/completion",
        "/v2/incidents/" + std::to_string(unused_key) + "/resolution",
        "/v2/process-instances/" + std::to_string(unused_key) + "/cancellation",
        "/v2/jobs/" + std::to_string(int64_t{7} << 51) + "/failure"}) {
    ExpectProblem(PostJson(path, json::object()), 404, path);
  }
}

TEST_F(RestApiTest, EndpointsNotBuiltAnswerNotImplemented) {
  HttpAnswer variables = PostJson("/v2/user-tasks/1/variables/search", json::object());
  ExpectProblem(variables, 501, "/v2/user-tasks/1/variables/search");
  EXPECT_NE(variables.Json()["detail"].get<std::string>().find("user task"), std::string::npos);
  ExpectProblem(Call("PUT", "/v2/clock", "application/json", "{}"), 501, "/v2/clock");
  HttpAnswer batches = PostJson("/v2/batch-operations/search", json::object());
  ExpectProblem(batches, 501, "/v2/batch-operations/search");
  EXPECT_NE(batches.Json()["detail"].get<std::string>().find("/v2/batch-operations/search"),
            std::string::npos);
  // Decision instances are routed but not built.
  ExpectProblem(PostJson("/v2/decision-instances/search", json::object()), 501,
                "/v2/decision-instances/search");
  ExpectProblem(Call("GET", "/v1/anything"), 404, "/v1/anything");
}

TEST_F(RestApiTest, UnsafeRequestsFromAnotherSitesPageAreRefused) {
  auto post = [](const std::string& extra_headers) {
    Connection connection(broker_->rest_port());
    std::string text =
        RequestText("POST", "/v2/process-instances/1/cancellation", "application/json", "{}", true);
    text.insert(text.find("\r\n") + 2, extra_headers);
    EXPECT_TRUE(connection.Send(text));
    auto answer = connection.Read();
    return answer ? answer->status : 0;
  };
  EXPECT_EQ(post("Origin: http://evil.example\r\n"), 403);
  EXPECT_EQ(post("Origin: null\r\n"), 403);
  EXPECT_EQ(post("Sec-Fetch-Site: cross-site\r\n"), 403);
  EXPECT_EQ(post("Sec-Fetch-Site: same-site\r\n"), 403);
  // The console's own page, and clients that are not browsers, reach the API (404: no such
  // instance).
  EXPECT_EQ(post("Origin: http://test\r\n"), 404);
  EXPECT_EQ(post("Sec-Fetch-Site: same-origin\r\nOrigin: http://test\r\n"), 404);
  EXPECT_EQ(post(""), 404);
  // Reads are not refused (a cross-site page cannot read the answer without CORS).
  Connection connection(broker_->rest_port());
  std::string get = RequestText("GET", "/v2/topology", "", "", true);
  get.insert(get.find("\r\n") + 2, "Sec-Fetch-Site: cross-site\r\n");
  ASSERT_TRUE(connection.Send(get));
  auto answer = connection.Read();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
}

TEST_F(RestApiTest, KeepAliveServesRequestsInTurn) {
  Connection connection(broker_->rest_port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(connection.Send(RequestText("GET", "/v2/topology")));
    auto answer = connection.Read();
    ASSERT_TRUE(answer.has_value()) << "request " << i;
    EXPECT_EQ(answer->status, 200);
  }
  // Two requests sent at once (pipelined) are answered in order.
  ASSERT_TRUE(connection.Send(RequestText("GET", "/v2/license") + RequestText("GET", "/v2/nope")));
  auto first = connection.Read();
  auto second = connection.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 501);
}

TEST_F(RestApiTest, SlowHeaderClientIsClosedWhileOthersAreServed) {
  Connection slow(broker_->rest_port());
  ASSERT_TRUE(slow.connected());
  std::atomic<bool> stop = false;
  std::atomic<bool> slow_send_failed = false;
  std::thread trickle([&] {
    const std::string request = RequestText("GET", "/v2/topology");
    for (size_t i = 0; i < request.size() - 1 && !stop; ++i) {
      if (!slow.Send(request.substr(i, 1))) {
        slow_send_failed = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  // While it trickles, other clients are answered.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call("GET", "/v2/topology").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // The header timeout (10 s) closes it long before it could finish its headers (~25 s).
  bool closed = slow.ClosedWithin(std::chrono::seconds(20));
  stop = true;
  trickle.join();
  EXPECT_TRUE(closed);
  EXPECT_EQ(Call("GET", "/v2/topology").status, 200);
}

TEST_F(RestApiTest, ConnectionsBeyondTheLimitAreRefused) {
  std::vector<std::unique_ptr<Connection>> open;
  for (int i = 0; i < kMaxConnections; ++i) {
    auto connection = std::make_unique<Connection>(broker_->rest_port());
    // A request answered shows the connection was accepted and counted.
    ASSERT_TRUE(connection->Send(RequestText("GET", "/v2/license")));
    auto answer = connection->Read();
    ASSERT_TRUE(answer.has_value()) << "connection " << i;
    ASSERT_EQ(answer->status, 200);
    open.push_back(std::move(connection));
  }
  Connection extra(broker_->rest_port());
  auto refused = extra.Read();
  ASSERT_TRUE(refused.has_value());
  ExpectProblem(*refused, 503, "");
  EXPECT_TRUE(extra.ClosedWithin(std::chrono::seconds(30)));
  // Once one closes, a new client is served again (the close is noticed asynchronously).
  open.pop_back();
  auto deadline = Clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (Clock::now() < deadline) {
    Connection retry(broker_->rest_port());
    retry.Send(RequestText("GET", "/v2/license", "", "", true));
    auto answer = retry.Read();
    status = answer ? answer->status : 0;
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(RestApiTest, DeployCreateActivateCompleteOverRest) {
  std::string bpmn =
      ReadFileOrEmpty(std::string(TERN_SOURCE_DIR) + "/tests/compat/bpmn/one-task.bpmn");
  ASSERT_FALSE(bpmn.empty());
  std::string multipart =
      "--XYZ\r\nContent-Disposition: form-data; name=\"resources\"; filename=\"one-task.bpmn\"\r\n"
      "Content-Type: application/xml\r\n\r\n" +
      bpmn + "\r\n--XYZ--\r\n";
  HttpAnswer deployed =
      Call("POST", "/v2/deployments", "multipart/form-data; boundary=XYZ", multipart);
  ASSERT_EQ(deployed.status, 200) << deployed.body;
  json deployment = deployed.Json();
  ASSERT_TRUE(deployment["deploymentKey"].is_string());
  const json& process = deployment["deployments"][0]["processDefinition"];
  EXPECT_EQ(process["processDefinitionId"], "one-task");
  EXPECT_EQ(process["resourceName"], "one-task.bpmn");
  ASSERT_TRUE(process["processDefinitionKey"].is_string());

  HttpAnswer created = PostJson("/v2/process-instances",
                                {{"processDefinitionId", "one-task"}, {"variables", {{"n", 1}}}});
  ASSERT_EQ(created.status, 200) << created.body;
  ASSERT_TRUE(created.Json()["processInstanceKey"].is_string());
  // Keys are accepted as numbers too.
  HttpAnswer by_key = PostJson(
      "/v2/process-instances",
      {{"processDefinitionKey", std::stoll(process["processDefinitionKey"].get<std::string>())}});
  ASSERT_EQ(by_key.status, 200) << by_key.body;

  HttpAnswer activated = PostJson(
      "/v2/jobs/activation",
      {{"type", "work"}, {"maxJobsToActivate", 10}, {"timeout", 60000}, {"requestTimeout", 5000}});
  ASSERT_EQ(activated.status, 200) << activated.body;
  json jobs = activated.Json()["jobs"];
  ASSERT_GE(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["customHeaders"]["kind"], "benchmark");
  ASSERT_TRUE(jobs[0]["jobKey"].is_string());
  std::string path = "/v2/jobs/" + jobs[0]["jobKey"].get<std::string>() + "/completion";
  HttpAnswer completed = PostJson(path, {{"variables", {{"done", true}}}});
  EXPECT_EQ(completed.status, 204) << completed.body;
  // The job is gone: completing it again is a 404 problem.
  ExpectProblem(PostJson(path, json::object()), 404, path);
}

TEST_F(RestApiTest, NativeUserTaskLifecycleOverRest) {
  ASSERT_TRUE(Deploy("native-user-task.bpmn"));
  HttpAnswer created =
      PostJson("/v2/process-instances", {{"processDefinitionId", "native-user-task"},
                                         {"variables", {{"reviewers", {"rest-test-reviewers"}}}}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string instance = created.Json()["processInstanceKey"].get<std::string>();

  // Found by candidate group (and the instance), in the state 8.8 names.
  json items = SearchUserTasksUntil(
      {{"filter", {{"candidateGroup", "rest-test-reviewers"}, {"processInstanceKey", instance}}}},
      [](const json& found) { return found.size() == 1; });
  ASSERT_EQ(items.size(), 1u) << items.dump();
  EXPECT_EQ(items[0]["state"], "CREATED");
  EXPECT_EQ(items[0]["elementId"], "review");
  EXPECT_EQ(items[0]["processDefinitionId"], "native-user-task");
  EXPECT_EQ(items[0]["priority"], 70);
  EXPECT_EQ(items[0]["candidateUsers"], json::array({"carol"}));
  EXPECT_FALSE(items[0].contains("assignee"));
  const std::string key = items[0]["userTaskKey"].get<std::string>();
  const std::string task_path = "/v2/user-tasks/" + key;

  HttpAnswer got = Call("GET", task_path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Json()["userTaskKey"], key);
  EXPECT_EQ(got.Json()["processInstanceKey"], instance);

  // Assign, then search by assignee; refusing to override another assignee is a conflict.
  EXPECT_EQ(PostJson(task_path + "/assignment", {{"assignee", "rest-dave"}}).status, 204);
  json assigned =
      SearchUserTasksUntil({{"filter", {{"assignee", "rest-dave"}}}, {"page", {{"limit", 10}}}},
                           [](const json& found) { return !found.empty(); });
  ASSERT_EQ(assigned.size(), 1u) << assigned.dump();
  EXPECT_EQ(assigned[0]["userTaskKey"], key);
  ExpectProblem(
      PostJson(task_path + "/assignment", {{"assignee", "rest-erin"}, {"allowOverride", false}}),
      409, task_path + "/assignment");

  // Update, unassign, assign again.
  HttpAnswer updated = Call("PATCH", task_path, "application/json",
                            json({{"changeset", {{"priority", 90}}}}).dump());
  EXPECT_EQ(updated.status, 204) << updated.body;
  EXPECT_EQ(Call("GET", task_path).Json()["priority"], 90);
  HttpAnswer unassigned = Call("DELETE", task_path + "/assignee");
  EXPECT_EQ(unassigned.status, 204) << unassigned.body;
  EXPECT_FALSE(Call("GET", task_path).Json().contains("assignee"));
  ExpectProblem(Call("PATCH", task_path, "application/json",
                     json({{"changeset", {{"priority", 101}}}}).dump()),
                400, task_path);

  // Complete with variables; completing again is a conflict (the task is COMPLETED).
  HttpAnswer completed = PostJson(task_path + "/completion", {{"variables", {{"approved", true}}}});
  EXPECT_EQ(completed.status, 204) << completed.body;
  ExpectProblem(PostJson(task_path + "/completion", json::object()), 409,
                task_path + "/completion");
  EXPECT_EQ(Call("GET", task_path).Json()["state"], "COMPLETED");

  // The instance went on with the task's variables; once its job completes the instance ends and
  // its tasks leave the partition's state.
  HttpAnswer activated = PostJson("/v2/jobs/activation", {{"type", "archive-reviewed"},
                                                          {"maxJobsToActivate", 1},
                                                          {"timeout", 60000},
                                                          {"requestTimeout", 10000}});
  ASSERT_EQ(activated.status, 200) << activated.body;
  json jobs = activated.Json()["jobs"];
  ASSERT_EQ(jobs.size(), 1u) << activated.body;
  EXPECT_EQ(jobs[0]["processInstanceKey"], instance);
  EXPECT_EQ(jobs[0]["variables"]["approved"], true);
  EXPECT_EQ(
      PostJson("/v2/jobs/" + jobs[0]["jobKey"].get<std::string>() + "/completion", json::object())
          .status,
      204);
  json left = SearchUserTasksUntil({{"filter", {{"processInstanceKey", instance}}}},
                                   [](const json& found) { return found.empty(); });
  EXPECT_TRUE(left.empty()) << left.dump();
  ExpectProblem(Call("GET", task_path), 404, task_path);
  ExpectProblem(PostJson(task_path + "/completion", json::object()), 404,
                task_path + "/completion");
}

TEST_F(RestApiTest, MessageCorrelationAnswersTheInstanceOrNotFound) {
  ASSERT_TRUE(Deploy("elements/message-catch.bpmn"));
  HttpAnswer created = PostJson(
      "/v2/process-instances",
      {{"processDefinitionId", "message-catch"}, {"variables", {{"orderId", "rest-c-1"}}}});
  ASSERT_EQ(created.status, 200) << created.body;
  const json instance = created.Json()["processInstanceKey"];
  // The subscription opens on the message's partition shortly after the instance waits.
  auto deadline = Clock::now() + std::chrono::seconds(30);
  HttpAnswer correlated;
  do {
    correlated =
        PostJson("/v2/messages/correlation", {{"name", "mc-paid"}, {"correlationKey", "rest-c-1"}});
    if (correlated.status != 404) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < deadline);
  ASSERT_EQ(correlated.status, 200) << correlated.body;
  EXPECT_EQ(correlated.Json()["processInstanceKey"], instance);
  EXPECT_TRUE(correlated.Json()["messageKey"].is_string());
  // Nothing waits any more.
  ExpectProblem(
      PostJson("/v2/messages/correlation", {{"name", "mc-paid"}, {"correlationKey", "rest-c-1"}}),
      404, "/v2/messages/correlation");
}

// Searches and reads of history (the embedded gateway's history store): export is asynchronous,
// so the first search polls until the instance is there.
TEST_F(RestApiTest, SearchesAndReadsAnswerFromTheHistoryStore) {
  ASSERT_TRUE(Deploy("one-task.bpmn"));
  HttpAnswer created = PostJson("/v2/process-instances", {{"processDefinitionId", "one-task"},
                                                          {"variables", {{"searchMe", "yes"}}}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string instance = created.Json()["processInstanceKey"];
  const std::string definition = created.Json()["processDefinitionKey"];

  const json by_instance = {{"filter", {{"processInstanceKey", instance}}}};
  HttpAnswer found;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  do {
    found = PostJson("/v2/process-instances/search", by_instance);
    ASSERT_EQ(found.status, 200) << found.body;
    if (found.Json()["items"].size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < deadline);
  ASSERT_EQ(found.Json()["items"].size(), 1u) << found.body;
  EXPECT_EQ(found.Json()["items"][0]["state"], "ACTIVE");
  EXPECT_EQ(found.Json()["page"]["totalItems"], 1);
  EXPECT_EQ(found.headers["content-type"], "application/json");
  EXPECT_TRUE(found.headers["tern-history-lag"].starts_with("records=")) << found.headers.size();

  HttpAnswer read = Call("GET", "/v2/process-instances/" + instance);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.Json()["processDefinitionId"], "one-task");
  HttpAnswer variables =
      PostJson("/v2/variables/search",
               {{"filter", {{"processInstanceKey", instance}, {"name", "searchMe"}}}});
  ASSERT_EQ(variables.status, 200) << variables.body;
  ASSERT_EQ(variables.Json()["items"].size(), 1u) << variables.body;
  EXPECT_EQ(variables.Json()["items"][0]["value"], "\"yes\"");
  HttpAnswer elements = PostJson("/v2/element-instances/search", by_instance);
  ASSERT_EQ(elements.status, 200) << elements.body;
  EXPECT_GE(elements.Json()["items"].size(), 1u);

  HttpAnswer xml = Call("GET", "/v2/process-definitions/" + definition + "/xml");
  ASSERT_EQ(xml.status, 200) << xml.body;
  EXPECT_EQ(xml.headers["content-type"], "text/xml");
  EXPECT_NE(xml.body.find("one-task"), std::string::npos);
  HttpAnswer statistics = PostJson(
      "/v2/process-definitions/" + definition + "/statistics/element-instances", json::object());
  ASSERT_EQ(statistics.status, 200) << statistics.body;
  bool task_active = false;
  const json counts = statistics.Json();
  for (const auto& item : counts["items"]) {
    if (item["active"].get<int64_t>() > 0) task_active = true;
  }
  EXPECT_TRUE(task_active) << statistics.body;

  HttpAnswer bad = PostJson("/v2/process-instances/search", {{"filter", {{"color", "red"}}}});
  ExpectProblem(bad, 400, "/v2/process-instances/search");
  EXPECT_NE(bad.Json()["detail"].get<std::string>().find("'filter.color'"), std::string::npos);
  ExpectProblem(Call("GET", "/v2/incidents/42"), 404, "/v2/incidents/42");
  ExpectProblem(Call("GET", "/v2/variables/abc"), 400, "/v2/variables/abc");
}

// A broker with three partitions: a user task search walks them in key order.
class RestApiThreePartitionsTest : public RestApiTest {
 public:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess({"--partitions", "3"});
    broker_->Start();
  }
};

TEST_F(RestApiThreePartitionsTest, UserTaskSearchPagesAcrossPartitionsInKeyOrder) {
  ASSERT_TRUE(Deploy("native-user-task.bpmn"));
  constexpr size_t kTasks = 6;
  for (size_t i = 0; i < kTasks; ++i) {
    HttpAnswer created =
        PostJson("/v2/process-instances", {{"processDefinitionId", "native-user-task"},
                                           {"variables", {{"reviewers", {"paged-reviewers"}}}}});
    ASSERT_EQ(created.status, 200) << created.body;
  }
  const json filter = {{"candidateGroup", "paged-reviewers"}};
  json all = SearchUserTasksUntil({{"filter", filter}},
                                  [](const json& found) { return found.size() == kTasks; });
  ASSERT_EQ(all.size(), kTasks) << all.dump();
  std::set<int64_t> partitions;
  for (const auto& task : all) {
    partitions.insert(std::stoll(task["userTaskKey"].get<std::string>()) >> 51);
  }
  // Instances are created round-robin over the partitions.
  EXPECT_GT(partitions.size(), 1u);

  // Pages of 4: the cursor of a full page leads to the rest, in the same key order.
  std::vector<std::string> paged;
  json page_request = {{"filter", filter}, {"page", {{"limit", 4}}}};
  for (int round = 0; round < 5; ++round) {
    HttpAnswer answer = PostJson("/v2/user-tasks/search", page_request);
    ASSERT_EQ(answer.status, 200) << answer.body;
    json page = answer.Json();
    for (const auto& task : page["items"]) paged.push_back(task["userTaskKey"]);
    if (!page["page"].contains("endCursor")) break;
    page_request["page"]["after"] = page["page"]["endCursor"];
  }
  std::vector<std::string> expected;
  for (const auto& task : all) expected.push_back(task["userTaskKey"]);
  EXPECT_EQ(paged, expected);
  for (size_t i = 1; i < expected.size(); ++i) {
    EXPECT_LT(std::stoll(expected[i - 1]), std::stoll(expected[i]));
  }
}

// A broker with history off: searches answer 501 saying why.
class RestApiHistoryOffTest : public RestApiTest {
 public:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess({"--history", "none"});
    broker_->Start();
  }
};

TEST_F(RestApiHistoryOffTest, SearchesAnswerNotImplementedSayingWhy) {
  HttpAnswer search = PostJson("/v2/process-instances/search", json::object());
  ExpectProblem(search, 501, "/v2/process-instances/search");
  EXPECT_NE(search.Json()["detail"].get<std::string>().find("history"), std::string::npos);
  ExpectProblem(Call("GET", "/v2/process-definitions/1/xml"), 501, "/v2/process-definitions/1/xml");
}

}  // namespace
}  // namespace tern::testing
