// User task search latency over one partition's state: N open native user tasks in a RocksDB
// store (the production backend), created by driving the engine as a leader does, then
// Engine::QueryUserTasks / GetUserTask timed for the queries the REST API's user task search
// and get make. Prints figures; asserts nothing.
//
//   tern-user-task-search-bench [--tasks 100000] [--queries 2000] [--page 50]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "engine/state/rocksdb_store.h"

namespace {

using namespace tern;  // NOLINT: a benchmark's main
using Clock = std::chrono::steady_clock;

constexpr int kUsers = 500;  // assignees, round robin
constexpr int kGroups = 20;  // candidate groups, round robin

const char* kModel = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <bpmn:process id="review" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
    <bpmn:userTask id="task"><bpmn:extensionElements><zeebe:userTask/>
      <zeebe:assignmentDefinition assignee="=who" candidateGroups="=groups" candidateUsers="=[who]"/>
      <zeebe:priorityDefinition priority="=prio"/></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>)";

struct Stats {
  std::vector<double> micros;
  size_t results = 0;
  void Print(const char* name) {
    std::sort(micros.begin(), micros.end());
    auto at = [&](double q) { return micros[static_cast<size_t>(q * (micros.size() - 1))]; };
    std::printf(
        "%-44s p50 %8.1f us  p99 %8.1f us  max %8.1f us  (%zu queries, %.1f results each)\n", name,
        at(0.5), at(0.99), micros.back(), micros.size(),
        static_cast<double>(results) / static_cast<double>(micros.size()));
  }
};

int Run(const std::string& directory, int tasks, int queries, int page);

}  // namespace

int main(int argc, char** argv) {
  int tasks = 100'000;
  int queries = 2'000;
  int page = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--tasks") tasks = value;
    if (flag == "--queries") queries = value;
    if (flag == "--page") page = value;
  }
  const auto directory = std::filesystem::temp_directory_path() /
                         ("tern-user-task-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  const int status = Run(directory.string(), tasks, queries, page);
  std::filesystem::remove_all(directory);
  return status;
}

namespace {

int Run(const std::string& directory, int tasks, int queries, int page) {
  auto store = engine::state::RocksDbStore::Open(directory, {});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  engine::Engine engine({}, **store, nullptr);
  int64_t now = 1'700'000'000'000;
  auto run = [&](record::Record command) {
    command.set_has_request(true);
    command.set_request_stream_id(1);
    command.set_request_id(1);
    engine.BeginBatch(++now);
    engine.ProcessClientCommand(std::move(command));
    engine.EndBatch();
  };
  record::DeploymentRecord deployment;
  auto* resource = deployment.add_resources();
  resource->set_resource_name("review.bpmn");
  resource->set_resource(kModel);
  run(engine::MakeCommand(-1, engine::DeploymentIntent::kCreate, deployment));

  const auto fill_start = Clock::now();
  for (int i = 0; i < tasks; ++i) {
    record::ProcessInstanceCreationRecord creation;
    creation.set_bpmn_process_id("review");
    creation.set_version(-1);
    creation.set_variables("{\"who\": \"user-" + std::to_string(i % kUsers) +
                           "\", \"groups\": [\"group-" + std::to_string(i % kGroups) +
                           "\", \"all\"], \"prio\": " + std::to_string(i % 101) + "}");
    run(engine::MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  record::UserTaskQuery all;
  all.set_limit(1);
  std::printf("%d open user tasks created in %.1f s (%.0f instances/s); first key %lld\n", tasks,
              fill_s, tasks / fill_s,
              static_cast<long long>(engine.QueryUserTasks(all).tasks(0).record().user_task_key()));
  // Every task key, by paging through all tasks (the keys are not consecutive: an instance
  // takes several).
  std::vector<int64_t> keys;
  record::UserTaskQuery page_all;
  page_all.set_limit(1000);
  const auto list_start = Clock::now();
  for (;;) {
    auto result = engine.QueryUserTasks(page_all);
    for (const auto& task : result.tasks()) keys.push_back(task.record().user_task_key());
    if (result.next_after_key() == 0) break;
    page_all.set_after_key(result.next_after_key());
  }
  std::printf("listed all %zu tasks in pages of 1,000 in %.1f ms\n", keys.size(),
              std::chrono::duration<double, std::milli>(Clock::now() - list_start).count());
  if (keys.empty()) return 1;

  auto time_query = [&](Stats& stats, const record::UserTaskQuery& query) {
    const auto start = Clock::now();
    auto result = engine.QueryUserTasks(query);
    stats.micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    stats.results += static_cast<size_t>(result.tasks_size());
    return result;
  };
  Stats by_assignee, by_group, by_user, open_state, paged, rare_scan, by_key;
  for (int q = 0; q < queries; ++q) {
    record::UserTaskQuery query;
    query.set_limit(page);
    query.set_assignee("user-" + std::to_string(q % kUsers));
    time_query(by_assignee, query);

    record::UserTaskQuery group;
    group.set_limit(page);
    group.set_candidate_group("group-" + std::to_string(q % kGroups));
    time_query(by_group, group);

    record::UserTaskQuery user;
    user.set_limit(page);
    user.set_candidate_user("user-" + std::to_string((q * 7) % kUsers));
    user.set_state("CREATED");
    time_query(by_user, user);

    record::UserTaskQuery open;
    open.set_limit(page);
    open.set_state("CREATED");
    open.set_bpmn_process_id("review");
    time_query(open_state, open);

    // A page deep into the candidate group "all" (every task), by key.
    record::UserTaskQuery deep;
    deep.set_limit(page);
    deep.set_candidate_group("all");
    deep.set_after_key(keys[(static_cast<size_t>(q) * 997) % keys.size()]);
    time_query(paged, deep);

    record::UserTaskQuery key;
    key.set_user_task_key(keys[(static_cast<size_t>(q) * 13) % keys.size()]);
    time_query(by_key, key);
  }
  // Worst case: a filter no index serves and nothing matches, so every task is read.
  for (int q = 0; q < std::max(1, queries / 100); ++q) {
    record::UserTaskQuery rare;
    rare.set_limit(page);
    rare.set_element_id("no-such-element");
    time_query(rare_scan, rare);
  }
  std::printf("page size %d\n", page);
  by_key.Print("get by key");
  by_assignee.Print("assignee (index)");
  by_group.Print("candidateGroup (index)");
  by_user.Print("candidateUser + state CREATED (index)");
  paged.Print("candidateGroup 'all', deep page (after_key)");
  open_state.Print("state CREATED + bpmnProcessId (scan)");
  rare_scan.Print("elementId matching nothing (full scan)");
  return 0;
}

}  // namespace
