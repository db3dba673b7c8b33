#pragma once

// Every column family of a partition's state, registered in one place.
//
// The numeric ids are persisted (they name the RocksDB column families and feed the state
// checksum): never renumber or reuse an id; retire one by leaving a comment in its place.
// Key layouts use the encoders in codec.h: big-endian integers so that byte order is numeric
// order, length-prefixed strings so that prefixes cannot collide.

#include <array>
#include <cstdint>
#include <string_view>

namespace tern::engine::state {

enum class ColumnFamily : uint16_t {
  // name -> value. Key generator, last processed / applied positions.
  kMeta = 1,
  // process definition key -> ProcessRecord (with the resource).
  kProcessByKey = 2,
  // (tenant, bpmn process id, version) -> process definition key.
  kProcessKeyByIdAndVersion = 3,
  // (tenant, bpmn process id) -> latest version (int32) and its key.
  kLatestProcessVersion = 4,
  // element instance key -> ElementInstance.
  kElementInstance = 5,
  // (flow scope key, child element instance key) -> empty. Children of a scope instance.
  kElementInstanceChild = 6,
  // (scope key, variable name) -> JSON value.
  kVariable = 7,
  // job key -> JobState.
  kJob = 8,
  // Ids 9, 10 and 11 are retired (they held job indexes that now live in memory; see
  // JobState). Do not reuse them.
  // incident key -> IncidentState.
  kIncident = 12,
  // element instance key -> incident key.
  kIncidentByElementInstance = 13,
  // job key -> incident key.
  kIncidentByJob = 14,
  // process instance key -> AwaitedResult (CreateProcessInstanceWithResult waiting for it).
  kAwaitedResult = 15,
  // log position -> Record. Follow-up commands written to the log but not processed yet.
  kDeferredCommand = 16,
  // (distribution key, target partition) -> CommandDistributionRecord. Commands partition 1 has
  // sent to other partitions and that are not acknowledged yet (sent again until they are).
  kPendingDistribution = 17,
};

inline constexpr std::array kAllColumnFamilies = {
    ColumnFamily::kMeta,
    ColumnFamily::kProcessByKey,
    ColumnFamily::kProcessKeyByIdAndVersion,
    ColumnFamily::kLatestProcessVersion,
    ColumnFamily::kElementInstance,
    ColumnFamily::kElementInstanceChild,
    ColumnFamily::kVariable,
    ColumnFamily::kJob,
    ColumnFamily::kIncident,
    ColumnFamily::kIncidentByElementInstance,
    ColumnFamily::kIncidentByJob,
    ColumnFamily::kAwaitedResult,
    ColumnFamily::kDeferredCommand,
    ColumnFamily::kPendingDistribution,
};

std::string_view ColumnFamilyName(ColumnFamily cf);

}  // namespace tern::engine::state
