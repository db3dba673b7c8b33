#pragma once

// The authentication flags of tern-gateway and tern-broker (issue 14 item 7), one definition for
// both daemons: each flag is also a TERN_* environment variable.

#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "gateway/auth/auth.h"

namespace tern::gateway::auth {

struct AuthFlags {
  std::string mode = "none";
  AuthConfig config;
  bool insecure_no_auth = false;
};

// Adds --auth-mode, --oidc-issuer, --oidc-audience, --oidc-jwks-url, --oidc-jwks-file,
// --auth-users-file and --insecure-no-auth to `app`. `flags` must outlive parsing.
void AddAuthFlags(CLI::App& app, AuthFlags& flags);

// After parsing: fills flags.config.mode from flags.mode and applies the exposure rule to the
// client-facing `address` (host:port): without authentication, only a loopback address is
// allowed unless --insecure-no-auth was given.
absl::Status FinishAuthFlags(AuthFlags& flags, std::string_view address);

// True for 127.0.0.0/8, ::1 and localhost (with or without a port).
bool IsLoopbackAddress(std::string_view host_port);

}  // namespace tern::gateway::auth
