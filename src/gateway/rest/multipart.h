#pragma once

// multipart/form-data (RFC 7578) bodies, as POST /v2/deployments receives them. Debian has no
// small maintained parser for it, so this is a bounded one: the body is already in memory and
// within the request limit; parts and part headers are counted and capped.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tern::gateway::rest {

struct FormPart {
  std::string name;      // the form field (Content-Disposition name)
  std::string filename;  // empty when the part is not a file
  std::string content_type;
  std::string content;
};

struct MultipartLimits {
  size_t max_parts = 1'000;
  size_t max_part_header_bytes = 8 << 10;
};

// The boundary parameter of a multipart/form-data Content-Type; an error when the type is not
// multipart/form-data or has no boundary.
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

// Splits `body` into its parts. Errors (INVALID_ARGUMENT) name what is wrong.
absl::StatusOr<std::vector<FormPart>> ParseMultipart(std::string_view body,
                                                     std::string_view boundary,
                                                     const MultipartLimits& limits = {});

}  // namespace tern::gateway::rest
