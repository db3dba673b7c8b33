#include "gateway/rest/search_api.h"

#include <charconv>
#include <optional>
#include <utility>

#include "base/strings.h"
#include "gateway/search_backend.h"

namespace tern::gateway::rest {
namespace {

using json = nlohmann::json;
using Call = RestApi::Call;
using Kind = SearchRequest::Kind;

constexpr std::string_view kLagHeader = "Tern-History-Lag";

std::optional<int64_t> PathKey(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

HttpResponse Answer(const SearchAnswer& answer, Kind kind, const std::string& path) {
  HttpResponse response;
  if (!answer.status.ok()) {
    response = ProblemFor(grpc::Status(static_cast<grpc::StatusCode>(answer.status.code()),
                                       std::string(answer.status.message())),
                          path);
  } else if (kind == Kind::kXml) {
    response = HttpResponse{200, "text/xml", answer.text};
  } else {
    response = HttpResponse{200, "application/json",
                            answer.body.dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  if (!answer.lag.empty()) response.headers.emplace_back(std::string(kLagHeader), answer.lag);
  return response;
}

void Read(Call call, SearchRequest request) {
  if (call.search == nullptr) {
    return call.respond(Problem(
        501, "Not Implemented",
        StrCat("Searches and reads are answered from the history store, which this gateway does "
               "not reach: use the REST API of a tern-broker with history on (its embedded "
               "gateway); the standalone tern-gateway and brokers run with '--history none' do "
               "not serve ",
               call.path),
        call.path));
  }
  const Kind kind = request.kind;
  call.search->Read(std::move(request), [respond = call.respond, path = call.path,
                                         kind](SearchAnswer answer) {
    respond.Build([answer = std::move(answer), path, kind] { return Answer(answer, kind, path); });
  });
}

bool ReadKey(const Call& call, int64_t* key) {
  auto parsed = PathKey(call.params.empty() ? "" : call.params[0]);
  if (!parsed) {
    call.respond(Problem(400, "Bad Request",
                         StrCat("The key '", call.params.empty() ? "" : call.params[0],
                                "' in the path is not a number"),
                         call.path));
    return false;
  }
  *key = *parsed;
  return true;
}

// "/v2/process-instances/search" -> "process-instances"
std::string EntityOf(const std::string& path) {
  std::string_view rest = std::string_view(path).substr(4);  // after "/v2/"
  return std::string(rest.substr(0, rest.find('/')));
}

void Search(GatewayService&, Call call) {
  SearchRequest request{Kind::kSearch, EntityOf(call.path), 0, call.body};
  Read(std::move(call), std::move(request));
}

void Get(GatewayService&, Call call) {
  SearchRequest request{Kind::kGet, EntityOf(call.path)};
  if (!ReadKey(call, &request.key)) return;
  Read(std::move(call), std::move(request));
}

void GetXml(GatewayService&, Call call) {
  SearchRequest request{Kind::kXml, EntityOf(call.path)};
  if (!ReadKey(call, &request.key)) return;
  Read(std::move(call), std::move(request));
}

void DefinitionStatistics(GatewayService&, Call call) {
  SearchRequest request{Kind::kDefinitionElementStatistics, "process-definitions"};
  if (!ReadKey(call, &request.key)) return;
  request.body = call.body;
  Read(std::move(call), std::move(request));
}

void InstanceStatistics(GatewayService&, Call call) {
  SearchRequest request{Kind::kInstanceElementStatistics, "process-instances"};
  if (!ReadKey(call, &request.key)) return;
  Read(std::move(call), std::move(request));
}

// POST /v2/process-instances/{key}/incidents/search: the incident search with the instance's
// key as a filter (8.8 takes only sort and page here).
void InstanceIncidents(GatewayService&, Call call) {
  SearchRequest request{Kind::kSearch, "incidents"};
  if (!ReadKey(call, &request.key)) return;
  if (call.body.contains("filter")) {
    return call.respond(Problem(
        400, "Bad Request",
        "Unknown field 'filter': the incidents of a process instance take sort and page only",
        call.path));
  }
  request.body = call.body;
  request.body["filter"] = {{"processInstanceKey", std::to_string(request.key)}};
  Read(std::move(call), std::move(request));
}

}  // namespace

std::vector<RestApi::Route> SearchRoutes() {
  using Body = RestApi::Body;
  return {
      {"POST", "/v2/process-definitions/search", Body::kJson, Search},
      {"GET", "/v2/process-definitions/{processDefinitionKey}", Body::kNone, Get},
      {"GET", "/v2/process-definitions/{processDefinitionKey}/xml", Body::kNone, GetXml},
      {"POST", "/v2/process-definitions/{processDefinitionKey}/statistics/element-instances",
       Body::kJson, DefinitionStatistics},
      {"POST", "/v2/process-instances/search", Body::kJson, Search},
      {"GET", "/v2/process-instances/{processInstanceKey}", Body::kNone, Get},
      {"GET", "/v2/process-instances/{processInstanceKey}/statistics/element-instances",
       Body::kNone, InstanceStatistics},
      {"POST", "/v2/process-instances/{processInstanceKey}/incidents/search", Body::kJson,
       InstanceIncidents},
      {"POST", "/v2/element-instances/search", Body::kJson, Search},
      {"GET", "/v2/element-instances/{elementInstanceKey}", Body::kNone, Get},
      {"POST", "/v2/variables/search", Body::kJson, Search},
      {"GET", "/v2/variables/{variableKey}", Body::kNone, Get},
      {"POST", "/v2/incidents/search", Body::kJson, Search},
      {"GET", "/v2/incidents/{incidentKey}", Body::kNone, Get},
      {"POST", "/v2/jobs/search", Body::kJson, Search},
      {"POST", "/v2/decision-definitions/search", Body::kJson, Search},
      {"GET", "/v2/decision-definitions/{decisionDefinitionKey}", Body::kNone, Get},
      {"GET", "/v2/decision-definitions/{decisionDefinitionKey}/xml", Body::kNone, GetXml},
      {"POST", "/v2/decision-instances/search", Body::kJson, nullptr,
       "decision instances are not searchable in Tern yet (the history store keeps each "
       "evaluation; the per-decision view is not built)"},
  };
}

}  // namespace tern::gateway::rest
