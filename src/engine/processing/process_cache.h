#pragma once

// Parsed process models by process definition key.
//
// State stores a deployed process as its BPMN resource; the engine needs the executable model.
// Parsing is pure, so caching parsed models is invisible to replay. The cache is bounded by the
// number of models and by their approximate memory; a miss re-parses the stored resource.
//
// A model is parsed once per broker process, not once per partition: a deployment reaches every
// partition with the same keys and resource, and the partitions' caches share one parsed model
// through a process-wide registry of weak references (a model lives while some cache holds it).
// Owned by one partition's engine and used on its thread only; the registry is thread-safe.

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
  size_t approximate_bytes = 0;  // memory of `definitions` (bpmn::ApproximateMemoryBytes)
};

class ProcessCache {
 public:
  static constexpr size_t kDefaultCapacity = 512;
  // A 4 MiB resource (the largest accepted) makes a model of about 100 MB at worst (100,000
  // elements, docs in src/bpmn/README.md): a few of those fit, a flood of them cannot pile up.
  static constexpr size_t kDefaultCapacityBytes = size_t{512} << 20;

  explicit ProcessCache(state::ProcessState& processes, size_t capacity = kDefaultCapacity,
                        size_t capacity_bytes = kDefaultCapacityBytes)
      : processes_(processes), capacity_(capacity), capacity_bytes_(capacity_bytes) {}

  // The deployed process with this key, or nullptr when there is none.
  std::shared_ptr<const DeployedProcess> Get(int64_t process_definition_key);
  // Adds a model parsed at deploy time, saving a second parse.
  void Put(const record::ProcessRecord& process, std::shared_ptr<const bpmn::Definitions> parsed);

  size_t size() const { return lru_.size(); }
  size_t approximate_bytes() const { return bytes_; }

  // How many stored resources caches in this process have parsed (misses that no partition's
  // cache could serve). Deploy-time parses are not counted: they come in through Put. For tests
  // that check a model is not parsed twice.
  static int64_t parse_count();

 private:
  using Entry = std::pair<int64_t, std::shared_ptr<const DeployedProcess>>;
  void Insert(std::shared_ptr<const DeployedProcess> deployed);

  state::ProcessState& processes_;
  size_t capacity_;
  size_t capacity_bytes_;
  size_t bytes_ = 0;
  std::list<Entry> lru_;
  std::unordered_map<int64_t, std::list<Entry>::iterator> index_;
};

}  // namespace tern::engine
