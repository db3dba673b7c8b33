#include "gateway/rest/multipart.h"

#include "base/strings.h"
#include "gateway/rest/text.h"

namespace tern::gateway::rest {
namespace {

// Splits "a; b=c; d=\"e;f\"" into its ';'-separated pieces, honouring quotes.
std::vector<std::string_view> SplitParameters(std::string_view value) {
  std::vector<std::string_view> pieces;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"' && (i == 0 || value[i - 1] != '\\')) quoted = !quoted;
    if (value[i] == ';' && !quoted) {
      pieces.push_back(Trim(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  pieces.push_back(Trim(value.substr(start)));
  return pieces;
}

// The value of parameter `name` (case-insensitive) among `pieces`, unquoted; false if absent.
bool Parameter(const std::vector<std::string_view>& pieces, std::string_view name,
               std::string* out) {
  for (size_t i = 1; i < pieces.size(); ++i) {
    auto eq = pieces[i].find('=');
    if (eq == std::string_view::npos) continue;
    if (!EqualsIgnoreCase(Trim(pieces[i].substr(0, eq)), name)) {
      continue;
    }
    std::string_view value = Trim(pieces[i].substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
      std::string unescaped;
      for (size_t j = 0; j < value.size(); ++j) {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        unescaped.push_back(value[j]);
      }
      *out = std::move(unescaped);
    } else {
      *out = std::string(value);
    }
    return true;
  }
  return false;
}

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("Malformed multipart/form-data body: ", what));
}

}  // namespace

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  auto pieces = SplitParameters(content_type);
  if (!EqualsIgnoreCase(pieces[0], "multipart/form-data")) {
    return absl::InvalidArgumentError(
        StrCat("Expected Content-Type multipart/form-data, but it was '", content_type, "'"));
  }
  std::string boundary;
  // RFC 2046: 1 to 70 characters.
  if (!Parameter(pieces, "boundary", &boundary) || boundary.empty() || boundary.size() > 70) {
    return absl::InvalidArgumentError(
        "Expected a multipart/form-data Content-Type with a boundary of 1 to 70 characters");
  }
  return boundary;
}

absl::StatusOr<std::vector<FormPart>> ParseMultipart(std::string_view body,
                                                     std::string_view boundary,
                                                     const MultipartLimits& limits) {
  const std::string delimiter = StrCat("--", boundary);
  // The first delimiter may be preceded by a preamble; later ones follow a CRLF.
  size_t position = body.find(delimiter);
  if (position == std::string_view::npos) return Invalid("no boundary delimiter");
  if (position != 0 && (position < 2 || body.substr(position - 2, 2) != "\r\n")) {
    return Invalid("the first boundary delimiter does not start a line");
  }
  const std::string next_delimiter = StrCat("\r\n", delimiter);
  std::vector<FormPart> parts;
  position += delimiter.size();
  while (true) {
    // After a delimiter: "--" ends the body, CRLF starts a part (transport padding allowed).
    if (body.substr(position, 2) == "--") return parts;
    while (position < body.size() && (body[position] == ' ' || body[position] == '\t')) {
      ++position;
    }
    if (body.substr(position, 2) != "\r\n")
      return Invalid("a boundary delimiter is not followed by CRLF");
    position += 2;
    if (parts.size() >= limits.max_parts) {
      return Invalid(StrCat("more than ", limits.max_parts, " parts"));
    }
    size_t headers_end = body.find("\r\n\r\n", position);
    // A part without headers starts with the empty line right away.
    bool no_headers = body.substr(position, 2) == "\r\n";
    if (no_headers) headers_end = position - 2;
    if (headers_end == std::string_view::npos) return Invalid("a part's headers do not end");
    if (!no_headers && headers_end - position > limits.max_part_header_bytes) {
      return Invalid(
          StrCat("a part's headers are longer than ", limits.max_part_header_bytes, " bytes"));
    }
    FormPart part;
    bool has_disposition = false;
    std::string_view headers =
        no_headers ? std::string_view() : body.substr(position, headers_end - position);
    while (!headers.empty()) {
      size_t line_end = headers.find("\r\n");
      std::string_view line = headers.substr(0, line_end);
      headers =
          line_end == std::string_view::npos ? std::string_view() : headers.substr(line_end + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return Invalid("a part header has no ':'");
      std::string_view field = Trim(line.substr(0, colon));
      std::string_view value = Trim(line.substr(colon + 1));
      if (EqualsIgnoreCase(field, "Content-Disposition")) {
        auto pieces = SplitParameters(value);
        if (!EqualsIgnoreCase(pieces[0], "form-data")) {
          return Invalid("a part's Content-Disposition is not form-data");
        }
        if (!Parameter(pieces, "name", &part.name)) {
          return Invalid("a part's Content-Disposition has no name");
        }
        Parameter(pieces, "filename", &part.filename);
        has_disposition = true;
      } else if (EqualsIgnoreCase(field, "Content-Type")) {
        part.content_type = std::string(value);
      }
    }
    if (!has_disposition) return Invalid("a part has no Content-Disposition");
    size_t content_start = headers_end + 4;
    size_t content_end = body.find(next_delimiter, content_start);
    if (content_end == std::string_view::npos)
      return Invalid("a part does not end with the boundary");
    part.content = std::string(body.substr(content_start, content_end - content_start));
    parts.push_back(std::move(part));
    position = content_end + next_delimiter.size();
  }
}

}  // namespace tern::gateway::rest
