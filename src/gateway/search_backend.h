#pragma once

// What the REST API's search and read endpoints (Camunda 8.8's POST /v2/<entity>/search, GET
// /v2/<entity>/{key}, a definition's XML, element statistics) call. The gateway knows nothing of
// where the answers come from: the broker implements this over its history store
// (src/broker/history_search.h, on the exporter's query layer) for the embedded gateway; the
// standalone tern-gateway has none, and the REST API answers those endpoints with a problem
// saying so. Requests and answers are 8.8's JSON, passed through.
//
// Threading: Read may be called from any thread and must not block; `done` runs once, on any
// thread (the implementation's own).

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace tern::gateway {

struct SearchRequest {
  enum class Kind {
    kSearch,                       // POST /v2/<entity>/search, body = the search request
    kGet,                          // GET /v2/<entity>/{key}
    kXml,                          // GET /v2/<entity>/{key}/xml (process and decision definitions)
    kDefinitionElementStatistics,  // POST
                                   // /v2/process-definitions/{key}/statistics/element-instances
    kInstanceElementStatistics,    // GET /v2/process-instances/{key}/statistics/element-instances
  };
  Kind kind = Kind::kSearch;
  std::string entity;  // the path segment: process-instances, variables, ...
  int64_t key = 0;
  nlohmann::json body = nlohmann::json::object();
};

struct SearchAnswer {
  // INVALID_ARGUMENT (a bad filter, sort or page field, named), NOT_FOUND, UNAVAILABLE or
  // RESOURCE_EXHAUSTED (the store is busy), INTERNAL.
  absl::Status status;
  nlohmann::json body;  // the answer, for every kind but kXml
  std::string text;     // kXml: the document
  // How far the store is behind the log, for the Tern-History-Lag header: "records=N,
  // seconds=S" summed (records) and maximal (seconds) over the partitions this store follows.
  // Empty when unknown.
  std::string lag;
};

class SearchBackend {
 public:
  virtual ~SearchBackend() = default;
  virtual void Read(SearchRequest request, std::function<void(SearchAnswer)> done) = 0;
};

}  // namespace tern::gateway
