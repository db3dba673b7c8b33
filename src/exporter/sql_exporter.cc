#include "exporter/sql_exporter.h"

#include "base/status_macros.h"
#include "base/strings.h"
#include "exporter/settings.h"

namespace tern::exporter {

absl::Status SqlExporter::Configure(const ExporterContext& context) {
  partition_id_ = context.partition_id;
  const auto& args = context.spec.args;
  auto url = args.find("url");
  auto parsed = ParseHistoryUrl(url != args.end() ? url->second : "",
                                StrCat(context.data_dir, "/history.db"));
  if (!parsed.ok()) return parsed.status();
  url_ = *parsed;
  if (url_.kind == HistoryUrl::Kind::kNone) {
    return absl::InvalidArgumentError(
        StrCat("exporter '", context.spec.id, "': history is turned off (url none)"));
  }
  if (auto it = args.find("batch-records"); it != args.end()) {
    TERN_ASSIGN_OR_RETURN(batch_records_, ParseCount(it->second));
    batch_records_ = std::max<int64_t>(1, batch_records_);
  }
  if (auto it = args.find("batch-ms"); it != args.end()) {
    TERN_ASSIGN_OR_RETURN(batch_ms_, ParseCount(it->second));
  }
  for (const auto& [key, value] : args) {
    if (key != "url" && key != "batch-records" && key != "batch-ms" && key != "type") {
      return absl::InvalidArgumentError(
          StrCat("exporter '", context.spec.id, "': unknown sql setting '", key, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status SqlExporter::Open(Controller* controller) {
  controller_ = controller;
  TERN_ASSIGN_OR_RETURN(auto connection, OpenSqlConnection(url_));
  TERN_ASSIGN_OR_RETURN(store_, HistoryStore::Open(std::move(connection), partition_id_));
  // The store may be ahead of the replicated position (it committed, the acknowledgement did
  // not reach the log before a crash): acknowledge what it holds, so the log can be compacted.
  TERN_ASSIGN_OR_RETURN(auto progress, store_->ReadProgress());
  if (progress.position > controller->acknowledged_position()) {
    controller->AcknowledgePosition(progress.position);
  }
  batched_ = 0;
  return absl::OkStatus();
}

absl::Status SqlExporter::Export(const record::Record& record) {
  if (!store_) return absl::FailedPreconditionError("sql exporter is not open");
  if (!store_->in_transaction()) {
    TERN_RETURN_IF_ERROR(store_->Begin());
    batch_started_ = std::chrono::steady_clock::now();
    batched_ = 0;
  }
  absl::Status applied = store_->Apply(record);
  if (!applied.ok()) {
    store_->Rollback();
    return applied;
  }
  ++batched_;
  if (batched_ >= batch_records_ ||
      std::chrono::steady_clock::now() - batch_started_ >= std::chrono::milliseconds(batch_ms_)) {
    return Flush();
  }
  return absl::OkStatus();
}

absl::Status SqlExporter::Flush() {
  if (!store_ || !store_->in_transaction()) return absl::OkStatus();
  TERN_ASSIGN_OR_RETURN(int64_t position, store_->Commit());
  batched_ = 0;
  if (controller_ != nullptr && position > 0) controller_->AcknowledgePosition(position);
  return absl::OkStatus();
}

void SqlExporter::Close() {
  store_.reset();  // rolls back an open transaction: its records come again
  controller_ = nullptr;
}

}  // namespace tern::exporter
