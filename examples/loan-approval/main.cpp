// loan-approval: a complete Tern client program.
//
//   1. deploys loan-approval.bpmn (start -> service task "check-credit" -> exclusive gateway on
//      `approved` -> "Loan approved" or "Loan rejected");
//   2. opens a JobWorker for the job type "check-credit" (the model's only job type) that
//      completes each job with approved = amount < 10000;
//   3. creates --instances process instances with {applicant, amount} and waits for each to
//      complete (CreateProcessInstanceWithResult), at most --in-flight at a time;
//   4. prints a summary; exits 0 when every instance completed with the expected decision.
//
//   loan-approval --address 127.0.0.1:26500 --instances 20
//
// It builds outside Tern's source tree against an installed Tern (find_package(Tern)).

#include <tern/client.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <future>
#include <iostream>
#include <string>

namespace {

struct Options {
  std::string address = "127.0.0.1:26500";
  int instances = 10;
  int in_flight = 32;
  std::string bpmn = LOAN_APPROVAL_BPMN;  // the copy beside main.cpp, set by CMakeLists.txt
};

void Usage(const char* program) {
  std::cerr << "usage: " << program
            << " [--address host:port] [--instances N] [--in-flight N] [--bpmn file]\n";
}

// Returns false (after printing why) on a bad command line.
bool ParseOptions(int argc, char** argv, Options& options) {
  if (const char* address = std::getenv("ZEEBE_ADDRESS")) options.address = address;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--help" || arg == "-h") {
      Usage(argv[0]);
      std::exit(0);
    } else if (arg == "--address" && (v = value())) {
      options.address = v;
    } else if (arg == "--instances" && (v = value())) {
      options.instances = std::atoi(v);
    } else if (arg == "--in-flight" && (v = value())) {
      options.in_flight = std::atoi(v);
    } else if (arg == "--bpmn" && (v = value())) {
      options.bpmn = v;
    } else {
      std::cerr << "unknown or incomplete option: " << arg << "\n";
      Usage(argv[0]);
      return false;
    }
  }
  if (options.instances < 1 || options.in_flight < 1) {
    std::cerr << "--instances and --in-flight must be at least 1\n";
    return false;
  }
  return true;
}

// Amounts from 1,000 to 19,000: about half of the applications are approved.
int64_t AmountOf(int i) { return 1000 + (static_cast<int64_t>(i) * 7919) % 19 * 1000; }

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseOptions(argc, argv, options)) return 2;

  auto client = tern::Client::newClientBuilder()
                    .gatewayAddress(options.address)
                    .defaultRequestTimeout(std::chrono::seconds(30))
                    .build();
  if (!client.ok()) {
    std::cerr << "client: " << client.status() << "\n";
    return 1;
  }

  // 1. Deploy. Deploying the same model again is harmless: the broker keeps the version.
  auto deployment = client->newDeployResourceCommand().addResourceFile(options.bpmn).send().get();
  if (!deployment.ok()) {
    std::cerr << "deploy " << options.bpmn << ": " << deployment.status() << "\n";
    return 1;
  }
  for (const auto& process : deployment->processes) {
    std::cout << "deployed " << process.bpmnProcessId << " version " << process.version << " (key "
              << process.processDefinitionKey << ")\n";
  }

  // 2. The worker. A JobFunction returns the variables to complete the job with; a throwing
  // function fails the job (one retry fewer) instead.
  auto worker = client->newWorker()
                    .jobType("check-credit")
                    .handler([](const tern::ActivatedJob& job) -> nlohmann::json {
                      nlohmann::json variables = job.variablesAsJson();
                      double amount = variables.value("amount", 0.0);
                      return {{"approved", amount < 10000}};
                    })
                    .fetchVariables({"amount"})
                    .maxJobsActive(64)
                    .concurrency(2)
                    .streamEnabled(true)
                    .open();
  if (!worker.ok()) {
    std::cerr << "worker: " << worker.status() << "\n";
    return 1;
  }

  // 3. Instances, each awaited until it completes, at most in_flight at a time.
  struct Pending {
    int64_t amount;
    std::future<tern::Result<tern::ProcessInstanceResult>> result;
  };
  std::deque<Pending> pending;
  int approved = 0;
  int rejected = 0;
  int wrong = 0;
  int failed = 0;
  auto start = std::chrono::steady_clock::now();
  auto collect_one = [&] {
    Pending next = std::move(pending.front());
    pending.pop_front();
    auto result = next.result.get();
    if (!result.ok()) {
      ++failed;
      std::cerr << "instance failed: " << result.status() << "\n";
      return;
    }
    bool decision = result->variablesAsJson().value("approved", false);
    (decision ? approved : rejected)++;
    if (decision != (next.amount < 10000)) ++wrong;
  };
  for (int i = 0; i < options.instances; ++i) {
    if (static_cast<int>(pending.size()) >= options.in_flight) collect_one();
    int64_t amount = AmountOf(i);
    auto create =
        client->newCreateInstanceCommand()
            .bpmnProcessId("loan-approval")
            .latestVersion()
            .variables({{"applicant", "applicant-" + std::to_string(i)}, {"amount", amount}});
    pending.push_back({amount, create.withResult().fetchVariables({"approved"}).send()});
  }
  while (!pending.empty()) collect_one();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // 4. Summary. close() waits for the worker's last CompleteJob answers.
  worker->close();
  auto metrics = worker->metrics();
  int completed = approved + rejected;
  std::cout << "instances: " << options.instances << ", completed: " << completed << " (approved "
            << approved << ", rejected " << rejected << "), failed: " << failed
            << ", wrong decisions: " << wrong << "\n"
            << "check-credit jobs completed by the worker: " << metrics.jobsCompleted << "\n"
            << "elapsed: " << seconds << " s\n";
  bool ok = completed == options.instances && wrong == 0;
  std::cout << (ok ? "OK" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
