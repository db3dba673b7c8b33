#pragma once

// Strict base64 decoding for the authentication module (internal).

#include <optional>
#include <string>
#include <string_view>

namespace tern::gateway::auth::internal {

// RFC 4648 §5 (URL-safe alphabet, no padding), as JWS uses. nullopt on any other character or an
// impossible length.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// RFC 4648 §4 (standard alphabet, padding required), as HTTP basic authentication uses.
std::optional<std::string> Base64Decode(std::string_view text);

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Case-insensitive check that `header` starts with `scheme` and a space; returns the rest with
// leading spaces removed.
std::optional<std::string_view> StripScheme(std::string_view header, std::string_view scheme);

}  // namespace tern::gateway::auth::internal
