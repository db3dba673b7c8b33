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
// Latency: from sending CreateProcessInstance to the OK answer of the job's CompleteJob (the
// instance completes in the same batch).

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
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
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

  bool Deploy() {
    grpc::ClientContext context;
    gp::DeployResourceRequest request;
    auto* resource = request.add_resources();
    resource->set_name("benchmark.bpmn");
    resource->set_content(kProcess);
    gp::DeployResourceResponse response;
    grpc::Status status = stub_->DeployResource(&context, request, &response);
    if (!status.ok()) std::fprintf(stderr, "deploy failed: %s\n", status.error_message().c_str());
    return status.ok();
  }

  // Creates one instance unless too many creates are in flight.
  bool TryCreate() {
    if (creates_in_flight_.load() >= max_in_flight_) return false;
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
            started_at_[call->response.processinstancekey()] = call->started;
          } else {
            ++create_errors_;
          }
          delete call;
        });
    return true;
  }

  void StartWorker() {
    stream_ = std::make_unique<JobStream>(this);
    poller_ = std::thread([this] { Poll(); });
  }

  void Stop() {
    stopping_ = true;
    if (stream_) stream_->Cancel();
    if (poller_.joinable()) poller_.join();
    // Let in-flight calls drain.
    for (int i = 0; i < 200 && (completes_in_flight_ > 0 || creates_in_flight_ > 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (stream_) stream_->Wait();
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

  // StreamActivatedJobs: every job pushed is completed at once.
  class JobStream : public grpc::ClientReadReactor<gp::ActivatedJob> {
   public:
    explicit JobStream(Bench* bench) : bench_(bench) {
      request_.set_type("benchmark-task");
      request_.set_worker("tern-bench");
      request_.set_timeout(60'000);
      bench_->stub_->async()->StreamActivatedJobs(&context_, &request_, this);
      StartRead(&job_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      bench_->Complete(job_.key(), job_.processinstancekey());
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
    Bench* bench_;
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
    stub_->async()->CompleteJob(&call->context, &call->request, &call->response,
                                [this, call](grpc::Status status) {
                                  --completes_in_flight_;
                                  if (status.ok()) {
                                    Completed(call->instance_key);
                                  } else {
                                    ++complete_errors_;
                                  }
                                  delete call;
                                });
  }

  void Completed(int64_t instance_key) {
    auto now = Clock::now();
    std::lock_guard lock(mutex_);
    auto it = started_at_.find(instance_key);
    if (it == started_at_.end()) return;
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
  std::atomic<bool> stopping_{false};
  std::unique_ptr<JobStream> stream_;
  std::thread poller_;
  std::mutex mutex_;
  std::unordered_map<int64_t, Clock::time_point> started_at_;
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

}  // namespace

int main(int argc, char** argv) {
  std::string gateway = "127.0.0.1:26500";
  std::string monitoring = "127.0.0.1:9600";
  double rate = 0;
  double duration_s = 30;
  double warmup_s = 3;
  int64_t max_in_flight = 512;
  CLI::App app{"tern-bench: instances of a one-task process, created and completed"};
  app.add_option("--gateway", gateway, "gateway host:port");
  app.add_option("--monitoring", monitoring, "broker monitoring host:port (for its RSS)");
  app.add_option("--rate", rate, "instances created per second (0 = as fast as possible)");
  app.add_option("--duration", duration_s, "seconds measured (after the warm-up)");
  app.add_option("--warmup", warmup_s, "seconds before measuring");
  app.add_option("--max-in-flight", max_in_flight, "creates in flight at most");
  CLI11_PARSE(app, argc, argv);

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(4 << 20);
  auto channel = grpc::CreateCustomChannel(gateway, grpc::InsecureChannelCredentials(), arguments);
  Bench bench(channel, max_in_flight);
  double idle_rss = BrokerRssMib(monitoring);
  if (!bench.Deploy()) return 1;
  bench.StartWorker();

  auto start = Clock::now();
  auto measure_from = start + std::chrono::milliseconds(static_cast<int64_t>(warmup_s * 1000));
  auto end = measure_from + std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
  bool window_marked = false;
  int64_t issued = 0;
  double peak_rss = 0;
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
      peak_rss = std::max(peak_rss, BrokerRssMib(monitoring));
    }
  }
  auto figures = bench.Snapshot();
  double measured_s = std::chrono::duration<double>(Clock::now() - measure_from).count();
  bench.Stop();

  double completed_per_s = static_cast<double>(figures.completed) / measured_s;
  double p50 = Percentile(figures.latencies_ms, 0.50);
  double p99 = Percentile(figures.latencies_ms, 0.99);
  double rss = BrokerRssMib(monitoring);
  peak_rss = std::max(peak_rss, rss);
  std::printf("target rate        %s\n",
              rate > 0 ? std::to_string(rate).c_str() : "as fast as possible");
  std::printf("measured           %.1f s after %.1f s warm-up\n", measured_s, warmup_s);
  std::printf("completed          %lld instances (%.0f/s)\n",
              static_cast<long long>(figures.completed), completed_per_s);
  std::printf("create->complete   p50 %.2f ms, p99 %.2f ms\n", p50, p99);
  std::printf("broker RSS         idle %.1f MiB, peak %.1f MiB, end %.1f MiB\n", idle_rss, peak_rss,
              rss);
  std::printf("errors             %lld create, %lld complete\n",
              static_cast<long long>(bench.create_errors()),
              static_cast<long long>(bench.complete_errors()));
  std::printf(
      "baseline           Zeebe 8.x publishes ~130-250 completed instances/s per "
      "partition (3 brokers x 3.5 vCPU)\n");
  std::printf(
      "{\"completed_per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"broker_rss_mib\": %.1f, "
      "\"broker_idle_rss_mib\": %.1f, \"rate\": %.0f, \"duration_s\": %.1f}\n",
      completed_per_s, p50, p99, peak_rss, idle_rss, rate, measured_s);
  return 0;
}
