// tern-feel-bench: parse+compile time and single-core evaluation throughput of a typical
// gateway condition. Prints figures; never asserts on timing.
//
//   build/bin/tern-feel-bench [iterations]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "feel/feel.h"

namespace {

using Clock = std::chrono::steady_clock;

// The engine's resolver looks variables up in its state; here a two-variable switch.
class BenchResolver : public tern::feel::VariableResolver {
 public:
  BenchResolver()
      : amount_(tern::feel::Value::Number(500)), status_(tern::feel::Value::String("new")) {}
  std::optional<tern::feel::Value> Lookup(std::string_view name) const override {
    if (name == "amount") return amount_;
    if (name == "status") return status_;
    return std::nullopt;
  }

 private:
  tern::feel::Value amount_;
  tern::feel::Value status_;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  using namespace tern::feel;
  const int64_t iterations = argc > 1 ? std::atoll(argv[1]) : 5'000'000;
  const std::string source = "amount < 10000 and status = \"new\"";

  // Parse + compile.
  const int compile_runs = 100'000;
  auto start = Clock::now();
  size_t sink = 0;
  for (int i = 0; i < compile_runs; ++i) {
    auto e = CompiledExpression::Compile(source);
    if (!e.ok()) {
      std::fprintf(stderr, "compile failed: %s\n", e.status().ToString().c_str());
      return 1;
    }
    sink += (*e)->free_variables().size();
  }
  double compile_s = Seconds(Clock::now() - start);
  std::printf("expression: %s\n", source.c_str());
  std::printf("parse+compile: %.2f us per expression (%d runs)\n", compile_s / compile_runs * 1e6,
              compile_runs);

  auto expr = CompiledExpression::Compile(source);
  BenchResolver resolver;
  EvalOptions options;
  int64_t trues = 0;
  // Warm up.
  for (int i = 0; i < 100'000; ++i) trues += Evaluate(**expr, resolver, options)->as_bool();
  trues = 0;
  start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    absl::StatusOr<Value> v = Evaluate(**expr, resolver, options);
    trues += v.ok() && v->is_bool() && v->as_bool();
  }
  double eval_s = Seconds(Clock::now() - start);
  std::printf(
      "evaluate: %.1f ns per evaluation, %.2f million evaluations/s on one core "
      "(%lld iterations, %lld true)\n",
      eval_s / static_cast<double>(iterations) * 1e9,
      static_cast<double>(iterations) / eval_s / 1e6, static_cast<long long>(iterations),
      static_cast<long long>(trues));

  // A heavier expression for context: filter + sum over 100 items.
  std::string items = "[";
  for (int i = 0; i < 100; ++i) {
    if (i > 0) items.push_back(',');
    items.append("{\"p\":").append(std::to_string(i)).push_back('}');
  }
  items += "]";
  auto doc = ValueFromJson("{\"items\":" + items + "}");
  ContextVariableResolver ctx_resolver(*doc);
  auto heavy = CompiledExpression::Compile("sum(items[p > 50].p)");
  const int heavy_runs = 100'000;
  start = Clock::now();
  for (int i = 0; i < heavy_runs; ++i) sink += Evaluate(**heavy, ctx_resolver, options).ok();
  double heavy_s = Seconds(Clock::now() - start);
  std::printf("sum(items[p > 50].p) over 100 items: %.2f us per evaluation\n",
              heavy_s / heavy_runs * 1e6);
  return sink == 0 ? 1 : 0;
}
