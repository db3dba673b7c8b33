#include "engine/intent.h"

#include <array>

namespace tern::engine {
namespace {

template <size_t N>
std::string_view Lookup(const std::array<std::string_view, N>& names, int32_t intent) {
  if (intent < 0 || static_cast<size_t>(intent) >= N) return "UNKNOWN";
  return names[static_cast<size_t>(intent)];
}

constexpr std::array<std::string_view, 5> kDeployment = {"CREATE", "CREATED", "DISTRIBUTE",
                                                         "DISTRIBUTED", "FULLY_DISTRIBUTED"};
constexpr std::array<std::string_view, 3> kProcess = {"CREATED", "DELETING", "DELETED"};
constexpr std::array<std::string_view, 11> kProcessInstance = {
    "CANCEL",           "SEQUENCE_FLOW_TAKEN", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED",
    "ELEMENT_COMPLETING", "ELEMENT_COMPLETED", "ELEMENT_TERMINATING", "ELEMENT_TERMINATED",
    "ACTIVATE_ELEMENT", "COMPLETE_ELEMENT",    "TERMINATE_ELEMENT"};
constexpr std::array<std::string_view, 3> kCreation = {"CREATE", "CREATED",
                                                       "CREATE_WITH_AWAITING_RESULT"};
constexpr std::array<std::string_view, 1> kResult = {"COMPLETED"};
constexpr std::array<std::string_view, 18> kJob = {
    "CREATED",        "COMPLETE",        "COMPLETED",           "TIME_OUT",
    "TIMED_OUT",      "FAIL",            "FAILED",              "UPDATE_RETRIES",
    "RETRIES_UPDATED", "CANCELED",       "THROW_ERROR",         "ERROR_THROWN",
    "RECUR_AFTER_BACKOFF", "RECURRED_AFTER_BACKOFF", "YIELD", "YIELDED",
    "UPDATE_TIMEOUT", "TIMEOUT_UPDATED"};
constexpr std::array<std::string_view, 2> kJobBatch = {"ACTIVATE", "ACTIVATED"};
constexpr std::array<std::string_view, 2> kVariable = {"CREATED", "UPDATED"};
constexpr std::array<std::string_view, 2> kVariableDocument = {"UPDATE", "UPDATED"};
constexpr std::array<std::string_view, 3> kIncident = {"CREATED", "RESOLVE", "RESOLVED"};
constexpr std::array<std::string_view, 5> kDistribution = {"STARTED", "DISTRIBUTING", "ACKNOWLEDGE",
                                                           "ACKNOWLEDGED", "FINISHED"};

}  // namespace

std::string_view IntentName(record::ValueType value_type, int32_t intent) {
  switch (value_type) {
    case record::DEPLOYMENT: return Lookup(kDeployment, intent);
    case record::PROCESS: return Lookup(kProcess, intent);
    case record::PROCESS_INSTANCE: return Lookup(kProcessInstance, intent);
    case record::PROCESS_INSTANCE_CREATION: return Lookup(kCreation, intent);
    case record::PROCESS_INSTANCE_RESULT: return Lookup(kResult, intent);
    case record::JOB: return Lookup(kJob, intent);
    case record::JOB_BATCH: return Lookup(kJobBatch, intent);
    case record::VARIABLE: return Lookup(kVariable, intent);
    case record::VARIABLE_DOCUMENT: return Lookup(kVariableDocument, intent);
    case record::INCIDENT: return Lookup(kIncident, intent);
    case record::COMMAND_DISTRIBUTION: return Lookup(kDistribution, intent);
    default: return "UNKNOWN";
  }
}

}  // namespace tern::engine
