#pragma once

// Camunda 8.8's Orchestration Cluster REST API (/v2) over the gateway's one command path: each
// endpoint turns its JSON into the gateway_protocol request the gRPC RPC takes, calls
// GatewayService::Execute (or ActivateJobsCollected) and turns the answer, or the gRPC status,
// into JSON or an RFC 9457 problem. No command semantics live here. docs/rest-api.md lists the
// endpoints; the route table is in rest_api.cc (endpoints of 8.8 not built yet answer 501).
//
// Threading: Handle runs on the HTTP server's threads, answers arrive on partition threads;
// nothing blocks.

#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/gateway_service.h"
#include "gateway/rest/http_server.h"
#include "gateway/search_backend.h"

namespace tern::gateway::rest {

// The HTTP status and problem title of a gRPC status as Camunda's REST gateway answers it:
// 400 invalid argument, 404 not found, 409 invalid state or already exists, 429 backpressure,
// 503 unavailable, 504 deadline exceeded, 500 otherwise.
HttpResponse ProblemFor(const grpc::Status& status, std::string_view instance);

class RestApi {
 public:
  // `search` answers the searches and reads of history (null: they answer 501).
  explicit RestApi(GatewayService& service, SearchBackend* search = nullptr);
  RestApi(const RestApi&) = delete;
  RestApi& operator=(const RestApi&) = delete;

  // The server's HttpHandler.
  void Handle(HttpRequest request, Respond respond);

  // What a route needs: the path parameters ({key}) in order, the parsed JSON body (an empty
  // object when the request had none), the request (multipart bodies) and where to answer.
  struct Call {
    // The history store's reads (search_api.cc); null when this gateway has none.
    SearchBackend* search = nullptr;
    std::string path;
    std::vector<std::string> params;
    nlohmann::json body;
    HttpRequest request;
    Respond respond;
    // Who is calling (authenticated before any route runs); for authorization and tenants.
    auth::Principal caller = {};
  };
  enum class Body { kNone, kJson, kMultipart };
  struct Route {
    std::string_view method;
    std::string_view pattern;  // "/v2/jobs/{jobKey}/completion"
    Body body = Body::kJson;
    void (*handler)(GatewayService& service, Call call) = nullptr;
    // For an 8.8 endpoint not built yet (handler null): why, for the 501 problem.
    std::string_view not_built = {};
  };

 private:
  GatewayService& service_;
  SearchBackend* search_;
  std::vector<Route> routes_;
};

}  // namespace tern::gateway::rest
