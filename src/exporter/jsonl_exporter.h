#pragma once

// `jsonl`: every record as one line of Zeebe-shaped JSON (record_json.h), appended to a file
// that is rotated by size, or written to stdout.
//
// Arguments: `path` (default `<data-dir>/export/records-partition-<id>.jsonl`; `-` is stdout;
// `{partition}` in the path is replaced by the partition id), `max-bytes` (rotate beyond it;
// default 128 MiB, 0 = never), `max-files` (rotated files kept: path.1 ... path.N; default 4).
// A record is acknowledged once its line is flushed and fsynced (at Flush, or every
// `sync-records` records, default 10,000). Lines after the last acknowledged position may appear
// twice after a restart or an error: readers deduplicate by (partitionId, position).

#include <cstdio>
#include <string>

#include "exporter/exporter.h"

namespace tern::exporter {

class JsonlExporter : public Exporter {
 public:
  ~JsonlExporter() override;
  absl::Status Configure(const ExporterContext& context) override;
  absl::Status Open(Controller* controller) override;
  absl::Status Export(const record::Record& record) override;
  absl::Status Flush() override;
  void Close() override;

  const std::string& path() const { return path_; }

 private:
  absl::Status Rotate();

  std::string path_;
  int64_t max_bytes_ = 128ll << 20;
  int max_files_ = 4;
  int64_t sync_records_ = 10'000;
  Controller* controller_ = nullptr;
  std::FILE* file_ = nullptr;
  bool stdout_ = false;
  int64_t size_bytes_ = 0;
  int64_t unsynced_records_ = 0;
  int64_t last_written_position_ = 0;
};

}  // namespace tern::exporter
