#include "engine/state/column_families.h"

#include "base/check.h"

namespace tern::engine::state {

std::string_view ColumnFamilyName(ColumnFamily cf) {
  switch (cf) {
    case ColumnFamily::kMeta: return "meta";
    case ColumnFamily::kProcessByKey: return "process_by_key";
    case ColumnFamily::kProcessKeyByIdAndVersion: return "process_key_by_id_and_version";
    case ColumnFamily::kLatestProcessVersion: return "latest_process_version";
    case ColumnFamily::kElementInstance: return "element_instance";
    case ColumnFamily::kElementInstanceChild: return "element_instance_child";
    case ColumnFamily::kVariable: return "variable";
    case ColumnFamily::kJob: return "job";
    case ColumnFamily::kIncident: return "incident";
    case ColumnFamily::kIncidentByElementInstance: return "incident_by_element_instance";
    case ColumnFamily::kIncidentByJob: return "incident_by_job";
    case ColumnFamily::kAwaitedResult: return "awaited_result";
    case ColumnFamily::kDeferredCommand: return "deferred_command";
    case ColumnFamily::kPendingDistribution: return "pending_distribution";
  }
  TERN_UNREACHABLE("unknown column family ", static_cast<int>(cf));
}

}  // namespace tern::engine::state
