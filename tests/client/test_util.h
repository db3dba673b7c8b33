#pragma once

// Helpers for the client tests: free ports, temporary directories, child processes (brokers,
// ternctl, zbctl) and a broker process that is always killed.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tern/client.h"

namespace tern::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int FreePort();

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFileOrEmpty(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `input` on stdin and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "",
                         const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = "");

// A tern-broker child process on free ports with its own data directory. The destructor kills
// it (SIGKILL) if it still runs.
class BrokerProcess {
 public:
  BrokerProcess();
  // With more flags, and the data directory elsewhere (a small tmpfs) when `data_dir` is set.
  explicit BrokerProcess(std::vector<std::string> extra_args, std::string data_dir = "");
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Starts the broker (again, on the same ports and data) and waits until Topology answers.
  void Start();
  // SIGTERM and wait (graceful).
  void Stop();
  // SIGKILL and wait (a crash).
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Whether the process still runs (reaps it if it exited, keeping its exit code).
  bool Alive();
  int exit_code() const { return exit_code_; }

  std::string address() const { return "127.0.0.1:" + std::to_string(gateway_port_); }
  int port() const { return gateway_port_; }
  int cluster_port() const { return cluster_port_; }
  int monitoring_port() const { return monitoring_port_; }
  // The embedded gateway's REST API.
  int rest_port() const { return rest_port_; }
  const std::string& log_path() const { return log_path_; }
  std::string data_dir() const { return data_dir_.empty() ? dir_.File("data") : data_dir_; }
  // The end of the broker's log, for failure messages.
  std::string LogTail() const;

  // A client for this broker with short timeouts.
  Client NewClient() const;

 private:
  void WaitUntilReady();
  TempDir dir_;
  int gateway_port_;
  int monitoring_port_;
  int cluster_port_;
  int rest_port_;
  std::string log_path_;
  std::vector<std::string> extra_args_;
  std::string data_dir_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// VmRSS of a process in bytes, from /proc/<pid>/status (0 when unreadable).
int64_t ResidentBytes(pid_t pid);

// The BPMN of a process with one service task of `job_type` between a start and an end event.
std::string OneTaskProcess(const std::string& process_id, const std::string& job_type,
                           int retries = 3);

// Deploys OneTaskProcess(process_id, job_type, retries); a failure fails the current test.
void DeployOneTask(const Client& client, const std::string& process_id, const std::string& job_type,
                   int retries = 3);

// Creates an instance of the latest version of `process_id`; a failure fails the current test
// and gives 0.
int64_t StartInstance(const Client& client, const std::string& process_id,
                      nlohmann::json variables);

// Waits (polling every 10 ms, up to `limit`) until `condition` holds; returns whether it did.
// Used to wait for asynchronous effects, never to measure time.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace tern::testing
