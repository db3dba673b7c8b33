#include "engine/processing/process_cache.h"

#include "base/check.h"
#include "bpmn/parser.h"

namespace tern::engine {
namespace {

std::shared_ptr<const DeployedProcess> MakeDeployed(
    const record::ProcessRecord& process, std::shared_ptr<const bpmn::Definitions> definitions) {
  auto deployed = std::make_shared<DeployedProcess>();
  deployed->key = process.process_definition_key();
  deployed->bpmn_process_id = process.bpmn_process_id();
  deployed->version = process.version();
  deployed->deployment_key = process.deployment_key();
  deployed->tenant_id = process.tenant_id();
  deployed->definitions = std::move(definitions);
  deployed->process = deployed->definitions->FindProcess(process.bpmn_process_id());
  TERN_CHECK(deployed->process != nullptr, "deployed resource lacks process ",
             process.bpmn_process_id());
  for (const bpmn::Element& element : deployed->process->elements) {
    if (element.type == bpmn::ElementType::kBoundaryEvent &&
        element.event_type == bpmn::EventType::kCompensation) {
      deployed->uses_compensation = true;
    }
    if (element.type == bpmn::ElementType::kEventSubProcess) {
      deployed->has_event_subprocesses = true;
    }
    if (element.type == bpmn::ElementType::kInclusiveGateway && element.incoming.size() > 1) {
      deployed->has_inclusive_joins = true;
    }
  }
  return deployed;
}

}  // namespace

std::shared_ptr<const DeployedProcess> ProcessCache::Get(int64_t process_definition_key) {
  if (auto it = index_.find(process_definition_key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }
  auto process = processes_.ByKey(process_definition_key);
  if (!process) return nullptr;
  auto parsed = bpmn::ParseBpmn(process->resource(), process->resource_name());
  // The resource was validated when it was deployed; failing now means the parser changed
  // incompatibly or the state is corrupt.
  TERN_CHECK(parsed.ok(), "stored process ", process_definition_key,
             " no longer parses: ", parsed.status().ToString());
  auto deployed = MakeDeployed(*process, *std::move(parsed));
  Insert(deployed);
  return deployed;
}

void ProcessCache::Put(const record::ProcessRecord& process,
                       std::shared_ptr<const bpmn::Definitions> parsed) {
  Insert(MakeDeployed(process, std::move(parsed)));
}

void ProcessCache::Insert(std::shared_ptr<const DeployedProcess> deployed) {
  if (auto it = index_.find(deployed->key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(deployed->key, std::move(deployed));
  index_[lru_.front().first] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace tern::engine
