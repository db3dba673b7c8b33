// tern-bench: Zeebe's benchmark starter and worker in one process.
//
// The starter deploys a one-service-task process and creates instances at a target rate (or as
// fast as the broker takes them); the worker receives the jobs through StreamActivatedJobs (as
// Zeebe's benchmark worker does), with ActivateJobs polling as a fallback, and completes each
// at once. It prints completed instances per second, p50/p99 of create->complete latency and
// the broker's resident memory, and ends with one JSON line of those figures.
//
//   tern-bench --gateway 127.0.0.1:26500 --rate 0 --duration 30
//
// Overload (--creators N, no rate): N creates always outstanding, each sent again as soon as the
// last is answered, as a fleet of independent clients would; creates the broker refuses with
// RESOURCE_EXHAUSTED (backpressure) are counted and retried after a short pause
// (--refused-backoff-ms), as a client backing off would. It prints the refusals, the
// create->complete percentiles of the instances accepted, and the broker's RSS, and checks that
// no CompleteJob was refused (work accepted is always finished).
//
//   tern-bench --creators 16 --duration 20
//
// Latency: from sending CreateProcessInstance to the OK answer of the job's CompleteJob (the
// instance completes in the same batch).
//
// Pending state (--preload-timers N, --preload-subscriptions N, --timer-probes M): measures
// twice in one run, on the broker as it is and again after creating N instances that wait on a
// timer due in 24 h and N that wait on a message nobody publishes, and prints both throughputs
// side by side. After each measurement M probe instances wait on timers due 2 s ahead and then
// reach a job; the time from each timer's due date to its job arriving on a stream is printed
// (an upper bound on how late the timer fired: it includes the commit and the push).
//
//   tern-bench --preload-timers 100000 --preload-subscriptions 100000 --timer-probes 200

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway.grpc.pb.h"

namespace {

namespace gp = gateway_protocol;
using Clock = std::chrono::steady_clock;

constexpr char kProcess[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="bench" targetNamespace="bench">
  <bpmn:process id="benchmark" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:serviceTask id="task">
      <bpmn:extensionElements><zeebe:taskDefinition type="benchmark-task" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>)";

// start -> timer (24 h) -> end, and start -> message catch (correlation key =key) -> end: the
// pending state; and start -> timer at =due -> job -> end: the timer probes.
constexpr char kPendingProcesses[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="pending" targetNamespace="bench">
  <bpmn:message id="never" name="bench-never-published">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=key" /></bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="bench-timer-wait" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT24H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:process id="bench-message-wait" isExecutable="true">
    <bpmn:startEvent id="start2"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="g1" sourceRef="start2" targetRef="wait2" />
    <bpmn:intermediateCatchEvent id="wait2"><bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="never" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="g2" sourceRef="wait2" targetRef="end2" />
    <bpmn:endEvent id="end2"><bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:process id="bench-timer-probe" isExecutable="true">
    <bpmn:startEvent id="start3"><bpmn:outgoing>h1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="h1" sourceRef="start3" targetRef="wait3" />
    <bpmn:intermediateCatchEvent id="wait3"><bpmn:incoming>h1</bpmn:incoming><bpmn:outgoing>h2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>=date and time(due)</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="h2" sourceRef="wait3" targetRef="probe" />
    <bpmn:serviceTask id="probe">
      <bpmn:extensionElements><zeebe:taskDefinition type="bench-timer-probe" /></bpmn:extensionElements>
      <bpmn:incoming>h2</bpmn:incoming><bpmn:outgoing>h3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="h3" sourceRef="probe" targetRef="end3" />
    <bpmn:endEvent id="end3"><bpmn:incoming>h3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>)";

// About the size of Zeebe's "typical" benchmark payload (~0.5 KB).
constexpr char kPayload[] =
    R"({"customerId":"c-123456","orderId":"o-987654","amount":1234.56,"currency":"EUR",)"
    R"("items":[{"sku":"A-1","quantity":2,"price":100.5},{"sku":"B-2","quantity":1,"price":)"
    R"(33.46}],"shipping":{"street":"Main Street 1","city":"Berlin","zip":"10115",)"
    R"("country":"DE"},"priority":"normal","channel":"web","notes":"benchmark payload"})";

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// GET http://host:port/path with a plain socket (the broker's monitoring endpoint).
std::string HttpGet(const std::string& host_port, const std::string& path) {
  auto colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  int port = std::stoi(host_port.substr(colon + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0)
        response.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  return response;
}

double BrokerRssMib(const std::string& monitoring) {
  std::string metrics = HttpGet(monitoring, "/metrics");
  const std::string name = "\ntern_process_resident_memory_bytes ";
  auto at = metrics.find(name);
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + name.size())) / (1024.0 * 1024.0);
}

class Bench {
 public:
  Bench(std::shared_ptr<grpc::Channel> channel, int64_t max_in_flight)
      : stub_(gp::Gateway::NewStub(channel)), max_in_flight_(max_in_flight) {}

  bool Deploy(const char* name = "benchmark.bpmn", const char* content = kProcess) {
    grpc::ClientContext context;
    gp::DeployResourceRequest request;
    auto* resource = request.add_resources();
    resource->set_name(name);
    resource->set_content(content);
    gp::DeployResourceResponse response;
    grpc::Status status = stub_->DeployResource(&context, request, &response);
    if (!status.ok()) std::fprintf(stderr, "deploy failed: %s\n", status.error_message().c_str());
    return status.ok();
  }

  // Creates one instance unless too many creates are in flight (or the broker refused one a
  // moment ago).
  bool TryCreate() {
    if (creates_in_flight_.load() >= max_in_flight_) return false;
    if (Clock::now().time_since_epoch().count() < pause_creates_until_.load()) return false;
    ++creates_in_flight_;
    auto* call = new CreateCall;
    call->request.set_bpmnprocessid("benchmark");
    call->request.set_version(-1);
    call->request.set_variables(kPayload);
    call->started = Clock::now();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stub_->async()->CreateProcessInstance(
        &call->context, &call->request, &call->response, [this, call](grpc::Status status) {
          --creates_in_flight_;
          if (status.ok()) {
            ++created_;
            std::lock_guard lock(mutex_);
            // The job may be pushed and completed before this answer arrives.
            if (completed_early_.erase(call->response.processinstancekey()) == 0) {
              started_at_[call->response.processinstancekey()] = call->started;
            }
          } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
            ++create_refused_;
            auto pause = std::chrono::duration_cast<Clock::duration>(
                std::chrono::milliseconds(refused_backoff_ms_));
            pause_creates_until_ = (Clock::now() + pause).time_since_epoch().count();
          } else {
            ++create_errors_;
          }
          delete call;
        });
    return true;
  }

  // Creates one instance of another process, not measured; `on_done` gets the answer.
  bool TryCreateUnmeasured(const std::string& process_id, const std::string& variables,
                           std::function<void(const grpc::Status&, int64_t)> on_done) {
    if (creates_in_flight_.load() >= max_in_flight_) return false;
    ++creates_in_flight_;
    auto* call = new CreateCall;
    call->request.set_bpmnprocessid(process_id);
    call->request.set_version(-1);
    call->request.set_variables(variables);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stub_->async()->CreateProcessInstance(
        &call->context, &call->request, &call->response,
        [this, call, on_done = std::move(on_done)](grpc::Status status) {
          --creates_in_flight_;
          on_done(status, call->response.processinstancekey());
          delete call;
        });
    return true;
  }

  void StartWorker() {
    stream_ = std::make_unique<JobStream>(
        this, "benchmark-task",
        [this](const gp::ActivatedJob& job) { Complete(job.key(), job.processinstancekey()); });
    poller_ = std::thread([this] { Poll(); });
  }

  // A second stream, for the timer probes' jobs; `on_job` runs on gRPC's thread.
  void StartProbeStream(std::function<void(const gp::ActivatedJob&)> on_job) {
    probe_stream_ = std::make_unique<JobStream>(this, "bench-timer-probe", std::move(on_job));
  }

  void Stop() {
    stopping_ = true;
    if (stream_) stream_->Cancel();
    if (probe_stream_) probe_stream_->Cancel();
    if (poller_.joinable()) poller_.join();
    // Let in-flight calls drain.
    for (int i = 0; i < 200 && (completes_in_flight_ > 0 || creates_in_flight_ > 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (stream_) stream_->Wait();
    if (probe_stream_) probe_stream_->Wait();
  }

  void MarkWindow(Clock::time_point start) {
    std::lock_guard lock(mutex_);
    window_start_ = start;
    latencies_ms_.clear();
    completed_in_window_ = 0;
  }

  struct Figures {
    int64_t completed = 0;
    std::vector<double> latencies_ms;
  };
  Figures Snapshot() {
    std::lock_guard lock(mutex_);
    return Figures{completed_in_window_, latencies_ms_};
  }
  int64_t created() const { return created_; }
  int64_t create_errors() const { return create_errors_; }
  int64_t complete_errors() const { return complete_errors_; }
  int64_t create_refused() const { return create_refused_; }
  int64_t complete_refused() const { return complete_refused_; }
  // Instances created and not (yet) seen completing.
  int64_t open_instances() {
    std::lock_guard lock(mutex_);
    return static_cast<int64_t>(started_at_.size());
  }
  void set_refused_backoff_ms(int64_t ms) { refused_backoff_ms_ = ms; }

 private:
  struct CreateCall {
    grpc::ClientContext context;
    gp::CreateProcessInstanceRequest request;
    gp::CreateProcessInstanceResponse response;
    Clock::time_point started;
  };
  struct CompleteCall {
    grpc::ClientContext context;
    gp::CompleteJobRequest request;
    gp::CompleteJobResponse response;
    int64_t instance_key = 0;
  };

  // StreamActivatedJobs: every job pushed goes to `on_job` (the benchmark's: completed at once).
  class JobStream : public grpc::ClientReadReactor<gp::ActivatedJob> {
   public:
    JobStream(Bench* bench, const std::string& type,
              std::function<void(const gp::ActivatedJob&)> on_job)
        : on_job_(std::move(on_job)) {
      request_.set_type(type);
      request_.set_worker("tern-bench");
      request_.set_timeout(60'000);
      bench->stub_->async()->StreamActivatedJobs(&context_, &request_, this);
      StartRead(&job_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      on_job_(job_);
      StartRead(&job_);
    }
    void OnDone(const grpc::Status&) override {
      std::lock_guard lock(mutex_);
      done_ = true;
      done_cv_.notify_all();
    }
    void Cancel() { context_.TryCancel(); }
    void Wait() {
      std::unique_lock lock(mutex_);
      done_cv_.wait(lock, [this] { return done_; });
    }

   private:
    std::function<void(const gp::ActivatedJob&)> on_job_;
    grpc::ClientContext context_;
    gp::StreamActivatedJobsRequest request_;
    gp::ActivatedJob job_;
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
  };

  // Jobs created before the stream opened are not pushed: poll for them now and then.
  void Poll() {
    while (!stopping_) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      gp::ActivateJobsRequest request;
      request.set_type("benchmark-task");
      request.set_worker("tern-bench-poller");
      request.set_timeout(60'000);
      request.set_maxjobstoactivate(256);
      request.set_requesttimeout(1'000);
      auto reader = stub_->ActivateJobs(&context, request);
      gp::ActivateJobsResponse response;
      while (reader->Read(&response)) {
        for (const auto& job : response.jobs()) Complete(job.key(), job.processinstancekey());
      }
      reader->Finish();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  void Complete(int64_t job_key, int64_t instance_key) {
    ++completes_in_flight_;
    auto* call = new CompleteCall;
    call->request.set_jobkey(job_key);
    call->instance_key = instance_key;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stub_->async()->CompleteJob(
        &call->context, &call->request, &call->response, [this, call](grpc::Status status) {
          --completes_in_flight_;
          if (status.ok()) {
            Completed(call->instance_key);
          } else {
            ++complete_errors_;
            if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
              ++complete_refused_;
            }
          }
          delete call;
        });
  }

  void Completed(int64_t instance_key) {
    auto now = Clock::now();
    std::lock_guard lock(mutex_);
    auto it = started_at_.find(instance_key);
    if (it == started_at_.end()) {
      completed_early_.insert(instance_key);
      return;
    }
    if (it->second >= window_start_) {
      ++completed_in_window_;
      latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
    }
    started_at_.erase(it);
  }

  std::unique_ptr<gp::Gateway::Stub> stub_;
  int64_t max_in_flight_;
  std::atomic<int64_t> creates_in_flight_{0};
  std::atomic<int64_t> completes_in_flight_{0};
  std::atomic<int64_t> created_{0};
  std::atomic<int64_t> create_errors_{0};
  std::atomic<int64_t> complete_errors_{0};
  std::atomic<int64_t> create_refused_{0};
  std::atomic<int64_t> complete_refused_{0};
  std::atomic<Clock::rep> pause_creates_until_{0};
  int64_t refused_backoff_ms_ = 10;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<JobStream> stream_;
  std::unique_ptr<JobStream> probe_stream_;
  std::thread poller_;
  std::mutex mutex_;
  std::unordered_map<int64_t, Clock::time_point> started_at_;
  std::unordered_set<int64_t> completed_early_;
  Clock::time_point window_start_ = Clock::now();
  int64_t completed_in_window_ = 0;
  std::vector<double> latencies_ms_;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

struct Measurement {
  double measured_s = 0;
  int64_t completed = 0;
  double completed_per_s = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double peak_rss_mib = 0;
};

// Creates benchmark instances (at `rate`/s, or as fast as the broker takes them) for the
// warm-up and the measured window; the worker completes their jobs.
Measurement Measure(Bench& bench, double rate, double warmup_s, double duration_s,
                    const std::string& monitoring) {
  auto start = Clock::now();
  auto measure_from = start + std::chrono::milliseconds(static_cast<int64_t>(warmup_s * 1000));
  auto end = measure_from + std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
  bool window_marked = false;
  int64_t issued = 0;
  Measurement result;
  auto next_report = start + std::chrono::seconds(1);
  while (Clock::now() < end) {
    auto now = Clock::now();
    if (!window_marked && now >= measure_from) {
      bench.MarkWindow(now);
      window_marked = true;
    }
    if (rate > 0) {
      int64_t due = static_cast<int64_t>(MillisSince(start) * rate / 1000.0);
      while (issued < due && bench.TryCreate()) ++issued;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    } else if (!bench.TryCreate()) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (now >= next_report) {
      next_report += std::chrono::seconds(1);
      result.peak_rss_mib = std::max(result.peak_rss_mib, BrokerRssMib(monitoring));
    }
  }
  auto figures = bench.Snapshot();
  result.measured_s = std::chrono::duration<double>(Clock::now() - measure_from).count();
  result.completed = figures.completed;
  result.completed_per_s = static_cast<double>(figures.completed) / result.measured_s;
  result.p50_ms = Percentile(figures.latencies_ms, 0.50);
  result.p90_ms = Percentile(figures.latencies_ms, 0.90);
  result.p99_ms = Percentile(figures.latencies_ms, 0.99);
  result.max_ms = Percentile(figures.latencies_ms, 1.0);
  result.peak_rss_mib = std::max(result.peak_rss_mib, BrokerRssMib(monitoring));
  return result;
}

// Creates `count` instances of `process_id` (variables from `variables_of(i)`) as fast as the
// broker takes them; returns how many were acknowledged.
int64_t CreateMany(Bench& bench, const std::string& process_id, int64_t count,
                   const std::function<std::string(int64_t)>& variables_of) {
  std::atomic<int64_t> answered{0};
  std::atomic<int64_t> acknowledged{0};
  int64_t issued = 0;
  auto report = Clock::now() + std::chrono::seconds(5);
  while (issued < count) {
    if (bench.TryCreateUnmeasured(process_id, variables_of(issued),
                                  [&](const grpc::Status& status, int64_t) {
                                    if (status.ok()) ++acknowledged;
                                    ++answered;
                                  })) {
      ++issued;
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (Clock::now() >= report) {
      report += std::chrono::seconds(5);
      std::fprintf(stderr, "  %s: %lld of %lld created\n", process_id.c_str(),
                   static_cast<long long>(acknowledged.load()), static_cast<long long>(count));
    }
  }
  while (answered.load() < issued) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return acknowledged.load();
}

// ISO-8601 UTC with milliseconds, as FEEL's date and time() reads it.
std::string IsoUtc(std::chrono::system_clock::time_point at) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(ms % 1000));
  return text;
}

struct ProbeFigures {
  int64_t fired = 0;
  int64_t expected = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// `count` instances whose timers are due 2 s from now (spread over 1 s); the lateness of each
// is the time from its due date to its job arriving on the probe stream.
class TimerProbes {
 public:
  explicit TimerProbes(Bench& bench) : bench_(bench) {
    bench_.StartProbeStream([this](const gp::ActivatedJob& job) {
      auto now = std::chrono::system_clock::now();
      std::lock_guard lock(mutex_);
      auto it = due_.find(job.processinstancekey());
      if (it == due_.end()) {
        early_[job.processinstancekey()] = now;  // arrived before the create's answer
        return;
      }
      lateness_ms_.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
      due_.erase(it);
    });
  }

  ProbeFigures Run(int64_t count) {
    {
      std::lock_guard lock(mutex_);
      lateness_ms_.clear();
    }
    auto first_due = std::chrono::system_clock::now() + std::chrono::seconds(2);
    std::atomic<int64_t> answered{0};
    for (int64_t i = 0; i < count; ++i) {
      auto due = first_due + std::chrono::milliseconds(1000 * i / std::max<int64_t>(1, count));
      std::string variables = "{\"due\":\"" + IsoUtc(due) + "\"}";
      while (!bench_.TryCreateUnmeasured(
          "bench-timer-probe", variables,
          [this, due, &answered](const grpc::Status& status, int64_t key) {
            if (status.ok()) {
              std::lock_guard lock(mutex_);
              auto early = early_.find(key);
              if (early != early_.end()) {
                lateness_ms_.push_back(
                    std::chrono::duration<double, std::milli>(early->second - due).count());
                early_.erase(early);
              } else {
                due_[key] = due;
              }
            }
            ++answered;
          })) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    while (answered.load() < count) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Every timer is due within 3 s; give them 10 s more.
    auto deadline = first_due + std::chrono::seconds(13);
    while (std::chrono::system_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (static_cast<int64_t>(lateness_ms_.size()) >= count) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::lock_guard lock(mutex_);
    ProbeFigures figures;
    figures.expected = count;
    figures.fired = static_cast<int64_t>(lateness_ms_.size());
    figures.p50_ms = Percentile(lateness_ms_, 0.50);
    figures.p99_ms = Percentile(lateness_ms_, 0.99);
    figures.max_ms =
        lateness_ms_.empty() ? 0 : *std::max_element(lateness_ms_.begin(), lateness_ms_.end());
    due_.clear();
    return figures;
  }

 private:
  Bench& bench_;
  std::mutex mutex_;
  std::unordered_map<int64_t, std::chrono::system_clock::time_point> due_;
  std::unordered_map<int64_t, std::chrono::system_clock::time_point> early_;
  std::vector<double> lateness_ms_;
};

void PrintMeasurement(const char* label, const Measurement& m) {
  std::printf(
      "%-18s %lld instances in %.1f s (%.0f/s), create->complete p50 %.2f ms, p99 %.2f ms\n", label,
      static_cast<long long>(m.completed), m.measured_s, m.completed_per_s, m.p50_ms, m.p99_ms);
}

void PrintProbes(const char* label, const ProbeFigures& p) {
  std::printf(
      "%-18s %lld of %lld timers fired; due -> job pushed p50 %.1f ms, p99 %.1f ms, "
      "max %.1f ms\n",
      label, static_cast<long long>(p.fired), static_cast<long long>(p.expected), p.p50_ms,
      p.p99_ms, p.max_ms);
}

int PendingStateMain(Bench& bench, const std::string& monitoring, double rate, double warmup_s,
                     double duration_s, int64_t timers, int64_t subscriptions, int64_t probes) {
  if (!bench.Deploy("pending.bpmn", kPendingProcesses)) return 1;
  TimerProbes probe(bench);
  std::printf("pending state: %lld timers, %lld message subscriptions, %lld timer probes\n",
              static_cast<long long>(timers), static_cast<long long>(subscriptions),
              static_cast<long long>(probes));
  Measurement empty = Measure(bench, rate, warmup_s, duration_s, monitoring);
  PrintMeasurement("empty state", empty);
  ProbeFigures empty_probes = probe.Run(probes);
  PrintProbes("empty state", empty_probes);

  auto preload_start = Clock::now();
  int64_t timers_created =
      CreateMany(bench, "bench-timer-wait", timers, [](int64_t) { return std::string("{}"); });
  int64_t subscriptions_created =
      CreateMany(bench, "bench-message-wait", subscriptions,
                 [](int64_t i) { return "{\"key\":\"never-" + std::to_string(i) + "\"}"; });
  std::printf(
      "preloaded          %lld timers and %lld subscriptions in %.1f s; broker RSS %.1f MiB\n",
      static_cast<long long>(timers_created), static_cast<long long>(subscriptions_created),
      MillisSince(preload_start) / 1000.0, BrokerRssMib(monitoring));

  Measurement loaded = Measure(bench, rate, warmup_s, duration_s, monitoring);
  PrintMeasurement("pending state", loaded);
  ProbeFigures loaded_probes = probe.Run(probes);
  PrintProbes("pending state", loaded_probes);
  double ratio = empty.completed_per_s > 0 ? loaded.completed_per_s / empty.completed_per_s : 0;
  std::printf("throughput         %.0f%% of the empty-state figure (goal: at least 80%%)\n",
              ratio * 100);
  std::printf("timer lateness     p99 %.1f ms with the pending state (goal: under 100 ms)\n",
              loaded_probes.p99_ms);
  std::printf(
      "{\"empty_per_s\": %.1f, \"pending_per_s\": %.1f, \"ratio\": %.3f, \"empty_p99_ms\": %.2f, "
      "\"pending_p99_ms\": %.2f, \"timer_lateness_empty_p99_ms\": %.1f, "
      "\"timer_lateness_pending_p99_ms\": %.1f, \"timer_lateness_pending_max_ms\": %.1f, "
      "\"timers\": %lld, \"subscriptions\": %lld, \"broker_rss_mib\": %.1f}\n",
      empty.completed_per_s, loaded.completed_per_s, ratio, empty.p99_ms, loaded.p99_ms,
      empty_probes.p99_ms, loaded_probes.p99_ms, loaded_probes.max_ms,
      static_cast<long long>(timers_created), static_cast<long long>(subscriptions_created),
      loaded.peak_rss_mib);
  bench.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string gateway = "127.0.0.1:26500";
  std::string monitoring = "127.0.0.1:9600";
  double rate = 0;
  double duration_s = 30;
  double warmup_s = 3;
  int64_t max_in_flight = 512;
  int64_t preload_timers = 0;
  int64_t preload_subscriptions = 0;
  int64_t timer_probes = 0;
  int64_t creators = 0;
  int64_t refused_backoff_ms = 10;
  CLI::App app{"tern-bench: instances of a one-task process, created and completed"};
  app.add_option("--gateway", gateway, "gateway host:port");
  app.add_option("--monitoring", monitoring, "broker monitoring host:port (for its RSS)");
  app.add_option("--rate", rate, "instances created per second (0 = as fast as possible)");
  app.add_option("--duration", duration_s, "seconds measured (after the warm-up)");
  app.add_option("--warmup", warmup_s, "seconds before measuring");
  app.add_option("--max-in-flight", max_in_flight, "creates in flight at most");
  app.add_option("--creators", creators,
                 "overload: this many creates always outstanding, no rate (sets --max-in-flight)");
  app.add_option("--refused-backoff-ms", refused_backoff_ms,
                 "pause before creating again after a RESOURCE_EXHAUSTED refusal");
  app.add_option("--preload-timers", preload_timers,
                 "pending-state run: instances waiting on a 24 h timer, created between the two "
                 "measurements");
  app.add_option("--preload-subscriptions", preload_subscriptions,
                 "pending-state run: instances waiting on a message, created between the two "
                 "measurements");
  app.add_option("--timer-probes", timer_probes,
                 "pending-state run: timers due 2 s ahead after each measurement, to time their "
                 "firing");
  CLI11_PARSE(app, argc, argv);

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(4 << 20);
  auto channel = grpc::CreateCustomChannel(gateway, grpc::InsecureChannelCredentials(), arguments);
  if (creators > 0) {
    max_in_flight = creators;
    rate = 0;
  }
  Bench bench(channel, max_in_flight);
  bench.set_refused_backoff_ms(refused_backoff_ms);
  double idle_rss = BrokerRssMib(monitoring);
  if (!bench.Deploy()) return 1;
  bench.StartWorker();
  if (preload_timers > 0 || preload_subscriptions > 0 || timer_probes > 0) {
    return PendingStateMain(bench, monitoring, rate, warmup_s, duration_s, preload_timers,
                            preload_subscriptions, timer_probes);
  }

  Measurement m = Measure(bench, rate, warmup_s, duration_s, monitoring);
  // Instances accepted but still open when creation stopped: given time to finish (bounded),
  // so that "every accepted instance completes" can be read off the output.
  auto drain_until = Clock::now() + std::chrono::seconds(30);
  while (bench.open_instances() > 0 && Clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int64_t unfinished = bench.open_instances();
  bench.Stop();
  double rss = BrokerRssMib(monitoring);
  double peak_rss = std::max(m.peak_rss_mib, rss);
  if (creators > 0) {
    std::printf("load               overload: %lld creates always outstanding, no rate\n",
                static_cast<long long>(creators));
  } else {
    std::printf("target rate        %s\n",
                rate > 0 ? std::to_string(rate).c_str() : "as fast as possible");
  }
  std::printf("measured           %.1f s after %.1f s warm-up\n", m.measured_s, warmup_s);
  std::printf("completed          %lld instances (%.0f/s)\n", static_cast<long long>(m.completed),
              m.completed_per_s);
  std::printf("create->complete   p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", m.p50_ms,
              m.p90_ms, m.p99_ms, m.max_ms);
  std::printf("broker RSS         idle %.1f MiB, peak %.1f MiB, end %.1f MiB\n", idle_rss, peak_rss,
              rss);
  std::printf("errors             %lld create, %lld complete\n",
              static_cast<long long>(bench.create_errors()),
              static_cast<long long>(bench.complete_errors()));
  std::printf(
      "refused            %lld creates (RESOURCE_EXHAUSTED, of %lld accepted), %lld "
      "completes (must be 0)\n",
      static_cast<long long>(bench.create_refused()), static_cast<long long>(bench.created()),
      static_cast<long long>(bench.complete_refused()));
  std::printf("unfinished         %lld accepted instances not completed 30 s after the end\n",
              static_cast<long long>(unfinished));
  std::printf(
      "baseline           Zeebe 8.x publishes ~130-250 completed instances/s per "
      "partition (3 brokers x 3.5 vCPU)\n");
  std::printf(
      "{\"completed_per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"broker_rss_mib\": %.1f, "
      "\"broker_idle_rss_mib\": %.1f, \"rate\": %.0f, \"duration_s\": %.1f, \"creators\": %lld, "
      "\"created\": %lld, \"create_refused\": %lld, \"complete_refused\": %lld, "
      "\"unfinished\": %lld, \"p90_ms\": %.2f, \"max_ms\": %.2f}\n",
      m.completed_per_s, m.p50_ms, m.p99_ms, peak_rss, idle_rss, rate, m.measured_s,
      static_cast<long long>(creators), static_cast<long long>(bench.created()),
      static_cast<long long>(bench.create_refused()),
      static_cast<long long>(bench.complete_refused()), static_cast<long long>(unfinished),
      m.p90_ms, m.max_ms);
  return 0;
}
