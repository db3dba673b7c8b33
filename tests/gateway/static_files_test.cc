// The console's static files: content types, caching, client-route fallback and every way out
// of the directory (dot segments, percent-encoded, backslashes, NUL, symlinks), called directly
// and through a real HttpServer on loopback (raw request targets, HEAD).

#include "gateway/rest/static_files.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gateway/rest/http_server.h"

namespace tern::gateway::rest {
namespace {

namespace fs = std::filesystem;

std::string Header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("tern-static-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "console";
    fs::create_directories(root_ / "assets");
    Write(root_ / "index.html", "<!doctype html><title>console</title>");
    Write(root_ / "assets" / "index-AbC123.js", "console.log(1)");
    Write(root_ / "assets" / "index-AbC123.css", "body{}");
    Write(root_ / "assets" / "font.woff2", "w");
    Write(root_ / "favicon.svg", "<svg/>");
    Write(root_ / ".hidden", "HIDDEN-CONTENT");
    Write(base_ / "secret.txt", "SECRET");
    fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
    fs::create_directory_symlink(base_, root_ / "up");
    auto opened = StaticFiles::Open(root_.string());
    ASSERT_TRUE(opened.ok()) << opened.status();
    files_ = *std::move(opened);
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  HttpResponse Get(const std::string& target, const std::string& method = "GET") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    return files_->Serve(request);
  }

  fs::path base_;
  fs::path root_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesIndexAndAssetsWithTypesAndCaching) {
  auto index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.body, "<!doctype html><title>console</title>");
  EXPECT_EQ(Header(index, "Cache-Control"), "no-cache");
  EXPECT_NE(Header(index, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(Header(index, "X-Content-Type-Options"), "nosniff");

  auto script = Get("/assets/index-AbC123.js?v=1");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script.body, "console.log(1)");
  EXPECT_EQ(Header(script, "Cache-Control"), "public, max-age=31536000, immutable");

  EXPECT_EQ(Get("/assets/index-AbC123.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Get("/assets/font.woff2").content_type, "font/woff2");
  auto icon = Get("/favicon.svg");
  EXPECT_EQ(icon.content_type, "image/svg+xml");
  EXPECT_EQ(Header(icon, "Cache-Control"), "no-cache");
  // Percent-encoded names are decoded.
  EXPECT_EQ(Get("/assets/index%2DAbC123.js").body, "console.log(1)");
}

TEST_F(StaticFilesTest, ClientRoutesGetIndexMissingFilesGet404) {
  for (const char* route : {"/tasklist", "/tasklist/2251799813685249", "/processes/1/", "/x//y"}) {
    auto answer = Get(route);
    EXPECT_EQ(answer.status, 200) << route;
    EXPECT_EQ(answer.body, "<!doctype html><title>console</title>") << route;
    EXPECT_EQ(Header(answer, "Cache-Control"), "no-cache") << route;
  }
  // A missing chunk must not be answered with HTML.
  for (const char* missing : {"/assets/index-old.js", "/assets/gone", "/robots.txt", "/a/b.png"}) {
    auto answer = Get(missing);
    EXPECT_EQ(answer.status, 404) << missing;
    EXPECT_EQ(answer.content_type, "application/problem+json") << missing;
  }
}

TEST_F(StaticFilesTest, NothingOutsideTheDirectory) {
  for (const char* target :
       {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
        "/.%2e/secret.txt", "/assets/..\\..\\secret.txt", "/assets%5c..%5c..%5csecret.txt",
        "/link.txt", "/up/secret.txt", "/.hidden", "/assets/./index-AbC123.js", "/index.html%00.js",
        "/%00"}) {
    auto answer = Get(target);
    EXPECT_EQ(answer.status, 404) << target;
    EXPECT_EQ(answer.body.find("SECRET"), std::string::npos) << target;
    EXPECT_EQ(answer.body.find("HIDDEN-CONTENT"), std::string::npos) << target;
  }
  for (const char* malformed : {"/%", "/%2", "/%zz", "/assets/%g1.js", "relative"}) {
    EXPECT_EQ(Get(malformed).status, 400) << malformed;
  }
}

TEST_F(StaticFilesTest, OnlyGetAndHead) {
  EXPECT_EQ(Get("/", "HEAD").status, 200);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    auto answer = Get("/", method);
    EXPECT_EQ(answer.status, 405) << method;
    EXPECT_EQ(Header(answer, "Allow"), "GET, HEAD");
  }
}

TEST(StaticFilesOpen, MissingOrEmptyDirectoryIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(StaticFiles::Open("/nonexistent/tern/console").status()));
  EXPECT_TRUE(absl::IsNotFound(StaticFiles::Open(fs::temp_directory_path().string()).status()));
  EXPECT_EQ(OpenConsole("none"), nullptr);
  EXPECT_EQ(OpenConsole(""), nullptr);
  EXPECT_EQ(OpenConsole("/nonexistent/tern/console"), nullptr);
  EXPECT_TRUE(IsApiPath("/v2"));
  EXPECT_TRUE(IsApiPath("/v2/topology"));
  EXPECT_FALSE(IsApiPath("/v2x"));
  EXPECT_TRUE(IsApiPath("/v1/anything"));
  EXPECT_TRUE(IsApiPath("/v10"));
  EXPECT_FALSE(IsApiPath("/v"));
  EXPECT_FALSE(IsApiPath("/vendor"));
  EXPECT_FALSE(IsApiPath("/tasklist/v2"));
  EXPECT_FALSE(IsApiPath("/"));
}

// A raw HTTP/1.1 exchange on loopback: the request as written, the whole answer as read.
std::string Exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) answer.append(buffer, static_cast<size_t>(n));
  close(fd);
  return answer;
}

TEST_F(StaticFilesTest, ThroughTheHttpServer) {
  HttpServerOptions options;
  options.address = "127.0.0.1:0";
  auto server = HttpServer::Start(
      options, [this](HttpRequest request, Respond respond) { respond(files_->Serve(request)); });
  ASSERT_TRUE(server.ok()) << server.status();
  int port = (*server)->port();

  std::string get = Exchange(port,
                             "GET /assets/index-AbC123.js HTTP/1.1\r\nHost: x\r\n"
                             "Connection: close\r\n\r\n");
  EXPECT_TRUE(get.starts_with("HTTP/1.1 200")) << get;
  EXPECT_NE(get.find("Content-Type: text/javascript; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(get.find("Cache-Control: public, max-age=31536000, immutable\r\n"), std::string::npos);
  EXPECT_NE(get.find("Content-Length: 14\r\n"), std::string::npos) << get;
  EXPECT_TRUE(get.ends_with("\r\n\r\nconsole.log(1)")) << get;

  // HEAD: the same headers and length, no body.
  std::string head = Exchange(port,
                              "HEAD /assets/index-AbC123.js HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
  EXPECT_NE(head.find("Content-Length: 14\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;

  // A HEAD then a GET on one keep-alive connection: the GET still gets its body.
  std::string both = Exchange(port,
                              "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /assets/index-AbC123.js HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n");
  EXPECT_TRUE(both.ends_with("\r\n\r\nconsole.log(1)")) << both;

  // Raw targets as sent on the wire, without a client normalising them.
  for (const char* target : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                             "/..%2Fsecret.txt", "//../secret.txt", "/up/secret.txt"}) {
    std::string answer = Exchange(
        port, std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 404")) << target << ": " << answer;
    EXPECT_EQ(answer.find("SECRET"), std::string::npos) << target;
  }
  (*server)->Shutdown();
}

}  // namespace
}  // namespace tern::gateway::rest
