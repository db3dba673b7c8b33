// tern_engine_sim: runs the seeded partition simulation (PartitionCore replicas with the engine
// on top; engine_sim.h). Every failure prints the one-line command that replays it. Exit status
// 0 when every seed passed.
//
//   tern_engine_sim                 500 seeds starting at 1
//   tern_engine_sim --seeds 5000    more seeds
//   tern_engine_sim --seed 1234 --verbose   one seed with a trace
//   tern_engine_sim --first 9000 --seeds 100
//   tern_engine_sim --follow-ups 1       forces the engine's follow-up budget per batch
//   tern_engine_sim --check-determinism   runs every seed twice and compares the traces

#include <chrono>
#include <cstdio>
#include <string>

#include "engine_sim.h"
#include "spdlog/spdlog.h"
#include "swarm_main.h"

int main(int argc, char** argv) {
  tern::sim::SeedRange range;
  bool check_determinism = false;
  int fault_steps = -1;
  int follow_ups = -1;
  CLI::App app{"tern_engine_sim: the seeded partition simulation"};
  tern::sim::AddSeedFlags(app, range);
  app.add_option("--steps", fault_steps, "steps of the fault phase");
  app.add_option("--follow-ups", follow_ups, "the engine's follow-up budget per batch");
  app.add_flag("--check-determinism", check_determinism, "run every seed twice, compare traces");
  CLI11_PARSE(app, argc, argv);
  const uint64_t first = range.first;
  const uint64_t seeds = range.count;
  const bool verbose = range.verbose;
  // Partitions log every election, snapshot and torn tail: expected here, thousands of times.
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::err);
  auto start = std::chrono::steady_clock::now();
  uint64_t failed = 0;
  for (uint64_t s = first; s < first + seeds; ++s) {
    std::string steps_arg = fault_steps >= 0 ? " --steps " + std::to_string(fault_steps) : "";
    if (follow_ups >= 0) steps_arg += " --follow-ups " + std::to_string(follow_ups);
    const char* replay = tern::sim::SetReplayLine(argv[0], s, steps_arg);
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
                   opt.ToString().c_str(), sim.Summary().c_str(), replay);
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
