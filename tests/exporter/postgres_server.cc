#include "tests/exporter/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "exporter/sql.h"

namespace tern::testing {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status Run(const std::string& command, const std::string& log) {
  int rc = std::system(StrCat(command, " >> '", log, "' 2>&1").c_str());
  if (rc != 0) {
    std::string output = ReadFile(log);
    if (output.size() > 2000) output = output.substr(output.size() - 2000);
    return absl::InternalError(StrCat("'", command, "' failed (", rc, "): ", output));
  }
  return absl::OkStatus();
}

}  // namespace

std::string PostgresServer::AsServerUser(const std::string& command) const {
  // initdb and postgres refuse root; nobody owns the directory then.
  if (::geteuid() == 0) return StrCat("runuser -u nobody -- ", command);
  return command;
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  const char* bin = std::getenv("TERN_PG_BIN");
  server->bin_ = bin != nullptr && *bin != '\0' ? bin : "/usr/lib/postgresql/15/bin";
  if (!fs::exists(fs::path(server->bin_) / "initdb")) {
    return absl::FailedPreconditionError(
        StrCat("no PostgreSQL server in ", server->bin_,
               " (scripts/install-deps.sh --test installs postgresql-15)"));
  }
  std::string pattern = (fs::temp_directory_path() / "tern-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = pattern;
  const std::string log = server->dir_ + "/commands.log";
  const std::string password_file = server->dir_ + "/password";
  std::ofstream(password_file) << kPassword << "\n";
  if (::geteuid() == 0) {
    if (auto status = Run(StrCat("chown -R nobody '", server->dir_, "'"), "/dev/null");
        !status.ok()) {
      return status;
    }
  }
  if (auto status =
          Run(server->AsServerUser(StrCat(server->bin_, "/initdb -D '", server->dir_,
                                          "/data' -U tern --pwfile='", password_file,
                                          "' --auth-local=trust --auth-host=scram-sha-256 -E UTF8 "
                                          "--locale=C.UTF-8 --no-sync --no-instructions")),
              log);
      !status.ok()) {
    return status;
  }
  absl::Status started;
  for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the free port
    server->port_ = FreePort();
    started = server->StartServer();
    if (started.ok()) break;
  }
  if (!started.ok()) return started;
  // Stop the server if this process dies without doing so (a crash, a sanitizer abort).
  int watchdog =
      std::system(StrCat("(while kill -0 ", ::getpid(), " 2>/dev/null; do sleep 1; done; ",
                         server->AsServerUser(StrCat(server->bin_, "/pg_ctl -D '", server->dir_,
                                                     "/data' stop -m immediate")),
                         "; rm -rf '", server->dir_, "') > /dev/null 2>&1 < /dev/null &")
                      .c_str());
  (void)watchdog;  // without it the server outlives a crashed test, nothing worse
  return server;
}

absl::Status PostgresServer::StartServer() {
  // fsync off: a test machine's crash is not what these tests are about, and 2 shared cores.
  absl::Status status =
      Run(AsServerUser(StrCat(bin_, "/pg_ctl -D '", dir_, "/data' -l '", dir_,
                              "/server.log' -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p ", port_,
                              " -k '", dir_,
                              "' -c fsync=off -c full_page_writes=off -c "
                              "shared_buffers=16MB -c max_connections=60\" start")),
          dir_ + "/commands.log");
  running_ = status.ok();
  return status;
}

PostgresServer::~PostgresServer() {
  if (running_) (void)Stop();
  std::error_code error;
  fs::remove_all(dir_, error);
}

absl::Status PostgresServer::Stop() {
  absl::Status status =
      Run(AsServerUser(StrCat(bin_, "/pg_ctl -D '", dir_, "/data' -w -t 60 stop -m fast")),
          dir_ + "/commands.log");
  if (status.ok()) running_ = false;
  return status;
}

absl::Status PostgresServer::Restart() {
  if (running_) {
    if (auto status = Stop(); !status.ok()) return status;
  }
  return StartServer();
}

std::string PostgresServer::Url(std::string_view database) const {
  return StrCat("postgresql://tern:", kPassword, "@127.0.0.1:", port_, "/", database);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(std::string_view name) {
  auto connection = exporter::OpenPostgresql(Url("postgres"));
  if (!connection.ok()) return connection.status();
  if (auto status = (*connection)->Execute(StrCat("CREATE DATABASE \"", name, "\""));
      !status.ok()) {
    return status;
  }
  return Url(name);
}

absl::StatusOr<PostgresServer*> PostgresServer::Shared() {
  static absl::StatusOr<std::unique_ptr<PostgresServer>>* server =
      new absl::StatusOr<std::unique_ptr<PostgresServer>>(Start());
  // Stopped at exit (the pointer is leaked on purpose so that the order of static destructors
  // does not matter; the server is stopped by an atexit hook).
  static bool hooked = [] {
    std::atexit([] {
      if (server->ok()) server->value().reset();
    });
    return true;
  }();
  (void)hooked;
  if (!server->ok()) return server->status();
  return server->value().get();
}

}  // namespace tern::testing
