#pragma once

// The REST API's searches and reads of history (Camunda 8.8's POST /v2/<entity>/search, GET
// /v2/<entity>/{key}, definitions' XML, element statistics): routes that hand the 8.8 JSON to a
// SearchBackend (search_backend.h) and answer what it returns, with the store's lag in the
// `Tern-History-Lag` header. Without a backend (the standalone tern-gateway, a broker with
// history off) they answer 501 saying why. docs/rest-api.md lists them.

#include <vector>

#include "gateway/rest/rest_api.h"

namespace tern::gateway::rest {

std::vector<RestApi::Route> SearchRoutes();

}  // namespace tern::gateway::rest
