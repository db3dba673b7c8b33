#include "test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tern::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    throw std::runtime_error("bind() failed");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/tern-client-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::vector<std::string> Environment(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : overrides) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv_in, const std::string& input,
                         const std::map<std::string, std::string>& env_in, const std::string& cwd) {
  // A child that exits without reading its stdin must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> argv_strings = argv_in;
  std::vector<std::string> env_strings = Environment(env_in);
  auto argv = CStrings(argv_strings);
  auto envp = CStrings(env_strings);
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult result;
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0];
  int err_fd = err_pipe[0];
  char buffer[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    std::vector<pollfd> fds;
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        ssize_t n = write(in_fd, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 || written == input.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t n = read(p.fd, buffer, sizeof(buffer));
      if (n <= 0) {
        close(p.fd);
        if (p.fd == out_fd) out_fd = -1;
        if (p.fd == err_fd) err_fd = -1;
        continue;
      }
      (p.fd == out_fd ? result.out : result.err).append(buffer, static_cast<size_t>(n));
    }
  }
  if (in_fd >= 0) close(in_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = ExitCode(status);
  return result;
}

// --- BrokerProcess --------------------------------------------------------------------------

BrokerProcess::BrokerProcess()
    : gateway_port_(FreePort()),
      monitoring_port_(FreePort()),
      cluster_port_(FreePort()),
      rest_port_(FreePort()),
      log_path_(dir_.File("broker.log")) {}

BrokerProcess::BrokerProcess(std::vector<std::string> extra_args, std::string data_dir)
    : BrokerProcess() {
  extra_args_ = std::move(extra_args);
  data_dir_ = std::move(data_dir);
}

bool BrokerProcess::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = ExitCode(status);
    pid_ = -1;
    return false;
  }
  return true;
}

int64_t ResidentBytes(pid_t pid) {
  std::string status = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/status");
  auto at = status.find("VmRSS:");
  if (at == std::string::npos) return 0;
  return std::stoll(status.substr(at + 6)) * 1024;  // reported in kB
}

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) Kill();
}

void BrokerProcess::Start() {
  if (pid_ > 0) throw std::runtime_error("broker already running");
  std::vector<std::string> args = {
      TERN_BROKER_BIN,
      "--data-dir",
      data_dir(),
      "--gateway-address",
      "127.0.0.1:" + std::to_string(gateway_port_),
      "--monitoring-address",
      "127.0.0.1:" + std::to_string(monitoring_port_),
      "--cluster-address",
      "127.0.0.1:" + std::to_string(cluster_port_),
      "--rest-address",
      "127.0.0.1:" + std::to_string(rest_port_),
  };
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  auto argv = CStrings(args);
  int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(null, 0);
    dup2(log, 1);  // the broker logs to stdout: keep it for LogTail
    dup2(log, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log);
  close(null);
  pid_ = pid;
  WaitUntilReady();
}

void BrokerProcess::WaitUntilReady() {
  auto client = NewClient();
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("tern-broker exited at start (code " +
                               std::to_string(ExitCode(status)) + "):\n" + LogTail());
    }
    auto topology =
        client.newTopologyRequest().requestTimeout(std::chrono::milliseconds(1000)).send().get();
    if (topology.ok() && !topology->brokers.empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("tern-broker did not answer Topology within 60 s:\n" + LogTail());
}

void BrokerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void BrokerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string BrokerProcess::LogTail() const {
  std::string log = ReadFileOrEmpty(log_path_);
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

Client BrokerProcess::NewClient() const {
  RetryPolicy retry;
  retry.initialBackoff = std::chrono::milliseconds(50);
  retry.maxBackoff = std::chrono::milliseconds(500);
  auto client = Client::newClientBuilder()
                    .gatewayAddress(address())
                    .defaultRequestTimeout(std::chrono::seconds(20))
                    .retryPolicy(retry)
                    .build();
  if (!client.ok()) throw std::runtime_error(client.status().ToString());
  return *client;
}

std::string OneTaskProcess(const std::string& process_id, const std::string& job_type,
                           int retries) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
                  id="definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id=")" +
         process_id + R"(" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="task">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type=")" +
         job_type + R"(" retries=")" + std::to_string(retries) + R"(" />
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
)";
}

void DeployOneTask(const Client& client, const std::string& process_id, const std::string& job_type,
                   int retries) {
  auto deployed =
      client.newDeployResourceCommand()
          .addResourceString(OneTaskProcess(process_id, job_type, retries), process_id + ".bpmn")
          .send()
          .get();
  ASSERT_TRUE(deployed.ok()) << deployed.status();
}

int64_t StartInstance(const Client& client, const std::string& process_id,
                      nlohmann::json variables) {
  auto created = client.newCreateInstanceCommand()
                     .bpmnProcessId(process_id)
                     .variables(std::move(variables))
                     .send()
                     .get();
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? created->processInstanceKey : 0;
}

}  // namespace tern::testing
