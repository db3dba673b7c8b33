#pragma once

// A small HTTP server for operators: GET /health (the process is alive and its partitions
// run), GET /ready (every partition of this broker is installed and replicating),
// GET /metrics (Prometheus text format), GET /partitions (JSON: role, term, indexes; with
// ?checksum=true also each replica's state checksum), GET /incidents (JSON: open incidents) and
// Zeebe's backup API under /actuator/backups (GET, POST, DELETE).

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

class CivetServer;

namespace tern::broker {

struct MonitoringHandlers {
  std::function<bool()> healthy;
  std::function<bool()> ready;
  std::function<std::string()> metrics;
  std::function<std::string(bool with_checksum)> partitions;
  std::function<std::string()> incidents;
  // /actuator/backups and /actuator/backups/{id} (backup_service.h): method, the path after
  // /actuator/backups, body -> HTTP status and JSON body. None: those paths are not served.
  std::function<std::pair<int, std::string>(const std::string& method, const std::string& subpath,
                                            const std::string& body)>
      backups;
};

class MonitoringServer {
 public:
  static absl::StatusOr<std::unique_ptr<MonitoringServer>> Start(const std::string& address,
                                                                 MonitoringHandlers handlers);
  ~MonitoringServer();

 private:
  class Handler;
  class BackupsHandler;
  MonitoringServer() = default;
  MonitoringHandlers handlers_;
  std::unique_ptr<CivetServer> server_;
  std::vector<std::unique_ptr<Handler>> routes_;
  std::unique_ptr<BackupsHandler> backups_route_;
};

}  // namespace tern::broker
