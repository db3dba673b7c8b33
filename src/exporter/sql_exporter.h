#pragma once

// `sql`: the history store (history_store.h) as an exporter. Records are applied in batched
// transactions: a batch commits after `batch-records` records (default 2,000), when it is older
// than `batch-ms` (default 500), or when the director has nothing more to give (Flush); the
// commit acknowledges the batch's last position.
//
// Arguments: `url` (`sqlite:PATH`, `postgresql://...`; default `sqlite:<data-dir>/history.db`),
// `batch-records`, `batch-ms`.

#include <chrono>
#include <memory>
#include <string>

#include "exporter/exporter.h"
#include "exporter/history_store.h"
#include "exporter/sql.h"

namespace tern::exporter {

class SqlExporter : public Exporter {
 public:
  absl::Status Configure(const ExporterContext& context) override;
  absl::Status Open(Controller* controller) override;
  absl::Status Export(const record::Record& record) override;
  absl::Status Flush() override;
  void Close() override;

 private:
  HistoryUrl url_;
  int32_t partition_id_ = 1;
  int64_t batch_records_ = 2'000;
  int64_t batch_ms_ = 500;
  Controller* controller_ = nullptr;
  std::unique_ptr<HistoryStore> store_;
  int64_t batched_ = 0;
  std::chrono::steady_clock::time_point batch_started_;
};

}  // namespace tern::exporter
