#include "base/strings.h"
#include "exporter/exporter.h"
#include "exporter/jsonl_exporter.h"
#include "exporter/sql_exporter.h"

namespace tern::exporter {

absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(std::string_view type) {
  if (type == "jsonl") return std::make_unique<JsonlExporter>();
  if (type == "sql") return std::make_unique<SqlExporter>();
  return absl::InvalidArgumentError(
      StrCat("unknown exporter type '", type, "' (built in: jsonl, sql)"));
}

}  // namespace tern::exporter
