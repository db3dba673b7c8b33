#include "broker/exporter_config.h"

#include <prometheus/metric_family.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "base/strings.h"
#include "broker/metric_family.h"
#include "broker/partition.h"
#include "exporter/sql.h"

namespace tern::broker {
namespace {

constexpr char kHistoryExporterId[] = "history";
constexpr char kJsonlExporterId[] = "jsonl";

}  // namespace

absl::StatusOr<std::vector<exporter::ExporterSpec>> ParseExportersYaml(const YAML::Node& node,
                                                                       const std::string& file) {
  std::vector<exporter::ExporterSpec> specs;
  if (node.IsNull()) return specs;
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(
        StrCat(file, ": 'exporters' must map exporter ids to their settings"));
  }
  for (const auto& item : node) {
    exporter::ExporterSpec spec;
    spec.id = item.first.as<std::string>();
    spec.type = spec.id;
    if (!item.second.IsNull() && !item.second.IsMap()) {
      return absl::InvalidArgumentError(
          StrCat(file, ": exporters.", spec.id, " must be a mapping of settings"));
    }
    for (const auto& setting : item.second) {
      std::string key = setting.first.as<std::string>();
      if (!setting.second.IsScalar()) {
        return absl::InvalidArgumentError(
            StrCat(file, ": exporters.", spec.id, ".", key, " must be a single value"));
      }
      std::string value = setting.second.as<std::string>();
      if (key == "type") {
        spec.type = value;
      } else {
        spec.args[key] = value;
      }
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

ExporterOptions ExporterOptionsFor(const BrokerConfig& config) {
  ExporterOptions options;
  options.data_dir = config.data_dir;
  options.max_retained_entries = static_cast<uint64_t>(config.export_max_log_entries);
  auto history = exporter::ParseHistoryUrl(config.history, config.data_dir + "/history.db");
  if (history.ok() && history->kind != exporter::HistoryUrl::Kind::kNone) {
    options.exporters.push_back({kHistoryExporterId, "sql", {{"url", config.history}}});
  }
  if (!config.export_jsonl.empty()) {
    options.exporters.push_back({kJsonlExporterId, "jsonl", {{"path", config.export_jsonl}}});
  }
  for (const auto& spec : config.exporters) options.exporters.push_back(spec);
  return options;
}

absl::Status ValidateExporterConfig(const BrokerConfig& config) {
  auto history = exporter::ParseHistoryUrl(config.history, config.data_dir + "/history.db");
  if (!history.ok()) return history.status();
  if (config.export_max_log_entries < 1) {
    return absl::InvalidArgumentError("export-max-log-entries must be at least 1");
  }
  std::set<std::string> ids;
  for (const auto& spec : ExporterOptionsFor(config).exporters) {
    if (!ids.insert(spec.id).second) {
      return absl::InvalidArgumentError(StrCat("exporter id '", spec.id, "' is used twice ('",
                                               kHistoryExporterId, "' is the ", "history store, '",
                                               kJsonlExporterId, "' the export-jsonl file)"));
    }
    auto created = exporter::CreateExporter(spec.type);
    if (!created.ok()) {
      return absl::InvalidArgumentError(
          StrCat("exporter '", spec.id, "': ", ToStd(created.status().message())));
    }
    exporter::ExporterContext context;
    context.spec = spec;
    context.data_dir = config.data_dir;
    if (auto status = (*created)->Configure(context); !status.ok()) {
      return absl::Status(status.code(),
                          StrCat("exporter '", spec.id, "': ", ToStd(status.message())));
    }
  }
  return absl::OkStatus();
}

void AppendExporterMetrics(const std::vector<std::unique_ptr<Partition>>& partitions,
                           std::vector<prometheus::MetricFamily>& families) {
  using prometheus::MetricType;
  auto position =
      Family("tern_exporter_position", "Last log position the exporter acknowledged as durable",
             MetricType::Gauge);
  auto lag_records = Family("tern_exporter_lag_records",
                            "Records handed to the exporters that this exporter has not "
                            "acknowledged yet (leader only)",
                            MetricType::Gauge);
  auto lag_seconds = Family("tern_exporter_lag_seconds",
                            "Record time of the newest record handed to the exporters minus that "
                            "of the last one this exporter acknowledged",
                            MetricType::Gauge);
  auto errors = Family("tern_exporter_errors_total",
                       "Failed exporter calls (open, export, flush; exceptions included)",
                       MetricType::Counter);
  auto exported = Family("tern_exporter_exported_records_total",
                         "Records given to the exporter (again after errors)", MetricType::Counter);
  auto failing =
      Family("tern_exporter_failing", "1 while the exporter waits to be retried after an error",
             MetricType::Gauge);
  auto retained = Family("tern_export_retained_log_entries",
                         "Log entries kept past the newest snapshot because exporters have not "
                         "acknowledged them",
                         MetricType::Gauge);
  auto unread = Family("tern_export_unread_log_entries",
                       "Committed log entries not yet handed to the exporters (leader only)",
                       MetricType::Gauge);
  auto skipped = Family("tern_export_skipped_log_entries_total",
                        "Log entries compacted before every exporter had them (retention cap)",
                        MetricType::Counter);
  bool any = false;
  for (const auto& partition : partitions) {
    if (!partition->exporters()) continue;
    any = true;
    const std::string id = std::to_string(partition->id());
    PartitionMetrics m = partition->Metrics();
    AddValue(retained, static_cast<double>(m.export_retained_entries), {{"partition", id}});
    AddValue(unread, static_cast<double>(m.export_unread_entries), {{"partition", id}});
    AddValue(skipped, static_cast<double>(m.export_skipped_entries), {{"partition", id}});
    for (const auto& e : partition->ExporterMetricsSnapshot()) {
      std::vector<prometheus::ClientMetric::Label> labels = {{"partition", id}, {"exporter", e.id}};
      AddValue(position, static_cast<double>(e.acknowledged_position), labels);
      AddValue(lag_records, static_cast<double>(e.lag_records), labels);
      AddValue(lag_seconds, e.lag_seconds, labels);
      AddValue(errors, static_cast<double>(e.errors), labels);
      AddValue(exported, static_cast<double>(e.exported_records), labels);
      AddValue(failing, e.failing ? 1.0 : 0.0, labels);
    }
  }
  if (!any) return;
  for (auto* family : {&position, &lag_records, &lag_seconds, &errors, &exported, &failing,
                       &retained, &unread, &skipped}) {
    families.push_back(std::move(*family));
  }
}

}  // namespace tern::broker
