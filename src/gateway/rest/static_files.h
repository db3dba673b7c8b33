#pragma once

// The web console's files (console/, built into share/tern/console) served on the REST address
// next to /v2: GET and HEAD only, Content-Type by extension, hashed assets (assets/*) cached for
// a year and everything else revalidated, index.html for client routes (/tasklist/123), and no
// way out of the directory (no "." or ".." segments after percent-decoding, no NUL or
// backslash, and the resolved file must lie inside the directory, also through symlinks).
// docs/console.md.
//
// Threading: immutable after Open; Serve runs on the HTTP server's threads and reads the file
// from disk (small files, from the page cache) without other blocking.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "gateway/rest/http_server.h"

namespace tern::gateway::rest {

class StaticFiles {
 public:
  // The console in `dir`; NotFound when it is not a directory holding index.html.
  static absl::StatusOr<std::unique_ptr<StaticFiles>> Open(const std::string& dir);

  // The answer to a request outside the API's version paths (IsApiPath).
  HttpResponse Serve(const HttpRequest& request) const;

  const std::string& root() const { return root_; }

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  HttpResponse File(const std::string& relative, std::string_view path) const;
  std::string root_;  // canonical, without a trailing slash
};

// Where packages and the build tree put the console: share/tern/console beside the bin/
// directory of the running program (/usr/bin/tern-broker: /usr/share/tern/console;
// build/bin/tern-broker: build/share/tern/console).
std::string DefaultConsoleDir();

// The console for a --console-dir setting: null when "" or "none" (off), or when the directory
// (DefaultConsoleDir() for "auto") holds no console, which is logged as an info line.
std::unique_ptr<StaticFiles> OpenConsole(const std::string& setting);

// Whether a request path (no query) is the REST API's rather than the console's: /v2 and every
// other version namespace (/v1/..., /v3/...).
bool IsApiPath(std::string_view path);

// The MIME type of a file name's extension (application/octet-stream when unknown).
std::string_view ContentTypeOf(std::string_view file_name);

}  // namespace tern::gateway::rest
