#pragma once

// Reads of the history store for Camunda 8.8's search API (POST /v2/<entity>/search, GET
// /v2/<entity>/{key}, a process definition's XML, element statistics): the 8.8 request JSON in,
// the 8.8 answer JSON out. Filters, sorts and cursors become parameterized SQL (`?N` only, the
// dialect SQLite and PostgreSQL share, no value is ever spliced into a statement); rows become
// JSON here, never in SQL. docs/rest-api.md lists the entities, fields and limits.
//
// Paging: `page.limit` (1..1,000, 100 by default) with `from` (an offset), `after` (the
// `endCursor` of the previous page) or `before` (a `startCursor`). Cursors are the base64 of the
// sort values of a row and its key (keyset paging: a page costs the same at any depth, and rows
// added meanwhile do not shift it). `totalItems` is exact up to 10,000; beyond,
// `hasMoreTotalItems` is true.
//
// Owned by one thread at a time (its connection is).

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/sql.h"

namespace tern::exporter {

class HistoryQuery {
 public:
  // Migrates the schema (so a reader opened before the first export finds the tables) and keeps
  // the connection for reads.
  static absl::StatusOr<std::unique_ptr<HistoryQuery>> Open(
      std::unique_ptr<SqlConnection> connection);

  // The entities searchable (`process-instances` ...), as in the 8.8 paths.
  static const std::vector<std::string_view>& Entities();

  // POST /v2/<entity>/search with the request body. INVALID_ARGUMENT naming the field for an
  // unknown or malformed filter, sort or page field; NOT_FOUND for an unknown entity.
  absl::StatusOr<nlohmann::json> Search(std::string_view entity, const nlohmann::json& request);
  // GET /v2/<entity>/{key}: the item, or NOT_FOUND.
  absl::StatusOr<nlohmann::json> Get(std::string_view entity, int64_t key);

  // GET /v2/process-definitions/{key}/xml and /v2/decision-definitions/{key}/xml (the DRG's
  // DMN): the document, or NOT_FOUND.
  absl::StatusOr<std::string> ProcessDefinitionXml(int64_t key);
  absl::StatusOr<std::string> DecisionDefinitionXml(int64_t key);

  // POST /v2/process-definitions/{key}/statistics/element-instances (the request's `filter`
  // takes the process instance filter fields) and GET
  // /v2/process-instances/{key}/statistics/element-instances: per element, counts of element
  // instances active (without incident), with an open incident, completed and canceled
  // (terminated). `{items: [{elementId, active, canceled, incidents, completed}]}`.
  absl::StatusOr<nlohmann::json> ProcessDefinitionElementStatistics(int64_t process_definition_key,
                                                                    const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> ProcessInstanceElementStatistics(int64_t process_instance_key);

  // How far export has come per partition whose rows this store holds.
  struct PartitionProgress {
    int32_t partition_id = 0;
    int64_t position = 0;
    int64_t last_record_timestamp = 0;  // epoch ms of the last record applied
  };
  absl::StatusOr<std::vector<PartitionProgress>> Progress();

  // The most items a page may hold, and the count beyond which totalItems is capped.
  static constexpr int kMaxPageSize = 1'000;
  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxTotalItems = 10'000;

  SqlConnection& connection() { return *connection_; }

 private:
  explicit HistoryQuery(std::unique_ptr<SqlConnection> connection)
      : connection_(std::move(connection)) {}
  absl::StatusOr<std::string> ReadText(std::string_view sql, int64_t key, std::string_view what);
  absl::StatusOr<nlohmann::json> Statistics(std::string_view scope_condition,
                                            const std::string& process_filter,
                                            std::vector<nlohmann::json> params);

  std::unique_ptr<SqlConnection> connection_;
};

}  // namespace tern::exporter
