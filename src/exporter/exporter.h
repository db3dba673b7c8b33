#pragma once

// The interface between a partition's exporter director (src/broker/exporter_director.h) and a
// sink that receives every committed record of the partition, in log order.
//
// Export is at least once: after a restart, a leader change or an error the director delivers
// again every record after the position the exporter last acknowledged, so a sink must be
// idempotent by (partition, position). The director calls an exporter from one thread only (its
// own, never the partition's), so an exporter needs no locking of its own.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tern/record.pb.h"

namespace tern::exporter {

// One configured exporter: `exporters:` in the broker's YAML, or `--history` for the built-in
// `sql` exporter named "history".
struct ExporterSpec {
  std::string id;    // unique per broker; keys the acknowledged position in replicated state
  std::string type;  // "jsonl", "sql"
  std::map<std::string, std::string> args;
};

struct ExporterContext {
  ExporterSpec spec;
  int32_t partition_id = 1;
  std::string data_dir;  // the broker's data directory, for relative paths
};

// Given to an exporter at Open; valid until Close.
class Controller {
 public:
  virtual ~Controller() = default;
  // Everything up to and including `position` is durable in the sink: it is not delivered again
  // and the log may be compacted past it. Positions only move forward; a lower one is ignored.
  virtual void AcknowledgePosition(int64_t position) = 0;
  // The last position acknowledged, as kept in the partition's replicated state (0: none).
  virtual int64_t acknowledged_position() const = 0;
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  // Checks the arguments; no I/O. An error here is a configuration error (the broker refuses
  // to start).
  virtual absl::Status Configure(const ExporterContext& context) = 0;
  // Opens the sink. Called when this replica becomes leader, and again after an error.
  virtual absl::Status Open(Controller* controller) = 0;
  // One committed record. May buffer; acknowledges through the controller once durable. An
  // error (or an exception) makes the director close the exporter, wait, open it again and
  // deliver again every record after the acknowledged position: whatever was buffered but not
  // acknowledged must be discarded by the exporter.
  virtual absl::Status Export(const record::Record& record) = 0;
  // No further record is available right now: make what is buffered durable and acknowledge
  // it, so that an idle partition's export is not left behind a batch.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // Releases the sink. Unacknowledged buffered records may be dropped (they come again).
  virtual void Close() = 0;
};

// The built-in exporters by type name ("jsonl", "sql").
absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(std::string_view type);

}  // namespace tern::exporter
