#include "engine/processing/process_cache.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <string_view>

#include "base/check.h"
#include "bpmn/parser.h"

namespace tern::engine {
namespace {

std::atomic<int64_t> parses{0};

// What identifies a stored process beyond its key. In a broker, one key always names one
// resource (partitions receive deployments with the deploying partition's keys); the rest is
// checked so that independent engines in one process (tests, simulations) never share a model
// by accident.
struct Fingerprint {
  std::string bpmn_process_id;
  int32_t version = 0;
  std::string tenant_id;
  int64_t deployment_key = 0;
  std::string resource_name;
  size_t resource_size = 0;
  size_t resource_hash = 0;

  static Fingerprint Of(const record::ProcessRecord& process) {
    return Fingerprint{process.bpmn_process_id(),
                       process.version(),
                       process.tenant_id(),
                       process.deployment_key(),
                       process.resource_name(),
                       process.resource().size(),
                       std::hash<std::string_view>()(process.resource())};
  }
  bool operator==(const Fingerprint&) const = default;
};

// Parsed models of this process by definition key, shared by the partitions' caches.
class SharedModels {
 public:
  static SharedModels& Instance() {
    static auto* models = new SharedModels();
    return *models;
  }

  std::shared_ptr<const DeployedProcess> Find(int64_t key, const Fingerprint& fingerprint) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [begin, end] = entries_.equal_range(key);
    for (auto it = begin; it != end; ++it) {
      if (it->second.fingerprint == fingerprint) return it->second.deployed.lock();
    }
    return nullptr;
  }

  void Remember(Fingerprint fingerprint, const std::shared_ptr<const DeployedProcess>& deployed) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [begin, end] = entries_.equal_range(deployed->key);
    auto same = std::find_if(begin, end,
                             [&](const auto& e) { return e.second.fingerprint == fingerprint; });
    if (same != end) {
      same->second.deployed = deployed;
    } else {
      entries_.emplace(deployed->key, Entry{std::move(fingerprint), deployed});
    }
    // Drop entries whose model no cache holds any more, now and then.
    if (++inserts_ % 64 == 0) {
      std::erase_if(entries_, [](const auto& entry) { return entry.second.deployed.expired(); });
    }
  }

 private:
  struct Entry {
    Fingerprint fingerprint;
    std::weak_ptr<const DeployedProcess> deployed;
  };
  std::mutex mu_;
  // One key, one resource in a broker; several only when unrelated engines share the process.
  std::unordered_multimap<int64_t, Entry> entries_;
  uint64_t inserts_ = 0;
};

// Parsing a large resource allocates far more (XML tree, pugixml DOM) than the model it leaves;
// glibc keeps freed memory in its heap, so without this the peak would stay resident.
void ReleaseFreedMemoryAfter(const record::ProcessRecord& process) {
#if defined(__GLIBC__)
  constexpr size_t kLargeResourceBytes = 1 << 20;
  if (process.resource().size() >= kLargeResourceBytes) malloc_trim(0);
#else
  (void)process;
#endif
}

std::shared_ptr<const DeployedProcess> MakeDeployed(
    const record::ProcessRecord& process, std::shared_ptr<const bpmn::Definitions> definitions) {
  auto deployed = std::make_shared<DeployedProcess>();
  deployed->key = process.process_definition_key();
  deployed->bpmn_process_id = process.bpmn_process_id();
  deployed->version = process.version();
  deployed->deployment_key = process.deployment_key();
  deployed->tenant_id = process.tenant_id();
  deployed->definitions = std::move(definitions);
  deployed->approximate_bytes = bpmn::ApproximateMemoryBytes(*deployed->definitions);
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

int64_t ProcessCache::parse_count() { return parses.load(std::memory_order_relaxed); }

std::shared_ptr<const DeployedProcess> ProcessCache::Get(int64_t process_definition_key) {
  if (auto it = index_.find(process_definition_key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }
  auto process = processes_.ByKey(process_definition_key);
  if (!process) return nullptr;
  Fingerprint fingerprint = Fingerprint::Of(*process);
  if (auto shared = SharedModels::Instance().Find(process_definition_key, fingerprint)) {
    Insert(shared);
    return shared;
  }
  parses.fetch_add(1, std::memory_order_relaxed);
  auto parsed = bpmn::ParseBpmn(process->resource(), process->resource_name());
  // The resource was validated when it was deployed; failing now means the parser changed
  // incompatibly or the state is corrupt.
  TERN_CHECK(parsed.ok(), "stored process ", process_definition_key,
             " no longer parses: ", parsed.status().ToString());
  auto deployed = MakeDeployed(*process, *std::move(parsed));
  SharedModels::Instance().Remember(std::move(fingerprint), deployed);
  Insert(deployed);
  ReleaseFreedMemoryAfter(*process);
  return deployed;
}

void ProcessCache::Put(const record::ProcessRecord& process,
                       std::shared_ptr<const bpmn::Definitions> parsed) {
  auto deployed = MakeDeployed(process, std::move(parsed));
  SharedModels::Instance().Remember(Fingerprint::Of(process), deployed);
  Insert(std::move(deployed));
  ReleaseFreedMemoryAfter(process);
}

void ProcessCache::Insert(std::shared_ptr<const DeployedProcess> deployed) {
  if (auto it = index_.find(deployed->key); it != index_.end()) {
    bytes_ -= it->second->second->approximate_bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  bytes_ += deployed->approximate_bytes;
  lru_.emplace_front(deployed->key, std::move(deployed));
  index_[lru_.front().first] = lru_.begin();
  // The model just inserted always stays: it is about to be used.
  while (lru_.size() > capacity_ || (bytes_ > capacity_bytes_ && lru_.size() > 1)) {
    bytes_ -= lru_.back().second->approximate_bytes;
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace tern::engine
