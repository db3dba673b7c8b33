#pragma once

// The broker's exporter settings (docs/exporters.md): `history` (the built-in `sql` exporter,
// on by default), `export-jsonl`, `exporters:` in the YAML file, and the metrics of the
// exporters.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/config.h"
#include "broker/exporter_director.h"

namespace YAML {
class Node;
}

namespace prometheus {
struct MetricFamily;
}

namespace tern::broker {

class Partition;

// `exporters:` from the YAML file: a mapping of exporter id to its settings (`type`, default
// the id, and the type's own keys, all scalars).
absl::StatusOr<std::vector<exporter::ExporterSpec>> ParseExportersYaml(const YAML::Node& node,
                                                                       const std::string& file);

// Checks `history` and the exporters (types known, settings valid, ids unique) at start-up.
absl::Status ValidateExporterConfig(const BrokerConfig& config);

// What every partition of this broker exports to.
ExporterOptions ExporterOptionsFor(const BrokerConfig& config);

// Per partition and exporter: position, lag, errors; per partition: the log held back.
void AppendExporterMetrics(const std::vector<std::unique_ptr<Partition>>& partitions,
                           std::vector<prometheus::MetricFamily>& families);

}  // namespace tern::broker
