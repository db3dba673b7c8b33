#pragma once

// What the two swarm runners (tern_raft_sim, tern_engine_sim) share: the seed-range flags and
// the replay line that a failing seed prints, also when a TERN_CHECK aborts the process.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tern::sim {

struct SeedRange {
  uint64_t first = 1;
  uint64_t count = 500;
  bool verbose = false;
};

// --seeds N, --first S, --seed S (one seed), --verbose.
inline void AddSeedFlags(CLI::App& app, SeedRange& range) {
  app.add_option("--seeds", range.count, "how many seeds to run");
  app.add_option("--first", range.first, "the first seed");
  app.add_option_function<uint64_t>(
      "--seed",
      [&range](uint64_t seed) {
        range.first = seed;
        range.count = 1;
      },
      "run this one seed");
  app.add_flag("--verbose", range.verbose, "print a trace");
}

namespace internal {
inline char g_replay[512];
inline void OnAbort(int) {
  (void)!write(STDERR_FILENO, g_replay, strlen(g_replay));
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}
}  // namespace internal

// Sets the line printed when the current seed fails (`extra_flags` are the flags besides
// --seed that reproduce it) and returns it; installs the abort handler that prints it too.
inline const char* SetReplayLine(const char* program, uint64_t seed,
                                 const std::string& extra_flags) {
  std::snprintf(internal::g_replay, sizeof(internal::g_replay),
                "\nFAILED seed %llu; replay: %s --seed %llu%s --verbose\n",
                static_cast<unsigned long long>(seed), program,
                static_cast<unsigned long long>(seed), extra_flags.c_str());
  std::signal(SIGABRT, internal::OnAbort);
  return internal::g_replay;
}

}  // namespace tern::sim
