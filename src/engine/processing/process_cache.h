#pragma once

// Parsed process models by process definition key.
//
// State stores a deployed process as its BPMN resource; the engine needs the executable model.
// Parsing is pure, so caching parsed models is invisible to replay. The cache is bounded; a
// miss re-parses the stored resource.

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>

#include "bpmn/model.h"
#include "engine/state/engine_state.h"

namespace tern::engine {

struct DeployedProcess {
  int64_t key = 0;
  std::string bpmn_process_id;
  int32_t version = 0;
  std::string tenant_id;
  int64_t deployment_key = 0;  // the deployment that created this version
  std::shared_ptr<const bpmn::Definitions> definitions;
  const bpmn::Process* process = nullptr;  // inside `definitions`
  // Derived from the model once, so that hot paths (and appliers) can skip lookups for what a
  // process cannot do.
  bool uses_compensation = false;       // has compensation boundary events
  bool has_event_subprocesses = false;  // anywhere in the process
  bool has_inclusive_joins = false;
};

class ProcessCache {
 public:
  explicit ProcessCache(state::ProcessState& processes, size_t capacity = 512)
      : processes_(processes), capacity_(capacity) {}

  // The deployed process with this key, or nullptr when there is none.
  std::shared_ptr<const DeployedProcess> Get(int64_t process_definition_key);
  // Adds a model parsed at deploy time, saving a second parse.
  void Put(const record::ProcessRecord& process, std::shared_ptr<const bpmn::Definitions> parsed);

 private:
  using Entry = std::pair<int64_t, std::shared_ptr<const DeployedProcess>>;
  void Insert(std::shared_ptr<const DeployedProcess> deployed);

  state::ProcessState& processes_;
  size_t capacity_;
  std::list<Entry> lru_;
  std::unordered_map<int64_t, std::list<Entry>::iterator> index_;
};

}  // namespace tern::engine
