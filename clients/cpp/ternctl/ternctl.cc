// ternctl: zbctl's commands on Tern's C++ client.
//
// Responses print as zbctl prints them (protojson, two-space indent); errors print as one line
// on stderr with exit code 1 (2 for usage errors). Flags take zbctl's camelCase spelling and
// the kebab-case one (--withResult and --with-result).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "output.h"
#include "tern/client.h"

namespace ternctl {
namespace {

using std::chrono::milliseconds;

// An error to report on one line.
struct Failure {
  std::string message;
  int exit_code = 1;
};

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// Go duration syntax as zbctl takes it ("300ms", "10s", "5m", "1h30m"); a bare number is
// milliseconds.
std::optional<milliseconds> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(c) != 0; })) {
    return milliseconds(std::stoll(text));
  }
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == start) return std::nullopt;
    double value = std::stod(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    if (unit == "ns") {
      value /= 1e6;
    } else if (unit == "us") {
      value /= 1e3;
    } else if (unit == "ms") {
    } else if (unit == "s") {
      value *= 1e3;
    } else if (unit == "m") {
      value *= 60e3;
    } else if (unit == "h") {
      value *= 3600e3;
    } else {
      return std::nullopt;
    }
    total_ms += value;
  }
  return milliseconds(static_cast<int64_t>(total_ms));
}

// Go's time.Duration.String() for whole milliseconds ("0s", "300ms", "1.5s", "5m0s").
std::string GoDuration(milliseconds duration) {
  int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string sign = ms < 0 ? "-" : "";
  if (ms < 0) ms = -ms;
  if (ms < 1000) return sign + std::to_string(ms) + "ms";
  int64_t hours = ms / 3'600'000;
  int64_t minutes = ms / 60'000 % 60;
  int64_t seconds = ms / 1000 % 60;
  int64_t fraction = ms % 1000;
  std::string secs = std::to_string(seconds);
  if (fraction != 0) {
    std::string f = std::to_string(fraction);
    f = std::string(3 - f.size(), '0') + f;
    while (!f.empty() && f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + secs + "s";
}

milliseconds DurationOrFail(const std::string& text, const std::string& flag) {
  auto parsed = ParseDuration(text);
  if (!parsed) throw Failure{"invalid duration '" + text + "' for " + flag, 2};
  return *parsed;
}

int64_t KeyOrFail(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    int64_t key = std::stoll(text, &used);
    if (used == text.size()) return key;
  } catch (...) {
  }
  throw Failure{"invalid " + what + " '" + text + "': expected a number", 2};
}

// Variables given on the command line must be a JSON object, as zbctl checks before sending.
nlohmann::json VariablesOrFail(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    throw Failure{"invalid JSON object for --variables: '" + text + "'", 2};
  }
  return json;
}

template <typename T>
T OrFail(tern::Result<T> result) {
  if (!result.ok()) throw Failure{result.status().ToString(), 1};
  return std::move(*result);
}

void Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// --- ternctl worker -----------------------------------------------------------------------

struct HandlerRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh, `input` on stdin; collects stdout and stderr.
HandlerRun RunHandler(const std::string& command, const std::string& input) {
  HandlerRun run;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    run.err = std::string("pipe: ") + std::strerror(errno);
    return run;
  }
  pid_t pid = fork();
  if (pid < 0) {
    run.err = std::string("fork: ") + std::strerror(errno);
    return run;
  }
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int out_fd = out_pipe[0];
  int err_fd = err_pipe[0];
  char buffer[65536];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
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
      (p.fd == out_fd ? run.out : run.err).append(buffer, static_cast<size_t>(n));
    }
  }
  if (in_fd >= 0) close(in_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested = true; }

struct WorkerOptions {
  std::string type;
  std::string handler;
  std::string name = "ternctl";
  std::string timeout = "5m";
  std::string poll_interval = "100ms";
  std::string request_timeout = "10s";
  std::string fail_backoff = "0s";
  int32_t max_jobs_active = 32;
  int32_t concurrency = 4;
  std::vector<std::string> fetch_variables;
  bool stream = false;
  int64_t max_jobs_handled = 0;  // 0 = run until SIGINT/SIGTERM
};

int RunWorker(const tern::Client& client, const WorkerOptions& options) {
  std::atomic<int64_t> handled{0};
  std::atomic<int64_t> started{0};
  std::atomic<tern::JobWorker*> running{nullptr};
  const milliseconds fail_backoff = DurationOrFail(options.fail_backoff, "--failBackoff");
  auto worker =
      client.newWorker()
          .jobType(options.type)
          .name(options.name)
          .timeout(DurationOrFail(options.timeout, "--timeout"))
          .maxJobsActive(options.max_jobs_active)
          .concurrency(options.concurrency)
          .pollInterval(DurationOrFail(options.poll_interval, "--pollInterval"))
          .requestTimeout(DurationOrFail(options.request_timeout, "--requestTimeout"))
          .fetchVariables(options.fetch_variables)
          .streamEnabled(options.stream)
          .handler([&](const tern::ActivatedJob& job, tern::JobClient& jobs) {
            if (options.max_jobs_handled > 0) {
              int64_t number = ++started;
              if (number > options.max_jobs_handled) {
                // Over the limit: hand the job back untouched for the next worker.
                auto given_back = jobs.newFailCommand(job)
                                      .retries(job.retries)
                                      .errorMessage("ternctl worker stopped before handling it")
                                      .send()
                                      .get();
                (void)given_back;
                return;
              }
              // The last job: stop activating now (this handler still runs to its end), so
              // that the job this handler fails is not activated again by this worker.
              if (number == options.max_jobs_handled) {
                if (auto* self = running.load()) self->close();
              }
            }
            HandlerRun run = RunHandler(options.handler, job.variables);
            if (run.exit_code != 0) {
              std::string message = "handler exited with code " + std::to_string(run.exit_code);
              std::string err = OneLine(run.err);
              if (!err.empty()) message += ": " + err;
              auto failed = jobs.newFailCommand(job)
                                .retries(job.retries - 1)
                                .errorMessage(message)
                                .retryBackoff(fail_backoff)
                                .send()
                                .get();
              std::fprintf(stderr, "ternctl: failed job %lld (%s)%s\n",
                           static_cast<long long>(job.key), message.c_str(),
                           failed.ok() ? "" : (": " + failed.status().ToString()).c_str());
            } else {
              std::string text = run.out;
              auto variables = text.find_first_not_of(" \t\r\n") == std::string::npos
                                   ? nlohmann::json::object()
                                   : nlohmann::json::parse(text, nullptr, false);
              if (variables.is_discarded() || !variables.is_object()) {
                auto failed = jobs.newFailCommand(job)
                                  .retries(job.retries - 1)
                                  .errorMessage("handler output is not a JSON object: " +
                                                OneLine(text.substr(0, 200)))
                                  .send()
                                  .get();
                std::fprintf(stderr, "ternctl: failed job %lld: output is not a JSON object\n",
                             static_cast<long long>(job.key));
                (void)failed;
              } else {
                auto completed = jobs.newCompleteCommand(job).variables(variables).send().get();
                if (completed.ok()) {
                  std::fprintf(stderr, "ternctl: completed job %lld\n",
                               static_cast<long long>(job.key));
                } else {
                  std::fprintf(stderr, "ternctl: cannot complete job %lld: %s\n",
                               static_cast<long long>(job.key),
                               OneLine(completed.status().ToString()).c_str());
                }
              }
            }
            ++handled;
          })
          .open();
  if (!worker.ok()) throw Failure{worker.status().ToString(), 1};
  running = &*worker;
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  while (!stop_requested &&
         (options.max_jobs_handled == 0 || handled.load() < options.max_jobs_handled)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  running = nullptr;
  worker->close();
  auto m = worker->metrics();
  std::fprintf(stderr, "ternctl: worker stopped: %lld activated, %lld completed, %lld failed\n",
               static_cast<long long>(m.jobsActivated), static_cast<long long>(m.jobsCompleted),
               static_cast<long long>(m.jobsFailed));
  return 0;
}

// --- main -----------------------------------------------------------------------------------

int Main(int argc, char** argv) {
  CLI::App app{"ternctl: command line client for Tern (and Zeebe) gateways"};
  app.require_subcommand(1);
  // Global flags are accepted after the command too, as zbctl's are.
  app.fallthrough();
  app.set_help_all_flag("--help-all", "all commands with their options");

  struct Global {
    std::string address = "127.0.0.1:26500";
    bool insecure = false;
    bool tls = false;
    std::string ca_cert;
    std::string client_id;
    std::string client_secret;
    std::string authz_url;
    std::string audience;
    std::string request_timeout = "10s";
  } global;
  app.add_option("--address", global.address, "gateway host:port")
      ->envname("ZEEBE_ADDRESS")
      ->capture_default_str();
  app.add_flag("--insecure", global.insecure, "plaintext (the default; accepted for zbctl habits)")
      ->envname("ZEEBE_INSECURE_CONNECTION");
  app.add_flag("--tls", global.tls, "TLS with the system's root certificates");
  app.add_option("--certPath,--ca-cert", global.ca_cert, "TLS with this CA certificate (PEM)")
      ->envname("ZEEBE_CA_CERTIFICATE_PATH");
  app.add_option("--clientId,--client-id", global.client_id, "OAuth client id")
      ->envname("ZEEBE_CLIENT_ID");
  app.add_option("--clientSecret,--client-secret", global.client_secret, "OAuth client secret")
      ->envname("ZEEBE_CLIENT_SECRET");
  app.add_option("--authzUrl,--authz-url", global.authz_url, "OAuth token endpoint")
      ->envname("ZEEBE_AUTHORIZATION_SERVER_URL");
  app.add_option("--audience", global.audience, "OAuth audience")->envname("ZEEBE_TOKEN_AUDIENCE");
  app.add_option("--requestTimeout,--request-timeout", global.request_timeout,
                 "deadline of each request (Go duration, e.g. 10s)")
      ->capture_default_str();

  // zbctl prints a sentence for commands without a response body; --output json prints the
  // (empty) response instead.
  std::string output = "human";
  bool human = true;
  app.add_option("-o,--output", output, "human or json")
      ->check(CLI::IsMember({"human", "json"}))
      ->capture_default_str();

  // Each command fills `run` with what to do once the client exists.
  std::function<int(const tern::Client&)> run;
  auto client_timeout = [&] { return DurationOrFail(global.request_timeout, "--requestTimeout"); };

  // status
  auto* status = app.add_subcommand("status", "show the cluster topology");
  status->callback([&] {
    run = [&](const tern::Client& client) {
      Print(StatusText(OrFail(client.newTopologyRequest().send().get())));
      return 0;
    };
  });

  // deploy [resource] FILE...
  std::vector<std::string> deploy_files;
  std::vector<std::string> resource_files;
  auto* deploy = app.add_subcommand("deploy", "deploy BPMN files (DeployProcess, as zbctl)");
  deploy->add_option("files", deploy_files, "BPMN files");
  auto* deploy_resource =
      deploy->add_subcommand("resource", "deploy BPMN, DMN and form files (DeployResource)");
  deploy_resource->add_option("files", resource_files, "resource files")->required();
  deploy_resource->callback([&] {
    run = [&](const tern::Client& client) {
      auto command = client.newDeployResourceCommand();
      for (const auto& file : resource_files) command.addResourceFile(file);
      Print(Pretty(ToJson(OrFail(command.send().get()))));
      return 0;
    };
  });
  deploy->callback([&] {
    if (run) return;  // `deploy resource` already chose
    if (deploy_files.empty()) throw Failure{"deploy: no file given", 2};
    run = [&](const tern::Client& client) {
      auto command = client.newDeployProcessCommand();
      for (const auto& file : deploy_files) command.addResourceFile(file);
      Print(Pretty(ToJson(OrFail(command.send().get()))));
      return 0;
    };
  });

  // create instance ID | create worker TYPE
  auto* create = app.add_subcommand("create", "create an instance or a worker");
  create->require_subcommand(1);
  struct CreateOptions {
    std::string process;
    std::string variables;
    int32_t version = -1;
    bool with_result = false;
    std::vector<std::string> fetch_variables;
  } create_options;
  auto* create_instance = create->add_subcommand("instance", "create a process instance");
  create_instance->add_option("processId", create_options.process, "BPMN process id or key")
      ->required();
  create_instance->add_option("--variables", create_options.variables, "JSON object");
  create_instance->add_option("--version", create_options.version, "process version (-1 latest)");
  create_instance->add_flag("--withResult,--with-result", create_options.with_result,
                            "wait until the instance completes and print its variables");
  create_instance
      ->add_option("--fetch-variables,--fetchVariables", create_options.fetch_variables,
                   "with --with-result: only these variables")
      ->delimiter(',');
  create_instance->callback([&] {
    run = [&](const tern::Client& client) {
      auto command = client.newCreateInstanceCommand().version(create_options.version);
      // zbctl takes a process id; a number is read as a process definition key.
      const auto& id = create_options.process;
      if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit)) {
        command.processDefinitionKey(KeyOrFail(id, "process definition key"));
      } else {
        command.bpmnProcessId(id);
      }
      if (!create_options.variables.empty()) {
        command.variables(VariablesOrFail(create_options.variables));
      }
      if (create_options.with_result) {
        auto with_result = command.withResult()
                               .fetchVariables(create_options.fetch_variables)
                               .requestTimeout(client_timeout());
        Print(Pretty(ToJson(OrFail(with_result.send().get()))));
      } else {
        Print(Pretty(ToJson(OrFail(command.send().get()))));
      }
      return 0;
    };
  });
  WorkerOptions worker_options;
  auto add_worker_options = [&](CLI::App* cmd) {
    cmd->add_option("--handler", worker_options.handler,
                    "shell command run per job: job variables on stdin, JSON object on stdout "
                    "completes the job, a non-zero exit fails it")
        ->required();
    cmd->add_option("--name", worker_options.name, "worker name")->capture_default_str();
    cmd->add_option("--timeout", worker_options.timeout, "job lock duration")
        ->capture_default_str();
    cmd->add_option("--maxJobsActive,--max-jobs-active", worker_options.max_jobs_active,
                    "jobs held at once")
        ->capture_default_str();
    cmd->add_option("--concurrency", worker_options.concurrency, "handlers run at once")
        ->capture_default_str();
    cmd->add_option("--pollInterval,--poll-interval", worker_options.poll_interval,
                    "wait between empty polls")
        ->capture_default_str();
    cmd->add_option("--pollRequestTimeout,--poll-request-timeout", worker_options.request_timeout,
                    "long-polling timeout")
        ->capture_default_str();
    cmd->add_option("--failBackoff,--fail-backoff", worker_options.fail_backoff,
                    "retry backoff of failed jobs")
        ->capture_default_str();
    cmd->add_option("--fetchVariables,--fetch-variables", worker_options.fetch_variables,
                    "only these variables")
        ->delimiter(',');
    cmd->add_flag("--stream,--streamEnabled", worker_options.stream,
                  "also receive jobs through StreamActivatedJobs");
    cmd->add_option("--max-jobs-handled", worker_options.max_jobs_handled,
                    "exit after this many jobs (default: until SIGINT/SIGTERM)");
  };
  auto* create_worker = create->add_subcommand("worker", "run a job worker (as `ternctl worker`)");
  create_worker->add_option("type", worker_options.type, "job type")->required();
  add_worker_options(create_worker);
  create_worker->callback(
      [&] { run = [&](const tern::Client& client) { return RunWorker(client, worker_options); }; });
  auto* worker = app.add_subcommand("worker", "run a job worker");
  worker->add_option("--type", worker_options.type, "job type")->required();
  add_worker_options(worker);
  worker->callback(
      [&] { run = [&](const tern::Client& client) { return RunWorker(client, worker_options); }; });

  // cancel instance KEY
  std::string key_text;
  auto* cancel = app.add_subcommand("cancel", "cancel a process instance");
  cancel->require_subcommand(1);
  auto* cancel_instance = cancel->add_subcommand("instance", "cancel a process instance");
  cancel_instance->add_option("key", key_text, "process instance key")->required();
  cancel_instance->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "process instance key");
      OrFail(client.newCancelInstanceCommand(key).send().get());
      Print(human ? "Canceled process instance with key '" + std::to_string(key) + "'\n" : "{}\n");
      return 0;
    };
  });

  // publish message NAME
  struct {
    std::string name;
    std::string correlation_key;
    std::string variables;
    std::string ttl = "5s";
    std::string message_id;
  } publish_options;
  auto* publish = app.add_subcommand("publish", "publish a message");
  publish->require_subcommand(1);
  auto* publish_message = publish->add_subcommand("message", "publish a message");
  publish_message->add_option("name", publish_options.name, "message name")->required();
  publish_message
      ->add_option("--correlationKey,--correlation-key", publish_options.correlation_key,
                   "correlation key")
      ->required();
  publish_message->add_option("--variables", publish_options.variables, "JSON object");
  publish_message->add_option("--ttl", publish_options.ttl, "time to live")->capture_default_str();
  publish_message->add_option("--messageId,--message-id", publish_options.message_id,
                              "unique message id");
  publish_message->callback([&] {
    run = [&](const tern::Client& client) {
      auto command = client.newPublishMessageCommand()
                         .messageName(publish_options.name)
                         .correlationKey(publish_options.correlation_key)
                         .timeToLive(DurationOrFail(publish_options.ttl, "--ttl"))
                         .messageId(publish_options.message_id);
      if (!publish_options.variables.empty()) {
        command.variables(VariablesOrFail(publish_options.variables));
      }
      Print(Pretty(ToJson(OrFail(command.send().get()))));
      return 0;
    };
  });

  // broadcast signal NAME
  struct {
    std::string name;
    std::string variables;
  } signal_options;
  auto* broadcast = app.add_subcommand("broadcast", "broadcast a signal");
  broadcast->require_subcommand(1);
  auto* broadcast_signal = broadcast->add_subcommand("signal", "broadcast a signal");
  broadcast_signal->add_option("name", signal_options.name, "signal name")->required();
  broadcast_signal->add_option("--variables", signal_options.variables, "JSON object");
  broadcast_signal->callback([&] {
    run = [&](const tern::Client& client) {
      auto command = client.newBroadcastSignalCommand().signalName(signal_options.name);
      if (!signal_options.variables.empty()) {
        command.variables(VariablesOrFail(signal_options.variables));
      }
      Print(Pretty(ToJson(OrFail(command.send().get()))));
      return 0;
    };
  });

  // activate jobs TYPE
  struct {
    std::string type;
    int32_t max_jobs = 1;
    std::string timeout = "5m";
    std::string worker = "ternctl";
    std::vector<std::string> variables;
  } activate_options;
  auto* activate = app.add_subcommand("activate", "activate jobs");
  activate->require_subcommand(1);
  auto* activate_jobs = activate->add_subcommand("jobs", "activate jobs of a type");
  activate_jobs->add_option("type", activate_options.type, "job type")->required();
  activate_jobs
      ->add_option("--maxJobsToActivate,--max-jobs-to-activate", activate_options.max_jobs,
                   "at most this many jobs")
      ->capture_default_str();
  activate_jobs->add_option("--timeout", activate_options.timeout, "job lock duration")
      ->capture_default_str();
  activate_jobs->add_option("--worker", activate_options.worker, "worker name")
      ->capture_default_str();
  activate_jobs
      ->add_option("--variables,--fetch-variables", activate_options.variables,
                   "only these variables")
      ->delimiter(',');
  activate_jobs->callback([&] {
    run = [&](const tern::Client& client) {
      // As zbctl: long-poll for 90% of the request timeout, so the answer beats the deadline.
      auto long_poll = client_timeout() * 9 / 10;
      auto response = client.newActivateJobsCommand()
                          .jobType(activate_options.type)
                          .maxJobsToActivate(activate_options.max_jobs)
                          .timeout(DurationOrFail(activate_options.timeout, "--timeout"))
                          .workerName(activate_options.worker)
                          .fetchVariables(activate_options.variables)
                          .requestTimeout(long_poll)
                          .send()
                          .get();
      Print(Pretty(ToJson(OrFail(std::move(response)))));
      return 0;
    };
  });

  // complete job KEY
  std::string job_variables;
  auto* complete = app.add_subcommand("complete", "complete a job");
  complete->require_subcommand(1);
  auto* complete_job = complete->add_subcommand("job", "complete a job");
  complete_job->add_option("key", key_text, "job key")->required();
  complete_job->add_option("--variables", job_variables, "JSON object")->default_str("{}");
  complete_job->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "job key");
      std::string variables = job_variables.empty() ? "{}" : job_variables;
      OrFail(client.newCompleteCommand(key).variables(VariablesOrFail(variables)).send().get());
      Print(human ? "Completed job with key '" + std::to_string(key) + "' and variables '" +
                        variables + "'\n"
                  : "{}\n");
      return 0;
    };
  });

  // fail job KEY
  struct {
    int32_t retries = 0;
    std::string message;
    std::string backoff = "0s";
    std::string variables;
  } fail_options;
  auto* fail = app.add_subcommand("fail", "fail a job");
  fail->require_subcommand(1);
  auto* fail_job = fail->add_subcommand("job", "fail a job");
  fail_job->add_option("key", key_text, "job key")->required();
  fail_job->add_option("--retries", fail_options.retries, "remaining retries")->required();
  fail_job->add_option("--errorMessage,--error-message", fail_options.message, "error message");
  fail_job
      ->add_option("--retryBackoff,--retry-backoff", fail_options.backoff,
                   "wait before the job can be activated again")
      ->capture_default_str();
  fail_job->add_option("--variables", fail_options.variables, "JSON object");
  fail_job->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "job key");
      auto command = client.newFailCommand(key)
                         .retries(fail_options.retries)
                         .errorMessage(fail_options.message)
                         .retryBackoff(DurationOrFail(fail_options.backoff, "--retryBackoff"));
      if (!fail_options.variables.empty()) {
        command.variables(VariablesOrFail(fail_options.variables));
      }
      OrFail(command.send().get());
      Print(human ? "Failed job with key '" + std::to_string(key) +
                        "' and set remaining retries to '" + std::to_string(fail_options.retries) +
                        "' and variables '" +
                        (fail_options.variables.empty() ? "{}" : fail_options.variables) +
                        "' with retry backoff '" +
                        GoDuration(DurationOrFail(fail_options.backoff, "--retryBackoff")) + "'\n"
                  : "{}\n");
      return 0;
    };
  });

  // throwError job KEY
  struct {
    std::string code;
    std::string message;
    std::string variables;
  } throw_options;
  auto* throw_error = app.add_subcommand("throwError", "throw a BPMN error for a job");
  throw_error->alias("throw-error");
  throw_error->require_subcommand(1);
  auto* throw_error_job = throw_error->add_subcommand("job", "throw a BPMN error for a job");
  throw_error_job->add_option("key", key_text, "job key")->required();
  throw_error_job->add_option("--errorCode,--error-code", throw_options.code, "error code")
      ->required();
  throw_error_job->add_option("--errorMessage,--error-message", throw_options.message,
                              "error message");
  throw_error_job->add_option("--variables", throw_options.variables, "JSON object");
  throw_error_job->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "job key");
      auto command = client.newThrowErrorCommand(key)
                         .errorCode(throw_options.code)
                         .errorMessage(throw_options.message);
      if (!throw_options.variables.empty()) {
        command.variables(VariablesOrFail(throw_options.variables));
      }
      OrFail(command.send().get());
      Print(human ? "Threw error with code '" + throw_options.code + "' on job with key " +
                        std::to_string(key) + "\n"
                  : "{}\n");
      return 0;
    };
  });

  // update retries KEY | update timeout KEY
  int32_t update_retries = 0;
  std::string update_timeout;
  auto* update = app.add_subcommand("update", "update a job's retries or timeout");
  update->require_subcommand(1);
  auto* update_retries_cmd = update->add_subcommand("retries", "update a job's retries");
  update_retries_cmd->add_option("key", key_text, "job key")->required();
  update_retries_cmd->add_option("--retries", update_retries, "new retries")->required();
  update_retries_cmd->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "job key");
      OrFail(client.newUpdateRetriesCommand(key).retries(update_retries).send().get());
      Print(human ? "Updated the retries of job with key '" + std::to_string(key) + "' to '" +
                        std::to_string(update_retries) + "'\n"
                  : "{}\n");
      return 0;
    };
  });
  auto* update_timeout_cmd = update->add_subcommand("timeout", "update a job's timeout");
  update_timeout_cmd->add_option("key", key_text, "job key")->required();
  update_timeout_cmd->add_option("--timeout", update_timeout, "new lock duration from now")
      ->required();
  update_timeout_cmd->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "job key");
      auto timeout = DurationOrFail(update_timeout, "--timeout");
      OrFail(client.newUpdateTimeoutCommand(key).timeout(timeout).send().get());
      Print(human ? "Updated the timeout of job with key '" + std::to_string(key) + "' to '" +
                        std::to_string(timeout.count()) + "'\n"
                  : "{}\n");
      return 0;
    };
  });

  // set variables KEY
  std::string set_variables;
  bool set_local = false;
  auto* set = app.add_subcommand("set", "set variables");
  set->require_subcommand(1);
  auto* set_variables_cmd = set->add_subcommand("variables", "set variables of a scope");
  set_variables_cmd->add_option("key", key_text, "process or element instance key")->required();
  set_variables_cmd->add_option("--variables", set_variables, "JSON object")->required();
  set_variables_cmd->add_flag("--local", set_local, "do not propagate to parent scopes");
  set_variables_cmd->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "element instance key");
      auto response = OrFail(client.newSetVariablesCommand(key)
                                 .variables(VariablesOrFail(set_variables))
                                 .local(set_local)
                                 .send()
                                 .get());
      Print(human ? "Set the variables of element instance with key '" + std::to_string(key) +
                        "' to '" + set_variables + "' with command '" +
                        std::to_string(response.key) + "'\n"
                  : Pretty(ToJson(response)));
      return 0;
    };
  });

  // resolve incident KEY
  auto* resolve = app.add_subcommand("resolve", "resolve an incident");
  resolve->require_subcommand(1);
  auto* resolve_incident = resolve->add_subcommand("incident", "resolve an incident");
  resolve_incident->add_option("key", key_text, "incident key")->required();
  resolve_incident->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "incident key");
      OrFail(client.newResolveIncidentCommand(key).send().get());
      Print(human ? "Resolved an incident of a process instance with key '" + std::to_string(key) +
                        "'\n"
                  : "{}\n");
      return 0;
    };
  });

  // evaluate decision ID|KEY
  std::string decision;
  std::string decision_variables;
  auto* evaluate = app.add_subcommand("evaluate", "evaluate a decision");
  evaluate->require_subcommand(1);
  auto* evaluate_decision = evaluate->add_subcommand("decision", "evaluate a decision");
  evaluate_decision->add_option("decision", decision, "decision id or key")->required();
  evaluate_decision->add_option("--variables", decision_variables, "JSON object");
  evaluate_decision->callback([&] {
    run = [&](const tern::Client& client) {
      auto command = client.newEvaluateDecisionCommand();
      if (std::all_of(decision.begin(), decision.end(), ::isdigit)) {
        command.decisionKey(KeyOrFail(decision, "decision key"));
      } else {
        command.decisionId(decision);
      }
      if (!decision_variables.empty()) command.variables(VariablesOrFail(decision_variables));
      Print(Pretty(ToJson(OrFail(command.send().get()))));
      return 0;
    };
  });

  // delete resource KEY
  auto* del = app.add_subcommand("delete", "delete a resource");
  del->require_subcommand(1);
  auto* delete_resource = del->add_subcommand("resource", "delete a deployed resource");
  delete_resource->add_option("key", key_text, "resource key")->required();
  delete_resource->callback([&] {
    run = [&](const tern::Client& client) {
      int64_t key = KeyOrFail(key_text, "resource key");
      OrFail(client.newDeleteResourceCommand(key).send().get());
      Print(human ? "Deleted resource with key '" + std::to_string(key) + "'\n" : "{}\n");
      return 0;
    };
  });

  // version
  auto* version = app.add_subcommand("version", "print ternctl's version");
  version->callback([&] {
    run = [](const tern::Client&) {
      Print("ternctl 0.1.0 (Zeebe gateway protocol 8.6)\n");
      return 0;
    };
  });

  // zbctl spells "with result, only these variables" as --withResult=a,b.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string arg = argv[i];
    for (const std::string flag : {"--withResult=", "--with-result="}) {
      if (arg.rfind(flag, 0) == 0) {
        std::string names = arg.substr(flag.size());
        arg = flag.substr(0, flag.size() - 1);
        if (!names.empty() && names != " ") {
          args.push_back(names);
          args.push_back("--fetch-variables");
        }
      }
    }
    args.push_back(arg);
  }
  try {
    app.allow_windows_style_options(false);
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "ternctl: %s (see ternctl --help)\n", OneLine(e.what()).c_str());
    return 2;
  }
  if (!run) {
    std::fprintf(stderr, "ternctl: no command given (see ternctl --help)\n");
    return 2;
  }
  human = output == "human";

  auto builder = tern::Client::newClientBuilder()
                     .gatewayAddress(global.address)
                     .defaultRequestTimeout(client_timeout())
                     .defaultJobWorkerName("ternctl");
  if (global.tls) builder.useTls();
  if (!global.ca_cert.empty()) builder.caCertificatePath(global.ca_cert);
  if (global.insecure) builder.usePlaintext();
  if (!global.client_id.empty() || !global.authz_url.empty()) {
    tern::OAuthCredentialsConfig oauth;
    oauth.clientId = global.client_id;
    oauth.clientSecret = global.client_secret;
    oauth.authorizationServerUrl = global.authz_url;
    oauth.audience = global.audience;
    builder.oauthCredentials(oauth);
  }
  auto client = builder.build();
  if (!client.ok()) throw Failure{client.status().ToString(), 2};
  return run(*client);
}

}  // namespace
}  // namespace ternctl

int main(int argc, char** argv) {
  // A handler that exits without reading its stdin must not take ternctl down with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  try {
    return ternctl::Main(argc, argv);
  } catch (const ternctl::Failure& failure) {
    std::fprintf(stderr, "ternctl: %s\n", ternctl::OneLine(failure.message).c_str());
    return failure.exit_code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ternctl: %s\n", ternctl::OneLine(e.what()).c_str());
    return 1;
  }
}
