// worker_bench: how fast one job worker completes jobs that are already waiting, for Tern's C++
// JobWorker and, in the same run against the same broker, for a zeebe-node 8.3.2 worker.
//
// It starts a tern-broker (or uses --address), deploys tests/compat/bpmn/one-task.bpmn (job
// type "work"), then for each worker in turn: creates --jobs instances (not timed), starts the
// worker with a no-op handler and times it until every job is completed (the CompleteJob
// answered). Beside each rate it prints the CPU time the worker process and the broker used
// in that phase, and the busiest broker thread's share of the wall time: a thread near 100 %
// means that thread, not the worker, sets the rate.
//
//   build/bin/worker_bench --broker build/bin/tern-broker --jobs 50000
//
// The node worker is bench/worker_bench_node.mjs; it needs `npm ci` in tests/compat.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tern/client.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds (user + system) of this process.
double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// utime + stime of a /proc/<pid>[/task/<tid>]/stat file, in seconds; -1 when unreadable.
double StatCpuSeconds(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  double ticks = 0;
  // After the command: state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of a process and of each of its threads (by thread id and name).
struct CpuSample {
  double process = 0;
  std::map<std::string, double> threads;  // "tid name" -> seconds
};

CpuSample SampleCpu(pid_t pid) {
  CpuSample sample;
  if (pid <= 0) return sample;
  std::string base = "/proc/" + std::to_string(pid);
  sample.process = StatCpuSeconds(base + "/stat");
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(base + "/task", error)) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    sample.threads[entry.path().filename().string() + " " + name] =
        StatCpuSeconds((entry.path() / "stat").string());
  }
  return sample;
}

// The thread that used the most CPU between two samples: its name and its CPU seconds.
std::pair<std::string, double> BusiestThread(const CpuSample& before, const CpuSample& after) {
  std::pair<std::string, double> best{"-", 0};
  for (const auto& [thread, seconds] : after.threads) {
    auto it = before.threads.find(thread);
    double used = seconds - (it == before.threads.end() ? 0 : it->second);
    if (used > best.second) best = {thread.substr(thread.find(' ') + 1), used};
  }
  return best;
}

int FreePort() {
  // Port 0 of a listening gRPC server is not available here; ask the kernel through a socket.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// A tern-broker child on free ports with a fresh data directory; killed on destruction.
class Broker {
 public:
  explicit Broker(const std::string& binary) {
    char pattern[] = "/tmp/worker-bench-XXXXXX";
    dir_ = mkdtemp(pattern);
    address_ = "127.0.0.1:" + std::to_string(FreePort());
    std::vector<std::string> args = {binary,
                                     "--data-dir",
                                     dir_ + "/data",
                                     "--gateway-address",
                                     address_,
                                     "--monitoring-address",
                                     "127.0.0.1:" + std::to_string(FreePort()),
                                     "--cluster-address",
                                     "127.0.0.1:" + std::to_string(FreePort()),
                                     "--rest-address",
                                     "127.0.0.1:0"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string log = dir_ + "/broker.log";
    pid_ = fork();
    if (pid_ == 0) {
      int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      int null_fd = open("/dev/null", O_RDWR);
      dup2(null_fd, 0);
      dup2(null_fd, 1);
      dup2(log_fd, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Broker() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

 private:
  std::string dir_;
  std::string address_;
  pid_t pid_ = -1;
};

bool WaitForTopology(const tern::Client& client) {
  auto end = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < end) {
    auto topology =
        client.newTopologyRequest().requestTimeout(std::chrono::seconds(1)).send().get();
    if (topology.ok() && !topology->brokers.empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Creates `count` instances of one-task, at most `window` in flight; returns false on errors.
bool CreateInstances(const tern::Client& client, int count, int window) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int failed = 0;
  std::string first_error;
  auto start = Clock::now();
  auto command = client.newCreateInstanceCommand().bpmnProcessId("one-task").latestVersion();
  for (int i = 0; i < count; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    command.send(
        [&](tern::Result<tern::ProcessInstanceEvent> result) {
          std::lock_guard lock(mu);
          --in_flight;
          if (!result.ok() && failed++ == 0) first_error = result.status().ToString();
          cv.notify_all();
        },
        tern::CallbackThread::kGrpc);
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  std::printf("  created %d instances in %.1f s (%.0f/s)%s%s\n", count - failed,
              SecondsSince(start), (count - failed) / SecondsSince(start),
              failed > 0 ? ", first error: " : "", first_error.c_str());
  return failed == 0;
}

struct Phase {
  std::string name;
  double jobs_per_second = 0;
  double seconds = 0;
  double worker_cpu_seconds = 0;  // -1: not measured
  double broker_cpu_seconds = 0;
  std::string busiest_thread;
  double busiest_thread_share = 0;  // of the wall time
};

void PrintPhase(const Phase& phase) {
  char worker_cpu[32] = "n/a";
  if (phase.worker_cpu_seconds >= 0) {
    std::snprintf(worker_cpu, sizeof(worker_cpu), "%.1f s", phase.worker_cpu_seconds);
  }
  std::printf(
      "  %-36s %7.0f jobs/s  (%.1f s; worker CPU %s; broker CPU %.1f s, busiest broker "
      "thread '%s' %.0f%% of wall time)\n",
      phase.name.c_str(), phase.jobs_per_second, phase.seconds, worker_cpu,
      phase.broker_cpu_seconds, phase.busiest_thread.c_str(), phase.busiest_thread_share * 100);
}

struct CppOptions {
  int max_jobs_active = 32;
  int concurrency = 1;
  bool stream = false;
};

Phase RunCppWorker(const tern::Client& client, int jobs, const CppOptions& options,
                   pid_t broker_pid) {
  Phase phase;
  phase.name = "C++ JobWorker (max " + std::to_string(options.max_jobs_active) + ", threads " +
               std::to_string(options.concurrency) + (options.stream ? ", stream)" : ")");
  auto broker_before = SampleCpu(broker_pid);
  double cpu_before = SelfCpuSeconds();
  auto start = Clock::now();
  auto worker = client.newWorker()
                    .jobType("work")
                    .handler([](const tern::ActivatedJob&, tern::JobClient&) {})
                    .autoComplete(true)
                    .maxJobsActive(options.max_jobs_active)
                    .concurrency(options.concurrency)
                    .streamEnabled(options.stream)
                    .timeout(std::chrono::minutes(5))
                    .requestTimeout(std::chrono::seconds(5))
                    .open();
  if (!worker.ok()) {
    std::fprintf(stderr, "worker: %s\n", worker.status().ToString().c_str());
    std::exit(1);
  }
  auto limit = start + std::chrono::minutes(10);
  while (worker->metrics().jobsCompleted < jobs && Clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  phase.seconds = SecondsSince(start);
  auto metrics = worker->metrics();
  phase.worker_cpu_seconds = SelfCpuSeconds() - cpu_before;
  auto broker_after = SampleCpu(broker_pid);
  worker->close();
  if (metrics.jobsCompleted < jobs) {
    std::fprintf(stderr, "only %lld of %d jobs completed\n",
                 static_cast<long long>(metrics.jobsCompleted), jobs);
  }
  phase.jobs_per_second = metrics.jobsCompleted / phase.seconds;
  phase.broker_cpu_seconds = broker_after.process - broker_before.process;
  auto [thread, seconds] = BusiestThread(broker_before, broker_after);
  phase.busiest_thread = thread;
  phase.busiest_thread_share = seconds / phase.seconds;
  std::printf("  (polls %lld, activated %lld, command errors %lld, poll errors %lld)\n",
              static_cast<long long>(metrics.polls), static_cast<long long>(metrics.jobsActivated),
              static_cast<long long>(metrics.commandErrors),
              static_cast<long long>(metrics.pollErrors));
  return phase;
}

Phase RunNodeWorker(const std::string& script, const std::string& address, int jobs, int max_jobs,
                    int poll_interval_ms, pid_t broker_pid) {
  Phase phase;
  phase.name = "zeebe-node 8.3.2 worker (max " + std::to_string(max_jobs) + ", poll " +
               std::to_string(poll_interval_ms) + " ms)";
  phase.worker_cpu_seconds = -1;
  std::string command = "node '" + script + "' --address " + address + " --type work --jobs " +
                        std::to_string(jobs) + " --max-jobs " + std::to_string(max_jobs) +
                        " --poll-interval " + std::to_string(poll_interval_ms);
  auto broker_before = SampleCpu(broker_pid);
  rusage children_before{};
  getrusage(RUSAGE_CHILDREN, &children_before);
  auto start = Clock::now();
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  int status = pipe != nullptr ? pclose(pipe) : -1;
  phase.seconds = SecondsSince(start);
  auto broker_after = SampleCpu(broker_pid);
  rusage children_after{};
  getrusage(RUSAGE_CHILDREN, &children_after);
  auto seconds = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  phase.worker_cpu_seconds = seconds(children_after) - seconds(children_before);
  if (status != 0) {
    std::fprintf(stderr, "node worker failed (status %d): %s\n", status, out.c_str());
    phase.jobs_per_second = 0;
    return phase;
  }
  // {"jobs":N,"seconds":S,"jobs_per_second":R,...}: the script's own timing excludes node's
  // start-up.
  auto key = out.find("\"jobs_per_second\":");
  if (key != std::string::npos) phase.jobs_per_second = std::stod(out.substr(key + 18));
  auto s = out.find("\"seconds\":");
  if (s != std::string::npos) phase.seconds = std::stod(out.substr(s + 10));
  phase.broker_cpu_seconds = broker_after.process - broker_before.process;
  auto [thread, busy] = BusiestThread(broker_before, broker_after);
  phase.busiest_thread = thread;
  phase.busiest_thread_share = busy / phase.seconds;
  return phase;
}

}  // namespace

int main(int argc, char** argv) {
  std::string broker_binary;
  std::string address;
  std::string bpmn = std::string(TERN_SOURCE_DIR) + "/tests/compat/bpmn/one-task.bpmn";
  std::string node_script = std::string(TERN_SOURCE_DIR) + "/bench/worker_bench_node.mjs";
  int jobs = 50000;
  CppOptions cpp;
  std::vector<int> max_jobs_list = {32, 128, 512};
  bool skip_node = false;
  int node_max_jobs = 32;
  int node_poll_interval_ms = 300;

  CLI::App app{"worker_bench: jobs/s of one job worker with a no-op handler"};
  app.add_option("--broker", broker_binary, "tern-broker binary to start (fresh data directory)");
  app.add_option("--address", address, "use this running gateway instead of starting a broker");
  app.add_option("--jobs", jobs, "jobs per worker run (instances pre-created before each)");
  app.add_option("--max-jobs", max_jobs_list, "maxJobsActive values of the C++ worker runs");
  app.add_option("--concurrency", cpp.concurrency, "handler threads of the C++ worker");
  app.add_flag("--stream", cpp.stream, "the C++ worker also opens a job stream");
  app.add_option("--node-max-jobs", node_max_jobs, "maxJobsToActivate of the zeebe-node worker");
  app.add_option("--node-poll-interval", node_poll_interval_ms,
                 "pollInterval of the zeebe-node worker in ms (its default: 300)");
  app.add_flag("--skip-node", skip_node, "do not run the zeebe-node worker");
  app.add_option("--bpmn", bpmn, "the one-task process (job type \"work\")");
  CLI11_PARSE(app, argc, argv);
  if (broker_binary.empty() == address.empty()) {
    std::fprintf(stderr, "give exactly one of --broker and --address\n");
    return 2;
  }

  std::unique_ptr<Broker> broker;
  if (!broker_binary.empty()) {
    broker = std::make_unique<Broker>(broker_binary);
    address = broker->address();
  }
  pid_t broker_pid = broker ? broker->pid() : -1;
  auto client = tern::Client::newClientBuilder()
                    .gatewayAddress(address)
                    .defaultRequestTimeout(std::chrono::seconds(30))
                    .build();
  if (!client.ok() || !WaitForTopology(*client)) {
    std::fprintf(stderr, "no gateway at %s\n", address.c_str());
    return 1;
  }
  auto deployed = client->newDeployResourceCommand().addResourceFile(bpmn).send().get();
  if (!deployed.ok()) {
    std::fprintf(stderr, "deploy: %s\n", deployed.status().ToString().c_str());
    return 1;
  }
  std::printf("worker_bench: %d jobs per run against %s\n", jobs, address.c_str());

  std::vector<Phase> phases;
  for (int max_jobs : max_jobs_list) {
    cpp.max_jobs_active = max_jobs;
    if (!CreateInstances(*client, jobs, 512)) return 1;
    phases.push_back(RunCppWorker(*client, jobs, cpp, broker_pid));
    PrintPhase(phases.back());
  }
  if (!skip_node) {
    if (!CreateInstances(*client, jobs, 512)) return 1;
    phases.push_back(RunNodeWorker(node_script, address, jobs, node_max_jobs, node_poll_interval_ms,
                                   broker_pid));
    PrintPhase(phases.back());
  }

  std::printf("\nresults\n");
  for (const auto& phase : phases) PrintPhase(phase);
  std::printf("{");
  for (size_t i = 0; i < phases.size(); ++i) {
    std::printf("%s\"%s\": %.1f", i == 0 ? "" : ", ", phases[i].name.c_str(),
                phases[i].jobs_per_second);
  }
  std::printf("}\n");
  return 0;
}
