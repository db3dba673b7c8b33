#pragma once

// Event appliers: the only code that changes engine state.
//
// Processing on the leader and replay on followers call the same Apply, so an event means the
// same thing wherever it is applied. An applier may read the process model (immutable) and
// state, and must not depend on anything else: no clock, no configuration that can differ
// between replicas.

#include <cstdint>

#include "engine/processing/process_cache.h"
#include "engine/state/engine_state.h"
#include "tern/record.pb.h"

namespace tern::engine {

// The first key of a partition's key space; keys are (partition id << 51) + counter.
inline constexpr int kPartitionBits = 51;
inline int64_t PartitionKeyBase(int32_t partition_id) {
  return static_cast<int64_t>(partition_id) << kPartitionBits;
}
inline int32_t PartitionOfKey(int64_t key) { return static_cast<int32_t>(key >> kPartitionBits); }

class EventAppliers {
 public:
  EventAppliers(int32_t partition_id, state::EngineState& state, ProcessCache& processes)
      : partition_id_(partition_id), state_(state), processes_(processes) {}

  void Apply(const record::Record& event);
  // The highest key of this partition handed out so far: carried by an applied event, or
  // recorded by a batch (RecordBatch.last_key).
  int64_t last_key() { return state_.meta.LastKey(PartitionKeyBase(partition_id_)); }
  // Records that `key` was handed out (keys of other partitions are ignored).
  void ObserveKey(int64_t key);

 private:
  void ApplyProcessInstance(const record::Record& event);
  void ApplyJob(const record::Record& event);
  void ApplyJobBatch(const record::Record& event);
  void ApplyIncident(const record::Record& event);
  void ApplyMessageSubscription(const record::Record& event);
  void ApplyProcessMessageSubscription(const record::Record& event);
  void ApplyMessageStartSubscription(const record::Record& event);
  void ApplyProcessEvent(const record::Record& event);
  void ApplyCompensation(const record::Record& event);
  void ApplyUserTask(const record::Record& event);
  void ApplyMessageCorrelation(const record::Record& event);

  int32_t partition_id_;
  state::EngineState& state_;
  ProcessCache& processes_;
};

}  // namespace tern::engine
