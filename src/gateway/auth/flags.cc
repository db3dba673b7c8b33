#include "gateway/auth/flags.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/strings.h"

namespace tern::gateway::auth {

void AddAuthFlags(CLI::App& app, AuthFlags& flags) {
  app.add_option("--auth-mode", flags.mode, "client authentication: none, oidc or basic")
      ->envname("TERN_AUTH_MODE")
      ->check(CLI::IsMember({"none", "oidc", "basic"}));
  app.add_option("--oidc-issuer", flags.config.oidc.issuer,
                 "the issuer (iss) every bearer token must carry")
      ->envname("TERN_OIDC_ISSUER");
  app.add_option("--oidc-audience", flags.config.oidc.audience,
                 "the audience (aud) every bearer token must include")
      ->envname("TERN_OIDC_AUDIENCE");
  app.add_option("--oidc-jwks-url", flags.config.oidc_jwks_url,
                 "the issuer's JSON Web Key Set URL (https)")
      ->envname("TERN_OIDC_JWKS_URL");
  app.add_option("--oidc-jwks-file", flags.config.oidc_jwks_file,
                 "a JSON Web Key Set file, instead of --oidc-jwks-url")
      ->envname("TERN_OIDC_JWKS_FILE");
  app.add_option("--auth-users-file", flags.config.basic_users_file,
                 "basic authentication users: one 'name:argon2id-hash' per line")
      ->envname("TERN_AUTH_USERS_FILE");
  app.add_flag("--insecure-no-auth", flags.insecure_no_auth,
               "allow a non-loopback client address without authentication")
      ->envname("TERN_INSECURE_NO_AUTH");
}

bool IsLoopbackAddress(std::string_view host_port) {
  std::string_view host = host_port;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') == std::string_view::npos ? 0 : host.find(']') - 1);
  } else if (const size_t colon = host.rfind(':');
             colon != std::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);  // one colon: host:port (several would be bare IPv6)
  }
  if (host == "localhost") return true;
  // An address, not a name that merely starts like one ("127.example.com").
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

absl::Status FinishAuthFlags(AuthFlags& flags, std::string_view address) {
  auto mode = ParseAuthMode(flags.mode);
  if (!mode.ok()) return mode.status();
  flags.config.mode = *mode;
  if (flags.config.mode == AuthMode::kNone && !IsLoopbackAddress(address) &&
      !flags.insecure_no_auth) {
    return absl::InvalidArgumentError(
        StrCat("refusing to serve clients on ", address,
               " without authentication: use --auth-mode oidc or basic, bind a loopback address, "
               "or pass --insecure-no-auth"));
  }
  return absl::OkStatus();
}

}  // namespace tern::gateway::auth
