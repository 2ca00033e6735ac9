// trace-gen: synthetic load traces for `jvb-autoscaler simulate` and the scaling benchmark.
// Deterministic: the same --kind and --seed always give the same CSV (std::mt19937 with only
// integer draws and fixed arithmetic, so the output does not depend on the C++ library's
// distribution implementations).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "generators.h"
#include "scaling/trace.h"

int main(int argc, char** argv) {
  CLI::App app{
      "trace-gen: writes a synthetic conference trace (CSV start_s,duration_s,participants)"};
  std::string kind;
  std::uint32_t seed = 1;
  std::string out_path;
  double scale = 1.0;
  app.add_option("--kind", kind, "workday | flash-crowd | weekend | webinar")
      ->required()
      ->check(CLI::IsMember(tracegen::kinds()));
  app.add_option("--seed", seed, "Random seed (same seed, same trace)");
  app.add_option("--scale", scale, "Multiplies the workday meeting rate")
      ->check(CLI::Range(0.01, 100.0));
  app.add_option("--out", out_path, "Output file (default: standard output)");
  CLI11_PARSE(app, argc, argv);

  const std::vector<scaling::Conference> trace = tracegen::generate(kind, seed, scale);
  if (trace.empty()) {
    std::cerr << "trace-gen: the " << kind << " trace came out empty; try another --seed\n";
    return 1;
  }
  if (out_path.empty()) {
    scaling::write_trace(std::cout, trace);
    return 0;
  }
  std::ofstream out(out_path);
  scaling::write_trace(out, trace);
  out.close();
  if (!out) {
    std::cerr << "trace-gen: cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}
