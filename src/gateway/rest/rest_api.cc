#include "gateway/rest/rest_api.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base/clock.h"
#include "base/strings.h"
#include "gateway/long_polling.h"
#include "gateway/rest/multipart.h"
#include "gateway/rest/search_api.h"
#include "gateway/rest/text.h"

namespace tern::gateway::rest {
namespace {

namespace gp = gateway_protocol;
using json = nlohmann::json;
using Call = RestApi::Call;

// --- Answers -------------------------------------------------------------------------------------

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse Ok(const json& body) { return HttpResponse{200, "application/json", Dump(body)}; }
HttpResponse NoContent() { return HttpResponse{204, "", ""}; }

HttpResponse BadRequest(std::string_view detail, std::string_view instance) {
  return Problem(400, "Bad Request", detail, instance);
}

std::string KeyString(int64_t key) { return std::to_string(key); }

// A JSON document the engine produced (variables, custom headers); an empty object if there is
// none.
json ParseDocument(const std::string& text) {
  if (text.empty()) return json::object();
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? json::object() : value;
}

// --- Reading requests ----------------------------------------------------------------------------

// Reads fields of a JSON object; the first problem is kept (as a 400 detail) and later reads
// return defaults, so a handler reads everything and checks ok() once.
class Fields {
 public:
  Fields(const json& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool Has(std::string_view key) const {
    auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
  }

  std::string String(std::string_view key, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return "";
    if (!value->is_string()) return Fail(key, "a string"), "";
    return value->get<std::string>();
  }

  int64_t Int64(std::string_view key, int64_t fallback, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return fallback;
    if (value->is_number_integer()) {
      if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t{INT64_MAX}) {
        return Fail(key, "a 64-bit integer"), fallback;
      }
      return value->get<int64_t>();
    }
    return Fail(key, "an integer"), fallback;
  }

  int32_t Int32(std::string_view key, int32_t fallback, bool required = false) {
    int64_t value = Int64(key, fallback, required);
    if (value < INT32_MIN || value > INT32_MAX) return Fail(key, "a 32-bit integer"), fallback;
    return static_cast<int32_t>(value);
  }

  bool Bool(std::string_view key, bool fallback) {
    const json* value = Find(key, false);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) return Fail(key, "a boolean"), fallback;
    return value->get<bool>();
  }

  // A key: a string of digits as 8.8 sends them, or a JSON number. 0 when absent.
  int64_t Key(std::string_view key, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return 0;
    if (value->is_number_integer() && !value->is_number_unsigned()) return value->get<int64_t>();
    if (value->is_number_unsigned() && value->get<uint64_t>() <= uint64_t{INT64_MAX}) {
      return static_cast<int64_t>(value->get<uint64_t>());
    }
    if (value->is_string()) {
      const std::string& text = value->get_ref<const std::string&>();
      int64_t parsed = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return parsed;
    }
    return Fail(key, "a key (a string of digits)"), 0;
  }

  // The operation reference (uint64 in the gRPC contract).
  std::optional<uint64_t> OperationReference() {
    const json* value = Find("operationReference", false);
    if (value == nullptr) return std::nullopt;
    if (value->is_number_unsigned()) return value->get<uint64_t>();
    if (value->is_number_integer() && value->get<int64_t>() >= 0) {
      return static_cast<uint64_t>(value->get<int64_t>());
    }
    if (value->is_string()) {
      const std::string& text = value->get_ref<const std::string&>();
      uint64_t parsed = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return parsed;
    }
    return Fail("operationReference", "a positive integer"), std::nullopt;
  }

  // A variables document: a JSON object, passed on as its text ("" when absent or null). The
  // gateway's own checks (size, depth) follow in Execute.
  std::string Variables(std::string_view key, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return "";
    if (!value->is_object()) return Fail(key, "a JSON object"), "";
    return Dump(*value);
  }

  std::vector<std::string> Strings(std::string_view key) {
    std::vector<std::string> out;
    const json* value = Find(key, false);
    if (value == nullptr) return out;
    if (!value->is_array()) return Fail(key, "an array of strings"), out;
    for (const auto& item : *value) {
      if (!item.is_string()) return Fail(key, "an array of strings"), out;
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // The objects of an array field, each read with its own Fields (whose errors must be merged
  // with Take).
  std::vector<const json*> Objects(std::string_view key, bool required = false) {
    std::vector<const json*> out;
    const json* value = Find(key, required);
    if (value == nullptr) return out;
    if (!value->is_array()) return Fail(key, "an array of objects"), out;
    for (const auto& item : *value) {
      if (!item.is_object()) return Fail(key, "an array of objects"), out;
      out.push_back(&item);
    }
    return out;
  }

  const json* Object(std::string_view key, bool required = false) {
    const json* value = Find(key, required);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) return Fail(key, "an object"), nullptr;
    return value;
  }

  std::string Path(std::string_view key) const { return StrCat(prefix_, key); }

  // Keeps the first error of a nested reader.
  void Take(const Fields& nested) {
    if (ok() && !nested.ok()) error_ = nested.error();
  }

 private:
  const json* Find(std::string_view key, bool required) {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (required && ok()) error_ = StrCat("No ", Path(key), " provided.");
      return nullptr;
    }
    return &*it;
  }
  void Fail(std::string_view key, std::string_view what) {
    if (ok()) error_ = StrCat("Expected '", Path(key), "' to be ", what, ".");
  }

  const json& object_;
  std::string prefix_;
  std::string error_;
};

// A key in the path: digits only.
std::optional<int64_t> PathKey(const std::string& text) {
  int64_t key = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), key);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return key;
}

// Runs one command on the common path and answers with `ok(response)` or the problem.
template <typename Request, typename Response, typename OkFn>
void Run(GatewayService& service, const Call& call, const Request& request, OkFn ok) {
  service.Execute(
      request, Reply<Response>([respond = call.respond, instance = call.path, ok = std::move(ok)](
                                   grpc::Status status, Response response) {
        if (!status.ok()) return respond(ProblemFor(status, instance));
        // The JSON is made on the HTTP server's threads, not on the partition thread here.
        respond.Build([ok, response = std::move(response)] { return ok(response); });
      }));
}

template <typename Request, typename Response>
void RunNoContent(GatewayService& service, const Call& call, const Request& request) {
  Run<Request, Response>(service, call, request, [](const Response&) { return NoContent(); });
}

// Reads the path key `index` into `out`, or answers 400.
bool ReadPathKey(const Call& call, size_t index, int64_t* out) {
  auto key = PathKey(call.params[index]);
  if (!key) {
    call.respond(BadRequest(
        StrCat("The key '", call.params[index], "' in the path is not a number"), call.path));
    return false;
  }
  *out = *key;
  return true;
}

bool Check(const Fields& fields, const Call& call) {
  if (fields.ok()) return true;
  call.respond(BadRequest(fields.error(), call.path));
  return false;
}

// --- Cluster -------------------------------------------------------------------------------------

std::string_view RoleName(gp::Partition::PartitionBrokerRole role) {
  switch (role) {
    case gp::Partition::LEADER:
      return "leader";
    case gp::Partition::FOLLOWER:
      return "follower";
    default:
      return "inactive";
  }
}

std::string_view HealthName(gp::Partition::PartitionBrokerHealth health) {
  switch (health) {
    case gp::Partition::HEALTHY:
      return "healthy";
    case gp::Partition::UNHEALTHY:
      return "unhealthy";
    default:
      return "dead";
  }
}

void GetTopology(GatewayService& service, Call call) {
  Run<gp::TopologyRequest, gp::TopologyResponse>(
      service, call, gp::TopologyRequest(), [](const gp::TopologyResponse& topology) {
        json brokers = json::array();
        for (const auto& broker : topology.brokers()) {
          json partitions = json::array();
          for (const auto& partition : broker.partitions()) {
            partitions.push_back({{"partitionId", partition.partitionid()},
                                  {"role", RoleName(partition.role())},
                                  {"health", HealthName(partition.health())}});
          }
          brokers.push_back({{"nodeId", broker.nodeid()},
                             {"host", broker.host()},
                             {"port", broker.port()},
                             {"partitions", std::move(partitions)},
                             {"version", broker.version()}});
        }
        return Ok({{"brokers", std::move(brokers)},
                   {"clusterSize", topology.clustersize()},
                   {"partitionsCount", topology.partitionscount()},
                   {"replicationFactor", topology.replicationfactor()},
                   {"gatewayVersion", topology.gatewayversion()},
                   // Tern has no dynamic cluster changes.
                   {"lastCompletedChangeId", "-1"}});
      });
}

// Tern has no license; 8.8 answers this shape without one.
void GetLicense(GatewayService&, Call call) {
  call.respond(Ok({{"validLicense", false},
                   {"licenseType", "unknown"},
                   {"isCommercial", false},
                   {"expiresAt", nullptr}}));
}

// --- Deployments and resources -------------------------------------------------------------------

void CreateDeployment(GatewayService& service, Call call) {
  auto boundary = MultipartBoundary(call.request.content_type);
  if (!boundary.ok()) {
    return call.respond(
        Problem(415, "Unsupported Media Type", ToStd(boundary.status().message()), call.path));
  }
  auto parts = ParseMultipart(call.request.body, *boundary);
  if (!parts.ok()) return call.respond(BadRequest(ToStd(parts.status().message()), call.path));
  gp::DeployResourceRequest request;
  for (auto& part : *parts) {
    if (part.name == "resources") {
      auto* resource = request.add_resources();
      resource->set_name(part.filename.empty() ? part.name : part.filename);
      resource->set_content(std::move(part.content));
    } else if (part.name == "tenantId") {
      request.set_tenantid(part.content);
    }
  }
  if (request.resources().empty()) {
    return call.respond(BadRequest("No resources provided.", call.path));
  }
  Run<gp::DeployResourceRequest, gp::DeployResourceResponse>(
      service, call, request, [](const gp::DeployResourceResponse& answer) {
        json deployments = json::array();
        for (const auto& deployment : answer.deployments()) {
          if (deployment.has_process()) {
            const auto& p = deployment.process();
            deployments.push_back(
                {{"processDefinition",
                  {{"processDefinitionId", p.bpmnprocessid()},
                   {"processDefinitionVersion", p.version()},
                   {"resourceName", p.resourcename()},
                   {"tenantId", p.tenantid()},
                   {"processDefinitionKey", KeyString(p.processdefinitionkey())}}}});
          } else if (deployment.has_decision()) {
            const auto& d = deployment.decision();
            deployments.push_back(
                {{"decisionDefinition",
                  {{"decisionDefinitionId", d.dmndecisionid()},
                   {"version", d.version()},
                   {"name", d.dmndecisionname()},
                   {"tenantId", d.tenantid()},
                   {"decisionRequirementsId", d.dmndecisionrequirementsid()},
                   {"decisionDefinitionKey", KeyString(d.decisionkey())},
                   {"decisionRequirementsKey", KeyString(d.decisionrequirementskey())}}}});
          } else if (deployment.has_decisionrequirements()) {
            const auto& r = deployment.decisionrequirements();
            deployments.push_back(
                {{"decisionRequirements",
                  {{"decisionRequirementsId", r.dmndecisionrequirementsid()},
                   {"version", r.version()},
                   {"decisionRequirementsName", r.dmndecisionrequirementsname()},
                   {"tenantId", r.tenantid()},
                   {"resourceName", r.resourcename()},
                   {"decisionRequirementsKey", KeyString(r.decisionrequirementskey())}}}});
          } else if (deployment.has_form()) {
            const auto& f = deployment.form();
            deployments.push_back({{"form",
                                    {{"formId", f.formid()},
                                     {"version", f.version()},
                                     {"resourceName", f.resourcename()},
                                     {"tenantId", f.tenantid()},
                                     {"formKey", KeyString(f.formkey())}}}});
          }
        }
        return Ok({{"deploymentKey", KeyString(answer.key())},
                   {"tenantId",
                    answer.tenantid().empty() ? std::string(kDefaultTenant) : answer.tenantid()},
                   {"deployments", std::move(deployments)}});
      });
}

void DeleteResource(GatewayService& service, Call call) {
  gp::DeleteResourceRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_resourcekey(key);
  Fields fields(call.body);
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  if (!Check(fields, call)) return;
  // 8.8 answers 200 with no body.
  Run<gp::DeleteResourceRequest, gp::DeleteResourceResponse>(service, call, request,
                                                             [](const gp::DeleteResourceResponse&) {
                                                               return HttpResponse{200, "", ""};
                                                             });
}

// --- Process instances ---------------------------------------------------------------------------

void CreateProcessInstance(GatewayService& service, Call call) {
  Fields fields(call.body);
  gp::CreateProcessInstanceRequest request;
  request.set_processdefinitionkey(fields.Key("processDefinitionKey"));
  request.set_bpmnprocessid(fields.String("processDefinitionId"));
  // -1: the latest version, as the gRPC contract has it.
  request.set_version(fields.Int32("processDefinitionVersion", -1));
  request.set_variables(fields.Variables("variables"));
  request.set_tenantid(fields.String("tenantId"));
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  for (const json* item : fields.Objects("startInstructions")) {
    Fields instruction(*item, "startInstructions[].");
    request.add_startinstructions()->set_elementid(instruction.String("elementId", true));
    fields.Take(instruction);
  }
  bool await_completion = fields.Bool("awaitCompletion", false);
  std::vector<std::string> fetch_variables = fields.Strings("fetchVariables");
  int64_t request_timeout = fields.Int64("requestTimeout", 0);
  if (fields.ok() && request.processdefinitionkey() == 0 && request.bpmnprocessid().empty()) {
    return call.respond(BadRequest(
        "At least one of [processDefinitionId, processDefinitionKey] is required.", call.path));
  }
  if (!Check(fields, call)) return;
  if (!await_completion) {
    return Run<gp::CreateProcessInstanceRequest, gp::CreateProcessInstanceResponse>(
        service, call, request, [](const gp::CreateProcessInstanceResponse& created) {
          return Ok({{"processDefinitionId", created.bpmnprocessid()},
                     {"processDefinitionVersion", created.version()},
                     {"processDefinitionKey", KeyString(created.processdefinitionkey())},
                     {"processInstanceKey", KeyString(created.processinstancekey())},
                     {"tenantId", created.tenantid()},
                     {"variables", json::object()}});
        });
  }
  gp::CreateProcessInstanceWithResultRequest with_result;
  *with_result.mutable_request() = std::move(request);
  with_result.set_requesttimeout(request_timeout);
  for (auto& name : fetch_variables) with_result.add_fetchvariables(std::move(name));
  Run<gp::CreateProcessInstanceWithResultRequest, gp::CreateProcessInstanceWithResultResponse>(
      service, call, with_result, [](const gp::CreateProcessInstanceWithResultResponse& result) {
        return Ok({{"processDefinitionId", result.bpmnprocessid()},
                   {"processDefinitionVersion", result.version()},
                   {"processDefinitionKey", KeyString(result.processdefinitionkey())},
                   {"processInstanceKey", KeyString(result.processinstancekey())},
                   {"tenantId", result.tenantid()},
                   {"variables", ParseDocument(result.variables())}});
      });
}

void CancelProcessInstance(GatewayService& service, Call call) {
  gp::CancelProcessInstanceRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_processinstancekey(key);
  Fields fields(call.body);
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  if (!Check(fields, call)) return;
  RunNoContent<gp::CancelProcessInstanceRequest, gp::CancelProcessInstanceResponse>(service, call,
                                                                                    request);
}

void ModifyProcessInstance(GatewayService& service, Call call) {
  gp::ModifyProcessInstanceRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_processinstancekey(key);
  Fields fields(call.body);
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  for (const json* item : fields.Objects("activateInstructions")) {
    Fields activate(*item, "activateInstructions[].");
    auto* instruction = request.add_activateinstructions();
    instruction->set_elementid(activate.String("elementId", true));
    instruction->set_ancestorelementinstancekey(activate.Key("ancestorElementInstanceKey"));
    for (const json* variable_item : activate.Objects("variableInstructions")) {
      Fields variable(*variable_item, "activateInstructions[].variableInstructions[].");
      auto* variables = instruction->add_variableinstructions();
      variables->set_variables(variable.Variables("variables", true));
      variables->set_scopeid(variable.String("scopeId"));
      activate.Take(variable);
    }
    fields.Take(activate);
  }
  for (const json* item : fields.Objects("terminateInstructions")) {
    Fields terminate(*item, "terminateInstructions[].");
    request.add_terminateinstructions()->set_elementinstancekey(
        terminate.Key("elementInstanceKey", true));
    fields.Take(terminate);
  }
  if (!Check(fields, call)) return;
  RunNoContent<gp::ModifyProcessInstanceRequest, gp::ModifyProcessInstanceResponse>(service, call,
                                                                                    request);
}

void MigrateProcessInstance(GatewayService& service, Call call) {
  gp::MigrateProcessInstanceRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_processinstancekey(key);
  Fields fields(call.body);
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  auto* plan = request.mutable_migrationplan();
  plan->set_targetprocessdefinitionkey(fields.Key("targetProcessDefinitionKey", true));
  for (const json* item : fields.Objects("mappingInstructions", true)) {
    Fields mapping(*item, "mappingInstructions[].");
    auto* instruction = plan->add_mappinginstructions();
    instruction->set_sourceelementid(mapping.String("sourceElementId", true));
    instruction->set_targetelementid(mapping.String("targetElementId", true));
    fields.Take(mapping);
  }
  if (!Check(fields, call)) return;
  RunNoContent<gp::MigrateProcessInstanceRequest, gp::MigrateProcessInstanceResponse>(service, call,
                                                                                      request);
}

// --- Jobs ----------------------------------------------------------------------------------------

void ActivateJobs(GatewayService& service, Call call) {
  Fields fields(call.body);
  gp::ActivateJobsRequest request;
  request.set_type(fields.String("type", true));
  request.set_worker(fields.String("worker"));
  request.set_timeout(fields.Int64("timeout", 0, true));
  request.set_maxjobstoactivate(fields.Int32("maxJobsToActivate", 0, true));
  for (auto& name : fields.Strings("fetchVariable")) request.add_fetchvariable(std::move(name));
  request.set_requesttimeout(fields.Int64("requestTimeout", 0));
  for (auto& tenant : fields.Strings("tenantIds")) request.add_tenantids(std::move(tenant));
  if (!Check(fields, call)) return;
  ActivateJobsCollected(
      service, request,
      [respond = call.respond, instance = call.path](grpc::Status status,
                                                     gp::ActivateJobsResponse response) {
        if (!status.ok()) return respond(ProblemFor(status, instance));
        respond.Build([response = std::move(response)] {
          json jobs = json::array();
          for (const auto& job : response.jobs()) {
            jobs.push_back({{"type", job.type()},
                            {"processDefinitionId", job.bpmnprocessid()},
                            {"processDefinitionVersion", job.processdefinitionversion()},
                            {"elementId", job.elementid()},
                            {"customHeaders", ParseDocument(job.customheaders())},
                            {"worker", job.worker()},
                            {"retries", job.retries()},
                            {"deadline", job.deadline()},
                            {"variables", ParseDocument(job.variables())},
                            {"tenantId", job.tenantid()},
                            {"jobKey", KeyString(job.key())},
                            {"processInstanceKey", KeyString(job.processinstancekey())},
                            {"processDefinitionKey", KeyString(job.processdefinitionkey())},
                            {"elementInstanceKey", KeyString(job.elementinstancekey())},
                            // Tern's jobs are service-task-like jobs; listeners come later.
                            {"kind", "BPMN_ELEMENT"},
                            {"listenerEventType", "UNSPECIFIED"}});
          }
          return Ok({{"jobs", std::move(jobs)}});
        });
      });
}

void CompleteJob(GatewayService& service, Call call) {
  gp::CompleteJobRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_jobkey(key);
  Fields fields(call.body);
  request.set_variables(fields.Variables("variables"));
  if (fields.Has("result")) {
    // Job results (user task corrections, ad-hoc activations) need the user-task work.
    return call.respond(Problem(501, "Not Implemented",
                                "Job completion with a 'result' is not built yet", call.path));
  }
  if (!Check(fields, call)) return;
  RunNoContent<gp::CompleteJobRequest, gp::CompleteJobResponse>(service, call, request);
}

void FailJob(GatewayService& service, Call call) {
  gp::FailJobRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_jobkey(key);
  Fields fields(call.body);
  request.set_retries(fields.Int32("retries", 0));
  request.set_errormessage(fields.String("errorMessage"));
  request.set_retrybackoff(fields.Int64("retryBackOff", 0));
  request.set_variables(fields.Variables("variables"));
  if (!Check(fields, call)) return;
  RunNoContent<gp::FailJobRequest, gp::FailJobResponse>(service, call, request);
}

void ThrowJobError(GatewayService& service, Call call) {
  gp::ThrowErrorRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_jobkey(key);
  Fields fields(call.body);
  request.set_errorcode(fields.String("errorCode", true));
  request.set_errormessage(fields.String("errorMessage"));
  request.set_variables(fields.Variables("variables"));
  if (!Check(fields, call)) return;
  RunNoContent<gp::ThrowErrorRequest, gp::ThrowErrorResponse>(service, call, request);
}

// PATCH /jobs/{key}: the changeset's retries, then its timeout, each its own command (as Zeebe
// 8.8's gateway does: a job update is the two commands).
void UpdateJob(GatewayService& service, Call call) {
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  Fields fields(call.body);
  std::optional<uint64_t> reference = fields.OperationReference();
  const json* changeset = fields.Object("changeset", true);
  std::optional<int32_t> retries;
  std::optional<int64_t> timeout;
  if (changeset != nullptr) {
    Fields changes(*changeset, "changeset.");
    if (changes.Has("retries")) retries = changes.Int32("retries", 0);
    if (changes.Has("timeout")) timeout = changes.Int64("timeout", 0);
    fields.Take(changes);
    if (fields.ok() && !retries && !timeout) {
      return call.respond(BadRequest(
          "At least one of [retries, timeout] is required in the changeset.", call.path));
    }
  }
  if (!Check(fields, call)) return;
  auto update_timeout = [&service, call, key, reference, timeout]() {
    if (!timeout) return call.respond(NoContent());
    gp::UpdateJobTimeoutRequest request;
    request.set_jobkey(key);
    request.set_timeout(*timeout);
    if (reference) request.set_operationreference(*reference);
    RunNoContent<gp::UpdateJobTimeoutRequest, gp::UpdateJobTimeoutResponse>(service, call, request);
  };
  if (!retries) return update_timeout();
  gp::UpdateJobRetriesRequest request;
  request.set_jobkey(key);
  request.set_retries(*retries);
  if (reference) request.set_operationreference(*reference);
  service.Execute(request, Reply<gp::UpdateJobRetriesResponse>(
                               [respond = call.respond, instance = call.path, update_timeout](
                                   grpc::Status status, gp::UpdateJobRetriesResponse) {
                                 if (!status.ok()) return respond(ProblemFor(status, instance));
                                 update_timeout();
                               }));
}

// --- Incidents, messages, signals, decisions, variables
// -------------------------------------------

void ResolveIncident(GatewayService& service, Call call) {
  gp::ResolveIncidentRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_incidentkey(key);
  Fields fields(call.body);
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  if (!Check(fields, call)) return;
  RunNoContent<gp::ResolveIncidentRequest, gp::ResolveIncidentResponse>(service, call, request);
}

void PublishMessage(GatewayService& service, Call call) {
  Fields fields(call.body);
  gp::PublishMessageRequest request;
  request.set_name(fields.String("name", true));
  request.set_correlationkey(fields.String("correlationKey"));
  request.set_timetolive(fields.Int64("timeToLive", 0));
  request.set_messageid(fields.String("messageId"));
  request.set_variables(fields.Variables("variables"));
  request.set_tenantid(fields.String("tenantId"));
  if (!Check(fields, call)) return;
  Run<gp::PublishMessageRequest, gp::PublishMessageResponse>(
      service, call, request, [](const gp::PublishMessageResponse& published) {
        return Ok({{"tenantId", published.tenantid()}, {"messageKey", KeyString(published.key())}});
      });
}

void BroadcastSignal(GatewayService& service, Call call) {
  Fields fields(call.body);
  gp::BroadcastSignalRequest request;
  request.set_signalname(fields.String("signalName", true));
  request.set_variables(fields.Variables("variables"));
  request.set_tenantid(fields.String("tenantId"));
  if (!Check(fields, call)) return;
  Run<gp::BroadcastSignalRequest, gp::BroadcastSignalResponse>(
      service, call, request, [](const gp::BroadcastSignalResponse& broadcast) {
        return Ok({{"tenantId", broadcast.tenantid()}, {"signalKey", KeyString(broadcast.key())}});
      });
}

void EvaluateDecision(GatewayService& service, Call call) {
  Fields fields(call.body);
  gp::EvaluateDecisionRequest request;
  request.set_decisionkey(fields.Key("decisionDefinitionKey"));
  request.set_decisionid(fields.String("decisionDefinitionId"));
  request.set_variables(fields.Variables("variables"));
  request.set_tenantid(fields.String("tenantId"));
  if (fields.ok() && request.decisionkey() == 0 && request.decisionid().empty()) {
    return call.respond(BadRequest(
        "At least one of [decisionDefinitionId, decisionDefinitionKey] is required.", call.path));
  }
  if (!Check(fields, call)) return;
  Run<gp::EvaluateDecisionRequest, gp::EvaluateDecisionResponse>(
      service, call, request, [](const gp::EvaluateDecisionResponse& result) {
        json evaluated = json::array();
        for (const auto& decision : result.evaluateddecisions()) {
          json rules = json::array();
          for (const auto& rule : decision.matchedrules()) {
            json outputs = json::array();
            for (const auto& output : rule.evaluatedoutputs()) {
              outputs.push_back({{"outputId", output.outputid()},
                                 {"outputName", output.outputname()},
                                 {"outputValue", output.outputvalue()}});
            }
            rules.push_back({{"ruleId", rule.ruleid()},
                             {"ruleIndex", rule.ruleindex()},
                             {"evaluatedOutputs", std::move(outputs)}});
          }
          json inputs = json::array();
          for (const auto& input : decision.evaluatedinputs()) {
            inputs.push_back({{"inputId", input.inputid()},
                              {"inputName", input.inputname()},
                              {"inputValue", input.inputvalue()}});
          }
          evaluated.push_back({{"decisionDefinitionId", decision.decisionid()},
                               {"decisionDefinitionName", decision.decisionname()},
                               {"decisionDefinitionVersion", decision.decisionversion()},
                               {"decisionDefinitionType", decision.decisiontype()},
                               {"output", decision.decisionoutput()},
                               {"tenantId", decision.tenantid()},
                               {"matchedRules", std::move(rules)},
                               {"evaluatedInputs", std::move(inputs)},
                               {"decisionDefinitionKey", KeyString(decision.decisionkey())}});
        }
        return Ok({{"decisionDefinitionId", result.decisionid()},
                   {"decisionDefinitionName", result.decisionname()},
                   {"decisionDefinitionVersion", result.decisionversion()},
                   {"decisionRequirementsId", result.decisionrequirementsid()},
                   {"output", result.decisionoutput()},
                   {"failedDecisionDefinitionId", result.faileddecisionid()},
                   {"failureMessage", result.failuremessage()},
                   {"tenantId", result.tenantid()},
                   {"decisionDefinitionKey", KeyString(result.decisionkey())},
                   {"decisionRequirementsKey", KeyString(result.decisionrequirementskey())},
                   {"decisionInstanceKey", KeyString(result.decisioninstancekey())},
                   {"decisionEvaluationKey", KeyString(result.decisioninstancekey())},
                   {"evaluatedDecisions", std::move(evaluated)}});
      });
}

void SetElementInstanceVariables(GatewayService& service, Call call) {
  gp::SetVariablesRequest request;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  request.set_elementinstancekey(key);
  Fields fields(call.body);
  request.set_variables(fields.Variables("variables", true));
  request.set_local(fields.Bool("local", false));
  if (auto reference = fields.OperationReference()) request.set_operationreference(*reference);
  if (!Check(fields, call)) return;
  RunNoContent<gp::SetVariablesRequest, gp::SetVariablesResponse>(service, call, request);
}

// --- Message correlation and native user tasks (8.8) ---------------------------------------------

void CorrelateMessage(GatewayService& service, Call call) {
  Fields fields(call.body);
  record::MessageCorrelationRecord request;
  request.set_name(fields.String("name", true));
  request.set_correlation_key(fields.String("correlationKey"));
  request.set_variables(fields.Variables("variables"));
  request.set_tenant_id(fields.String("tenantId"));
  if (!Check(fields, call)) return;
  Run<record::MessageCorrelationRecord, record::MessageCorrelationRecord>(
      service, call, request, [](const record::MessageCorrelationRecord& correlated) {
        return Ok({{"tenantId", correlated.tenant_id()},
                   {"messageKey", KeyString(correlated.message_key())},
                   {"processInstanceKey", KeyString(correlated.process_instance_key())}});
      });
}

// Zeebe's UserTaskIntent command numbers (engine/intent.h).
constexpr int32_t kUserTaskComplete = 2;
constexpr int32_t kUserTaskAssign = 7;
constexpr int32_t kUserTaskClaim = 10;
constexpr int32_t kUserTaskUpdate = 11;

void RunUserTaskCommand(GatewayService& service, const Call& call,
                        GatewayService::UserTaskCommand command) {
  RunNoContent<GatewayService::UserTaskCommand, record::UserTaskRecord>(service, call, command);
}

void AssignUserTask(GatewayService& service, Call call) {
  GatewayService::UserTaskCommand command;
  if (!ReadPathKey(call, 0, &command.user_task_key)) return;
  Fields fields(call.body);
  std::string assignee = fields.String("assignee", true);
  // allowOverride false: refuse a task assigned to someone else, which is Zeebe's CLAIM.
  const bool allow_override = fields.Bool("allowOverride", true);
  std::string action = fields.String("action");
  if (!Check(fields, call)) return;
  if (assignee.empty()) return call.respond(BadRequest("No assignee provided.", call.path));
  command.intent = allow_override ? kUserTaskAssign : kUserTaskClaim;
  command.intent_name = allow_override ? "ASSIGN" : "CLAIM";
  command.task.set_assignee(std::move(assignee));
  command.task.set_action(action.empty() ? (allow_override ? "assign" : "claim") : action);
  RunUserTaskCommand(service, call, std::move(command));
}

void UnassignUserTask(GatewayService& service, Call call) {
  GatewayService::UserTaskCommand command;
  if (!ReadPathKey(call, 0, &command.user_task_key)) return;
  // ASSIGN with an empty assignee unassigns (Zeebe does the same).
  command.intent = kUserTaskAssign;
  command.intent_name = "ASSIGN";
  command.task.set_action("unassign");
  RunUserTaskCommand(service, call, std::move(command));
}

void UpdateUserTask(GatewayService& service, Call call) {
  GatewayService::UserTaskCommand command;
  if (!ReadPathKey(call, 0, &command.user_task_key)) return;
  Fields fields(call.body);
  std::string action = fields.String("action");
  auto& task = command.task;
  if (const json* changeset = fields.Object("changeset")) {
    // A null or absent attribute keeps its value; "" or [] resets it.
    Fields changes(*changeset, "changeset.");
    if (changes.Has("dueDate")) {
      task.set_due_date(changes.String("dueDate"));
      task.add_changed_attributes("dueDate");
    }
    if (changes.Has("followUpDate")) {
      task.set_follow_up_date(changes.String("followUpDate"));
      task.add_changed_attributes("followUpDate");
    }
    if (changes.Has("candidateUsers")) {
      for (auto& user : changes.Strings("candidateUsers")) task.add_candidate_users(user);
      task.add_changed_attributes("candidateUsersList");
    }
    if (changes.Has("candidateGroups")) {
      for (auto& group : changes.Strings("candidateGroups")) task.add_candidate_groups(group);
      task.add_changed_attributes("candidateGroupsList");
    }
    if (changes.Has("priority")) {
      const int32_t priority = changes.Int32("priority", 50);
      if (changes.ok() && (priority < 0 || priority > 100)) {
        return call.respond(BadRequest("The value for priority is '" + std::to_string(priority) +
                                           "' but must be within the [0,100] range.",
                                       call.path));
      }
      task.set_priority(priority);
      task.add_changed_attributes("priority");
    }
    fields.Take(changes);
  }
  if (!Check(fields, call)) return;
  if (task.changed_attributes().empty() && action.empty()) {
    return call.respond(
        BadRequest("No update data provided. Provide at least an \"action\" or a non-null value "
                   "for a supported attribute in the \"changeset\".",
                   call.path));
  }
  command.intent = kUserTaskUpdate;
  command.intent_name = "UPDATE";
  task.set_action(action.empty() ? "update" : action);
  RunUserTaskCommand(service, call, std::move(command));
}

void CompleteUserTask(GatewayService& service, Call call) {
  GatewayService::UserTaskCommand command;
  if (!ReadPathKey(call, 0, &command.user_task_key)) return;
  Fields fields(call.body);
  command.task.set_variables(fields.Variables("variables"));
  std::string action = fields.String("action");
  if (!Check(fields, call)) return;
  command.intent = kUserTaskComplete;
  command.intent_name = "COMPLETE";
  command.task.set_action(action.empty() ? "complete" : action);
  RunUserTaskCommand(service, call, std::move(command));
}

json UserTaskJson(const record::UserTaskView& view) {
  const record::UserTaskRecord& task = view.record();
  json out = {{"state", view.state()},
              {"elementId", task.element_id()},
              {"candidateGroups", task.candidate_groups()},
              {"candidateUsers", task.candidate_users()},
              {"processDefinitionId", task.bpmn_process_id()},
              {"tenantId", task.tenant_id()},
              {"processDefinitionVersion", task.process_definition_version()},
              {"customHeaders", ParseDocument(task.custom_headers())},
              {"priority", task.priority()},
              {"userTaskKey", KeyString(task.user_task_key())},
              {"elementInstanceKey", KeyString(task.element_instance_key())},
              {"processDefinitionKey", KeyString(task.process_definition_key())},
              {"processInstanceKey", KeyString(task.process_instance_key())}};
  // Absent rather than empty, as 8.8 answers.
  if (!task.assignee().empty()) out["assignee"] = task.assignee();
  if (!task.due_date().empty()) out["dueDate"] = task.due_date();
  if (!task.follow_up_date().empty()) out["followUpDate"] = task.follow_up_date();
  if (!task.external_form_reference().empty()) {
    out["externalFormReference"] = task.external_form_reference();
  }
  if (task.form_key() != 0) out["formKey"] = KeyString(task.form_key());
  if (task.creation_timestamp() > 0)
    out["creationDate"] = base::FormatIsoMillisUtc(task.creation_timestamp());
  return out;
}

// Reads the user task of the path's key and hands it (with its form when asked) to `found`;
// answers 404 itself when there is no such task.
using FoundUserTask = std::function<void(const Respond& respond, record::UserTaskQueryResult)>;
void ReadUserTask(GatewayService& service, Call call, bool with_form, FoundUserTask found) {
  record::UserTaskQuery query;
  int64_t key = 0;
  if (!ReadPathKey(call, 0, &key)) return;
  query.set_user_task_key(key);
  query.set_limit(1);
  query.set_with_form(with_form);
  service.Execute(
      query,
      Reply<record::UserTaskQueryResult>(
          [respond = call.respond, instance = call.path, key, found = std::move(found)](
              grpc::Status status, record::UserTaskQueryResult result) {
            if (!status.ok()) return respond(ProblemFor(status, instance));
            if (result.tasks().empty()) {
              return respond(Problem(404, "NOT_FOUND",
                                     StrCat("User task with key '", key, "' not found"), instance));
            }
            found(respond, std::move(result));
          }));
}

void GetUserTask(GatewayService& service, Call call) {
  ReadUserTask(service, std::move(call), /*with_form=*/false,
               [](const Respond& respond, record::UserTaskQueryResult result) {
                 respond.Build([task = result.tasks(0)] { return Ok(UserTaskJson(task)); });
               });
}

// The form a user task links to (zeebe:formDefinition formId): 200 with the schema, 204 when
// the task links none.
void GetUserTaskForm(GatewayService& service, Call call) {
  std::string instance = call.path;  // before `call` moves
  ReadUserTask(
      service, std::move(call), /*with_form=*/true,
      [instance = std::move(instance)](const Respond& respond, record::UserTaskQueryResult result) {
        const record::UserTaskRecord& task = result.tasks(0).record();
        if (task.form_key() == 0) {
          HttpResponse none;
          none.status = 204;
          return respond(std::move(none));
        }
        if (result.form().form_key() == 0) {
          return respond(
              Problem(404, "NOT_FOUND",
                      StrCat("The form of user task '", task.user_task_key(), "' is not deployed"),
                      instance));
        }
        respond.Build([form = result.form()] {
          json schema = json::parse(form.resource(), nullptr, /*allow_exceptions=*/false);
          return Ok({{"formKey", KeyString(form.form_key())},
                     {"tenantId", form.tenant_id()},
                     {"formId", form.form_id()},
                     {"version", form.version()},
                     {"schema", schema.is_discarded() ? json::object() : std::move(schema)}});
        });
      });
}

// A filter property: a plain value or {"$eq": value}; other operators are not built.
std::string StringFilter(Fields& filter, const json& object, std::string_view key,
                         std::string* unsupported) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_object() && it->size() == 1 && it->contains("$eq") && (*it)["$eq"].is_string()) {
    return (*it)["$eq"].get<std::string>();
  }
  if (it->is_object()) {
    if (unsupported->empty()) {
      *unsupported =
          StrCat("Tern filters '", filter.Path(key), "' by a value or {\"$eq\": value} only");
    }
    return "";
  }
  return filter.String(key);
}

void SearchUserTasks(GatewayService& service, Call call) {
  Fields fields(call.body);
  record::UserTaskQuery query;
  std::string unsupported;
  if (const json* filter_object = fields.Object("filter")) {
    Fields filter(*filter_object, "filter.");
    query.set_state(StringFilter(filter, *filter_object, "state", &unsupported));
    query.set_assignee(StringFilter(filter, *filter_object, "assignee", &unsupported));
    query.set_candidate_user(StringFilter(filter, *filter_object, "candidateUser", &unsupported));
    query.set_candidate_group(StringFilter(filter, *filter_object, "candidateGroup", &unsupported));
    query.set_tenant_id(StringFilter(filter, *filter_object, "tenantId", &unsupported));
    query.set_element_id(filter.String("elementId"));
    query.set_bpmn_process_id(filter.String("processDefinitionId"));
    query.set_user_task_key(filter.Key("userTaskKey"));
    query.set_process_instance_key(filter.Key("processInstanceKey"));
    query.set_process_definition_key(filter.Key("processDefinitionKey"));
    query.set_element_instance_key(filter.Key("elementInstanceKey"));
    for (std::string_view other :
         {"priority", "name", "creationDate", "completionDate", "followUpDate", "dueDate",
          "processInstanceVariables", "localVariables"}) {
      if (filter.Has(other) && unsupported.empty()) {
        unsupported = StrCat("Tern does not filter user tasks by '", filter.Path(other), "'");
      }
    }
    fields.Take(filter);
  }
  int32_t limit = 100;
  if (const json* page_object = fields.Object("page")) {
    Fields page(*page_object, "page.");
    limit = page.Int32("limit", 100);
    if (page.Has("after")) {
      // The cursor is the last key of the previous page, as a string.
      query.set_after_key(page.Key("after"));
    }
    if (page.Has("before") && unsupported.empty()) {
      unsupported = "Tern pages user tasks forward only (page.after)";
    }
    if (page.Int64("from", 0) != 0 && unsupported.empty()) {
      unsupported = "Tern pages user tasks with a cursor (page.after), not with page.from";
    }
    fields.Take(page);
  }
  // Results come in key order, which is creation order.
  for (const json* sort : fields.Objects("sort")) {
    Fields order(*sort, "sort.");
    std::string field = order.String("field", true);
    std::string direction = order.String("order");
    fields.Take(order);
    if (fields.ok() && unsupported.empty() &&
        (field != "creationDate" || (!direction.empty() && !EqualsIgnoreCase(direction, "asc")))) {
      unsupported = "Tern sorts user tasks by creationDate ascending (their key order) only";
    }
  }
  if (!Check(fields, call)) return;
  if (!unsupported.empty()) return call.respond(BadRequest(unsupported, call.path));
  if (limit < 1 || limit > 1000) {
    return call.respond(BadRequest("Expected 'page.limit' to be between 1 and 1000.", call.path));
  }
  query.set_limit(limit);
  Run<record::UserTaskQuery, record::UserTaskQueryResult>(
      service, call, query, [](const record::UserTaskQueryResult& result) {
        json items = json::array();
        for (const auto& task : result.tasks()) items.push_back(UserTaskJson(task));
        json page = {{"totalItems", result.tasks_size()},
                     {"hasMoreTotalItems", result.next_after_key() != 0}};
        if (!result.tasks().empty()) {
          page["startCursor"] = KeyString(result.tasks(0).record().user_task_key());
        }
        if (result.next_after_key() != 0) page["endCursor"] = KeyString(result.next_after_key());
        return Ok({{"items", std::move(items)}, {"page", std::move(page)}});
      });
}

// --- Routing -------------------------------------------------------------------------------------

constexpr std::string_view kUserTasksNotBuilt =
    "user task variables are not searchable in Tern yet";

std::vector<RestApi::Route> RouteTable() {
  using Body = RestApi::Body;
  std::vector<RestApi::Route> routes = {
      {"GET", "/v2/topology", Body::kNone, GetTopology},
      {"GET", "/v2/license", Body::kNone, GetLicense},
      {"POST", "/v2/deployments", Body::kMultipart, CreateDeployment},
      {"POST", "/v2/resources/{resourceKey}/deletion", Body::kJson, DeleteResource},
      {"POST", "/v2/process-instances", Body::kJson, CreateProcessInstance},
      {"POST", "/v2/process-instances/{processInstanceKey}/cancellation", Body::kJson,
       CancelProcessInstance},
      {"POST", "/v2/process-instances/{processInstanceKey}/modification", Body::kJson,
       ModifyProcessInstance},
      {"POST", "/v2/process-instances/{processInstanceKey}/migration", Body::kJson,
       MigrateProcessInstance},
      {"POST", "/v2/jobs/activation", Body::kJson, ActivateJobs},
      {"POST", "/v2/jobs/{jobKey}/completion", Body::kJson, CompleteJob},
      {"POST", "/v2/jobs/{jobKey}/failure", Body::kJson, FailJob},
      {"POST", "/v2/jobs/{jobKey}/error", Body::kJson, ThrowJobError},
      {"PATCH", "/v2/jobs/{jobKey}", Body::kJson, UpdateJob},
      {"POST", "/v2/incidents/{incidentKey}/resolution", Body::kJson, ResolveIncident},
      {"POST", "/v2/messages/publication", Body::kJson, PublishMessage},
      {"POST", "/v2/signals/broadcast", Body::kJson, BroadcastSignal},
      {"POST", "/v2/decision-definitions/evaluation", Body::kJson, EvaluateDecision},
      {"PUT", "/v2/element-instances/{elementInstanceKey}/variables", Body::kJson,
       SetElementInstanceVariables},
      {"POST", "/v2/messages/correlation", Body::kJson, CorrelateMessage},
      {"POST", "/v2/user-tasks/search", Body::kJson, SearchUserTasks},
      {"GET", "/v2/user-tasks/{userTaskKey}", Body::kNone, GetUserTask},
      {"GET", "/v2/user-tasks/{userTaskKey}/form", Body::kNone, GetUserTaskForm},
      {"PATCH", "/v2/user-tasks/{userTaskKey}", Body::kJson, UpdateUserTask},
      {"POST", "/v2/user-tasks/{userTaskKey}/completion", Body::kJson, CompleteUserTask},
      {"POST", "/v2/user-tasks/{userTaskKey}/assignment", Body::kJson, AssignUserTask},
      {"DELETE", "/v2/user-tasks/{userTaskKey}/assignee", Body::kJson, UnassignUserTask},
      // Being built (issue 13): fill in the handler when the engine has the command.
      {"PUT", "/v2/clock", Body::kJson, nullptr, "the clock is not built yet (issue 13)"},
      {"POST", "/v2/clock/reset", Body::kJson, nullptr, "the clock is not built yet (issue 13)"},
      {"POST", "/v2/user-tasks/{userTaskKey}/variables/search", Body::kJson, nullptr,
       kUserTasksNotBuilt},
  };
  // Searches and reads of history (search_api.cc).
  for (RestApi::Route& route : SearchRoutes()) routes.push_back(route);
  return routes;
}

// Matches `path` against `pattern` segment by segment; {name} segments are captured.
bool Match(std::string_view pattern, std::string_view path, std::vector<std::string>* params) {
  std::vector<std::string_view> want = Split(pattern, '/');
  std::vector<std::string_view> have = Split(path, '/');
  if (want.size() != have.size()) return false;
  params->clear();
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() >= 2 && want[i].front() == '{' && want[i].back() == '}') {
      if (have[i].empty()) return false;
      params->emplace_back(have[i]);
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  return true;
}

bool IsJson(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = Trim(media);
  return EqualsIgnoreCase(media, "application/json") ||
         (StartsWithIgnoreCase(media, "application/") && EndsWithIgnoreCase(media, "+json"));
}

}  // namespace

HttpResponse ProblemFor(const grpc::Status& status, std::string_view instance) {
  int http_status = 500;
  std::string_view title = "INTERNAL";
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      http_status = 400, title = "INVALID_ARGUMENT";
      break;
    case grpc::StatusCode::NOT_FOUND:
      http_status = 404, title = "NOT_FOUND";
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      http_status = 409, title = "INVALID_STATE";
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      http_status = 409, title = "ALREADY_EXISTS";
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      http_status = 429, title = "RESOURCE_EXHAUSTED";
      break;
    case grpc::StatusCode::UNAVAILABLE:
      http_status = 503, title = "UNAVAILABLE";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      http_status = 504, title = "DEADLINE_EXCEEDED";
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      http_status = 403, title = "FORBIDDEN";
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      http_status = 401, title = "UNAUTHORIZED";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      http_status = 501, title = "NOT_IMPLEMENTED";
      break;
    default:
      break;
  }
  return Problem(http_status, title, status.error_message(), instance);
}

RestApi::RestApi(GatewayService& service, SearchBackend* search)
    : service_(service), search_(search), routes_(RouteTable()) {}

namespace {

// Whether a browser sent this request from another site's page. A browser attaches the user's
// cached credentials (basic authentication) to a cross-site form post, and a form post needs
// no CORS preflight: without this check any page the user visits could cancel instances or
// complete jobs. Clients that are not browsers send neither header.
bool IsCrossSite(const HttpRequest& request) {
  if (!request.sec_fetch_site.empty()) {
    return request.sec_fetch_site != "same-origin" && request.sec_fetch_site != "none";
  }
  if (request.origin.empty()) return false;
  const size_t scheme_end = request.origin.find("://");
  if (scheme_end == std::string::npos) return true;  // "null" (sandboxed pages) and the like
  return request.origin.substr(scheme_end + 3) != request.host;
}

}  // namespace

void RestApi::Handle(HttpRequest request, Respond respond) {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  if (request.method != "GET" && request.method != "HEAD" && IsCrossSite(request)) {
    return respond(Problem(403, "Forbidden",
                           "Requests from another site's page are refused (Origin or "
                           "Sec-Fetch-Site says so); call the API from the console's own page "
                           "or from a client",
                           path));
  }
  // Every request is authenticated first, with the gRPC calls' authenticator: an unknown path
  // tells a stranger nothing more than a known one.
  auto caller = service_.Authenticate(request.authorization);
  request.authorization.clear();  // no route sees (or could log) the credential
  if (!caller.ok() && caller.status().code() == absl::StatusCode::kUnavailable) {
    // The credential was not checked (too many checks at once): retry, not re-authenticate.
    HttpResponse busy = Problem(503, "Service Unavailable", ToStd(caller.status().message()), path);
    busy.headers.emplace_back("Retry-After", "1");
    return respond(std::move(busy));
  }
  if (!caller.ok()) {
    HttpResponse refused = Problem(401, "Unauthorized", ToStd(caller.status().message()), path);
    if (const std::string_view challenge = service_.AuthChallenge(); !challenge.empty()) {
      refused.headers.emplace_back("WWW-Authenticate", std::string(challenge));
    }
    return respond(std::move(refused));
  }
  bool path_known = false;
  std::vector<std::string> params;
  for (const Route& route : routes_) {
    if (!Match(route.pattern, path, &params)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    if (route.handler == nullptr) {
      return respond(Problem(501, "Not Implemented",
                             StrCat(request.method, " ", route.pattern, ": ", route.not_built),
                             path));
    }
    Call call{search_, path, std::move(params), json::object(), {}, std::move(respond)};
    if (route.body == Body::kJson && !Trim(request.body).empty()) {
      if (!IsJson(request.content_type)) {
        return call.respond(Problem(415, "Unsupported Media Type",
                                    StrCat("Expected Content-Type application/json, but it was '",
                                           request.content_type, "'"),
                                    path));
      }
      call.body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (call.body.is_discarded()) {
        return call.respond(BadRequest("The request body is not valid JSON", path));
      }
      if (!call.body.is_object()) {
        return call.respond(BadRequest("The request body is not a JSON object", path));
      }
    }
    call.request = std::move(request);
    call.caller = *std::move(caller);
    return route.handler(service_, std::move(call));
  }
  if (path_known) {
    return respond(Problem(405, "Method Not Allowed",
                           StrCat("Method ", request.method, " is not supported for ", path),
                           path));
  }
  if (path == "/v2" || path.starts_with("/v2/")) {
    return respond(Problem(
        501, "Not Implemented",
        StrCat(request.method, " ", path, " is not built in Tern (docs/rest-api.md lists what is)"),
        path));
  }
  respond(
      Problem(404, "Not Found", StrCat("No resource at ", path, "; the API is under /v2"), path));
}

}  // namespace tern::gateway::rest
