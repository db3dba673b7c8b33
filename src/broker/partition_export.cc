// PartitionCore's side of export (exporter_director.h, docs/exporters.md): on the leader it hands
// committed entries to the director and writes the positions the exporters acknowledged to the
// log; on every replica it applies those positions to state and keeps the log from the slowest
// exporter's position on.

#include <spdlog/spdlog.h>

#include <charconv>

#include "base/check.h"
#include "base/strings.h"
#include "broker/partition_core.h"

namespace tern::broker {
namespace {

using engine::state::ColumnFamily;

// Keys in the state's meta column family. Values are decimal numbers.
constexpr std::string_view kExporterPositionPrefix = "exporter-position:";
constexpr std::string_view kExportedIndexKey = "exported-index";

// Entries read from the log and offered per poll, so that a leader catching up on a long backlog
// still polls Raft often.
constexpr uint64_t kMaxOfferedEntriesPerPoll = 1'024;
constexpr uint64_t kMaxOfferedBytesPerRead = 4 << 20;

int64_t ParseInt64(std::string_view text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool AcceptsProposalsNow(const raft::RawNode& raft) {
  return raft.raft().role() == raft::StateRole::kLeader && raft.raft().lead_transferee() == 0;
}

}  // namespace

void PartitionCore::LoadExporterPositions() {
  exporter_positions_.clear();
  exported_index_ = 0;
  if (!store_) return;
  auto& txn = store_->transaction();
  txn.ForEachWithPrefix(
      ColumnFamily::kMeta, kExporterPositionPrefix,
      [&](std::string_view key, std::string_view value) {
        exporter_positions_[std::string(key.substr(kExporterPositionPrefix.size()))] =
            ParseInt64(value);
        return true;
      });
  std::string value;
  if (txn.Get(ColumnFamily::kMeta, kExportedIndexKey, &value)) {
    exported_index_ = static_cast<uint64_t>(ParseInt64(value));
  }
}

void PartitionCore::ApplyExporterPositions(const record::RecordBatch& batch) {
  // Positions only move forward, so every replica that applies the same entries holds the same
  // values whatever order of proposals a leader change left in the log.
  auto& txn = store_->transaction();
  for (const auto& exporter : batch.exporter_positions()) {
    int64_t& known = exporter_positions_[exporter.exporter_id()];
    if (exporter.position() <= known) continue;
    known = exporter.position();
    txn.Put(ColumnFamily::kMeta, StrCat(kExporterPositionPrefix, exporter.exporter_id()),
            std::to_string(known));
  }
  if (batch.exported_index() > exported_index_) {
    exported_index_ = batch.exported_index();
    txn.Put(ColumnFamily::kMeta, kExportedIndexKey, std::to_string(exported_index_));
  }
  txn.Commit();
}

void PartitionCore::StartExport() {
  const auto& director = environment_.exporters;
  if (!director || !storage_) return;
  export_next_index_ = exported_index_ + 1;
  if (export_next_index_ < storage_->FirstIndex()) {
    if (exported_index_ > 0) {
      // Compacted past the exporters (the retention cap, or a snapshot installed from a leader
      // that had compacted): those records cannot be exported any more.
      metrics_.export_skipped_entries += storage_->FirstIndex() - export_next_index_;
      spdlog::warn(
          "partition {}: the log no longer holds entries {} to {}, which the exporters have not "
          "acknowledged; exporting from index {}",
          config_.partition_id, export_next_index_, storage_->FirstIndex() - 1,
          storage_->FirstIndex());
    }
    export_next_index_ = storage_->FirstIndex();
  }
  last_export_proposal_ms_ = clock_.MonotonicMillis();
  director->Activate(exporter_positions_);
  spdlog::info("partition {}: exporting from index {}", config_.partition_id, export_next_index_);
}

void PartitionCore::StopExport() {
  if (environment_.exporters) environment_.exporters->Deactivate();
}

void PartitionCore::PumpExport(int64_t now_ms) {
  const auto& director = environment_.exporters;
  if (!director) return;
  metrics_.export_unread_entries = 0;
  if (!is_leader() || !processing_ready_ || !storage_ || !director->active()) return;
  uint64_t budget = kMaxOfferedEntriesPerPoll;
  while (budget > 0 && export_next_index_ <= applied_index_ && director->WantsMore()) {
    if (export_next_index_ < storage_->FirstIndex()) {
      metrics_.export_skipped_entries += storage_->FirstIndex() - export_next_index_;
      spdlog::warn("partition {}: entries {} to {} were compacted before they were exported",
                   config_.partition_id, export_next_index_, storage_->FirstIndex() - 1);
      export_next_index_ = storage_->FirstIndex();
      continue;
    }
    uint64_t hi = std::min(applied_index_ + 1, export_next_index_ + budget);
    auto entries = storage_->Entries(export_next_index_, hi, kMaxOfferedBytesPerRead);
    if (!entries.ok()) {
      spdlog::warn("partition {}: cannot read entry {} for the exporters: {}", config_.partition_id,
                   export_next_index_, ToStd(entries.status().message()));
      break;
    }
    for (auto& entry : *entries) {
      director->Offer(entry.index(),
                      entry.type() == raft::ENTRY_NORMAL ? std::move(*entry.mutable_data()) : "");
      export_next_index_ = entry.index() + 1;
      --budget;
    }
  }
  if (applied_index_ >= export_next_index_) {
    metrics_.export_unread_entries = applied_index_ + 1 - export_next_index_;
  }

  // Write the acknowledged positions to the log once they moved, at most every interval.
  if (now_ms - last_export_proposal_ms_ < director->options().position_interval_ms) return;
  if (!AcceptsProposalsNow(*raft_)) return;
  last_export_proposal_ms_ = now_ms;
  ExporterDirector::Progress progress = director->progress();
  record::RecordBatch batch;
  for (const auto& [id, position] : progress.acknowledged) {
    auto known = exporter_positions_.find(id);
    if (known != exporter_positions_.end() && known->second >= position) continue;
    if (position <= 0) continue;
    auto* entry = batch.add_exporter_positions();
    entry->set_exporter_id(id);
    entry->set_position(position);
  }
  if (progress.exported_index > exported_index_) batch.set_exported_index(progress.exported_index);
  if (batch.exporter_positions_size() == 0 && batch.exported_index() == 0) return;
  std::string data;
  TERN_CHECK(batch.SerializeToString(&data));
  // Not an InFlight entry: nothing waits for it; it is applied (ApplyEntry) when it commits,
  // like on the followers.
  auto proposed = raft_->Propose(std::move(data));
  if (!proposed.ok()) {
    spdlog::debug("partition {}: exporter positions not proposed: {}", config_.partition_id,
                  ToStd(proposed.status().message()));
  }
}

uint64_t PartitionCore::ExportCompactionIndex(uint64_t snapshot_index) {
  const auto& director = environment_.exporters;
  if (!director) return snapshot_index;
  const uint64_t cap = director->options().max_retained_entries;
  const uint64_t floor = snapshot_index > cap ? snapshot_index - cap : 0;
  uint64_t index = std::min(snapshot_index, std::max(exported_index_, floor));
  if (floor > exported_index_ && floor >= storage_->FirstIndex()) {
    spdlog::warn(
        "partition {}: the exporters are more than {} entries behind the snapshot at index {}; "
        "compacting the log to index {} anyway (records up to it will not all be exported)",
        config_.partition_id, cap, snapshot_index, floor);
  }
  metrics_.export_retained_entries = snapshot_index - index;
  return index;
}

}  // namespace tern::broker
