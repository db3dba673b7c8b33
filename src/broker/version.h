#pragma once

#include <string_view>

namespace tern::broker {

// The Zeebe protocol version Tern speaks, reported by Topology (zbctl prints it).
inline constexpr std::string_view kTernProtocolVersion = "8.6.0";
// Tern's own version.
inline constexpr std::string_view kTernVersion = "0.1.0";

}  // namespace tern::broker
