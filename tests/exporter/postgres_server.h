#pragma once

// A real PostgreSQL server for tests: Debian's postgresql-15 binaries (initdb, pg_ctl) on a
// temporary directory, listening on 127.0.0.1 only at a free port, its unix socket in the same
// directory. initdb refuses to run as root, so when the tests run as root the server's commands
// run as `nobody` (runuser) and the directory belongs to it. One user `tern` with a password
// (scram-sha-256 over TCP), so the URLs the tests use carry one as operators' do.
//
// Owned by the test that starts it, or by the process (Shared(), stopped at exit); a watchdog
// shell stops the server if the test process dies without doing so.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tern::testing {

class PostgresServer {
 public:
  // initdb + pg_ctl start. The binaries come from $TERN_PG_BIN or /usr/lib/postgresql/15/bin.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  // One server for the whole test process, started at the first call.
  static absl::StatusOr<PostgresServer*> Shared();
  ~PostgresServer();

  static constexpr std::string_view kPassword = "tern-test-secret";

  int port() const { return port_; }
  // postgresql://tern:<password>@127.0.0.1:<port>/<database>
  std::string Url(std::string_view database = "postgres") const;
  // A new empty database (a fresh store per test), returning its URL.
  absl::StatusOr<std::string> CreateDatabase(std::string_view name);

  // pg_ctl stop (fast: sessions are ended) and start again on the same port and directory.
  absl::Status Stop();
  absl::Status Restart();

 private:
  PostgresServer() = default;
  std::string AsServerUser(const std::string& command) const;
  absl::Status StartServer();

  std::string bin_;
  std::string dir_;  // owns data/, the socket, the log
  int port_ = 0;
  bool running_ = false;
};

}  // namespace tern::testing
