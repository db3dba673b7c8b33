#include "gateway/rest/static_files.h"

#include <limits.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <optional>
#include <utility>

#include "base/strings.h"
#include "gateway/rest/text.h"

namespace tern::gateway::rest {

namespace {

// Files larger than this are not served (the console's largest chunk is about 0.5 MiB).
constexpr int64_t kMaxFileBytes = 32 << 20;

// Hashed file names under assets/ never change content.
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";
// The console loads only its own scripts; bpmn-js sets inline styles; form-js and the diagram
// fonts may use data: URLs.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action "
    "'self'";

std::optional<std::string> Canonical(const std::string& path) {
  std::array<char, PATH_MAX> resolved;
  if (realpath(path.c_str(), resolved.data()) == nullptr) return std::nullopt;
  return std::string(resolved.data());
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a path; nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = HexValue(text[i + 1]);
    int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

HttpResponse WithHeaders(HttpResponse response, std::string_view cache_control) {
  response.headers.emplace_back("Cache-Control", std::string(cache_control));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

HttpResponse NotFound(std::string_view path) {
  return WithHeaders(Problem(404, "Not Found", StrCat("No console file at ", path), path),
                     kRevalidate);
}

}  // namespace

bool IsApiPath(std::string_view path) {
  // Every version namespace (/v1, /v2, /v3 ...) is the API's: a client that calls a version
  // Tern does not serve gets the API's 404 problem, never the console's page.
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return false;
  size_t end = 2;
  while (end < path.size() && path[end] >= '0' && path[end] <= '9') ++end;
  return end > 2 && (end == path.size() || path[end] == '/');
}

std::string_view ContentTypeOf(std::string_view file_name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
      {".eot", "application/vnd.ms-fontobject"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (EndsWithIgnoreCase(file_name, extension)) return type;
  }
  return "application/octet-stream";
}

std::string DefaultConsoleDir() {
  std::array<char, PATH_MAX> exe;
  ssize_t length = readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (length <= 0) return "share/tern/console";
  std::string program(exe.data(), static_cast<size_t>(length));
  std::string bin_dir = program.substr(0, program.rfind('/'));
  std::string prefix = bin_dir.substr(0, bin_dir.rfind('/'));
  return prefix + "/share/tern/console";
}

std::unique_ptr<StaticFiles> OpenConsole(const std::string& setting) {
  if (setting.empty() || setting == "none") return nullptr;
  std::string dir = setting == "auto" ? DefaultConsoleDir() : setting;
  auto files = StaticFiles::Open(dir);
  if (!files.ok()) {
    spdlog::info("Console off: {} (the REST API is served; docs/console.md)",
                 ToStd(files.status().message()));
    return nullptr;
  }
  spdlog::info("Console on the REST address, from {}", (*files)->root());
  return *std::move(files);
}

absl::StatusOr<std::unique_ptr<StaticFiles>> StaticFiles::Open(const std::string& dir) {
  auto root = Canonical(dir);
  struct stat info {};
  if (!root || stat(root->c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::NotFoundError(StrCat("no console directory at ", dir));
  }
  std::string index = *root + "/index.html";
  if (stat(index.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::NotFoundError(StrCat("no index.html in the console directory ", *root));
  }
  return std::unique_ptr<StaticFiles>(new StaticFiles(*std::move(root)));
}

HttpResponse StaticFiles::Serve(const HttpRequest& request) const {
  std::string_view target = request.target;
  std::string_view raw_path = target.substr(0, target.find_first_of("?#"));
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse refused =
        Problem(405, "Method Not Allowed",
                StrCat("The console's files answer GET and HEAD, not ", request.method), raw_path);
    refused.headers.emplace_back("Allow", "GET, HEAD");
    return refused;
  }
  auto decoded = PercentDecode(raw_path);
  if (!decoded || decoded->empty() || decoded->front() != '/') {
    return Problem(400, "Bad Request", "The path is not a valid absolute path", raw_path);
  }
  std::string_view path = *decoded;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return NotFound(raw_path);
  }
  // Segments starting with a dot: "..", "." and hidden files are never served.
  std::string relative;
  bool has_extension = false;
  for (std::string_view segment : Split(path.substr(1), '/')) {
    if (segment.empty()) continue;
    if (segment.front() == '.') return NotFound(raw_path);
    if (!relative.empty()) relative.push_back('/');
    relative.append(segment);
    has_extension = segment.find('.') != std::string_view::npos;
  }
  if (relative.empty()) return File("index.html", raw_path);
  std::string full = root_ + "/" + relative;
  struct stat info {};
  if (stat(full.c_str(), &info) == 0 && S_ISREG(info.st_mode)) return File(relative, raw_path);
  // A missing file (a name with an extension, or anything under assets/) is 404, so that a
  // stale page asking for an old chunk gets an error instead of HTML. Other paths are the
  // console's own routes: index.html, which routes them in the browser.
  if (has_extension || relative.starts_with("assets/")) return NotFound(raw_path);
  return File("index.html", raw_path);
}

HttpResponse StaticFiles::File(const std::string& relative, std::string_view path) const {
  auto resolved = Canonical(root_ + "/" + relative);
  // Inside the root, also after following symlinks.
  if (!resolved || !resolved->starts_with(root_ + "/")) return NotFound(path);
  std::ifstream in(*resolved, std::ios::binary);
  struct stat info {};
  if (!in || stat(resolved->c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return NotFound(path);
  }
  if (info.st_size > kMaxFileBytes) {
    return Problem(500, "Internal Server Error", StrCat("The console file ", path, " is too large"),
                   path);
  }
  std::string body(static_cast<size_t>(info.st_size), '\0');
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<size_t>(in.gcount()));
  HttpResponse response{200, std::string(ContentTypeOf(relative)), std::move(body)};
  response =
      WithHeaders(std::move(response), relative.starts_with("assets/") ? kImmutable : kRevalidate);
  if (relative == "index.html") {
    response.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  }
  return response;
}

}  // namespace tern::gateway::rest
