// tern_engine_sim: runs the seeded partition simulation (PartitionCore replicas with the engine
// on top; engine_sim.h). Every failure prints the one-line command that replays it. Exit status
// 0 when every seed passed.
//
//   tern_engine_sim                 150 seeds starting at 1
//   tern_engine_sim --seeds 5000    more seeds
//   tern_engine_sim --seed 1234 --verbose   one seed with a trace
//   tern_engine_sim --first 9000 --seeds 100
//   tern_engine_sim --follow-ups 1       forces the engine's follow-up budget per batch
//   tern_engine_sim --check-determinism   runs every seed twice and compares the traces

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine_sim.h"
#include "spdlog/spdlog.h"

namespace {

char g_replay[512];

// TERN_CHECK aborts: still tell the user how to replay.
void OnAbort(int) {
  (void)!write(STDERR_FILENO, g_replay, strlen(g_replay));
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t first = 1;
  uint64_t seeds = 150;
  bool verbose = false;
  bool check_determinism = false;
  int fault_steps = -1;
  int follow_ups = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--seeds") {
      seeds = next();
    } else if (a == "--seed") {
      first = next();
      seeds = 1;
    } else if (a == "--first") {
      first = next();
    } else if (a == "--steps") {
      fault_steps = static_cast<int>(next());
    } else if (a == "--follow-ups") {
      follow_ups = static_cast<int>(next());
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--check-determinism") {
      check_determinism = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seeds N] [--first S] [--seed S] [--steps T] [--follow-ups F]"
                   " [--verbose]"
                   " [--check-determinism]\n",
                   argv[0]);
      return 2;
    }
  }
  std::signal(SIGABRT, OnAbort);
  // Partitions log every election, snapshot and torn tail: expected here, thousands of times.
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::err);
  auto start = std::chrono::steady_clock::now();
  uint64_t failed = 0;
  for (uint64_t s = first; s < first + seeds; ++s) {
    std::string steps_arg = fault_steps >= 0 ? " --steps " + std::to_string(fault_steps) : "";
    if (follow_ups >= 0) steps_arg += " --follow-ups " + std::to_string(follow_ups);
    std::snprintf(g_replay, sizeof(g_replay),
                  "\nFAILED seed %llu; replay: %s --seed %llu%s --verbose\n",
                  static_cast<unsigned long long>(s), argv[0], static_cast<unsigned long long>(s),
                  steps_arg.c_str());
    tern::sim::EngineSimOptions opt = tern::sim::EngineSimOptions::Random(s);
    if (fault_steps >= 0) opt.fault_steps = fault_steps;
    if (follow_ups >= 0) opt.max_follow_ups_per_batch = follow_ups;
    tern::sim::EngineSim sim(s, opt, verbose);
    bool ok = sim.Run();
    if (ok && check_determinism) {
      tern::sim::EngineSim again(s, opt, false);
      bool ok_again = again.Run();
      if (!ok_again || again.Summary() != sim.Summary()) {
        ok = false;
        std::fprintf(stderr, "seed %llu does not replay: %s\n  vs %s\n",
                     static_cast<unsigned long long>(s), sim.Summary().c_str(),
                     again.Summary().c_str());
      }
    }
    if (!ok) {
      ++failed;
      std::fprintf(stderr, "seed %llu: %s\n  options: %s\n  %s%s",
                   static_cast<unsigned long long>(s), sim.failure().c_str(),
                   opt.ToString().c_str(), sim.Summary().c_str(), g_replay);
    } else if (seeds == 1 || verbose) {
      std::printf("seed %llu ok: %s\n", static_cast<unsigned long long>(s), sim.Summary().c_str());
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu passed, %llu failed (%.1f s)\n",
              static_cast<unsigned long long>(seeds - failed),
              static_cast<unsigned long long>(failed), seconds);
  return failed == 0 ? 0 : 1;
}
