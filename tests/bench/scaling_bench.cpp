// scaling_bench: every shipped trace through both policies and the two baselines (static
// provisioning at peak, oracle lower bound), then the decision time at 2,000 bridges.
// A program that prints tables, not a timed test: ctest only runs `--quick` to keep it building.
//
//   scaling_bench [--traces DIR] [--set key=value ...] [--quick]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "scaling/policy.h"
#include "scaling/simulator.h"
#include "scaling/trace.h"

namespace {

namespace fs = std::filesystem;
using scaling::EffectiveConfig;
using scaling::PolicyKind;
using scaling::ScalingConfig;

// `--set key=value` for the numeric scaling keys (used to tune the defaults).
bool apply_setting(ScalingConfig& config, const std::string& setting) {
  const auto equals = setting.find('=');
  if (equals == std::string::npos) return false;
  const std::string key = setting.substr(0, equals);
  char* end = nullptr;
  const double value = std::strtod(setting.c_str() + equals + 1, &end);
  if (end == setting.c_str() + equals + 1 || *end != '\0') return false;
  const std::map<std::string, std::function<void()>> setters = {
      {"min_bridges", [&] { config.min_bridges = static_cast<int>(value); }},
      {"max_bridges", [&] { config.max_bridges = static_cast<int>(value); }},
      {"scale_up_threshold", [&] { config.scale_up_threshold = value; }},
      {"scale_down_threshold", [&] { config.scale_down_threshold = value; }},
      {"target_stress", [&] { config.target_stress = value; }},
      {"scale_up_periods", [&] { config.scale_up_periods = static_cast<int>(value); }},
      {"scale_down_periods", [&] { config.scale_down_periods = static_cast<int>(value); }},
      {"period_seconds", [&] { config.period_seconds = value; }},
      {"scale_up_step", [&] { config.scale_up_step = static_cast<int>(value); }},
      {"scale_down_step", [&] { config.scale_down_step = static_cast<int>(value); }},
      {"cooldown_seconds", [&] { config.cooldown_seconds = value; }},
      {"drain_timeout_seconds", [&] { config.drain_timeout_seconds = value; }},
      {"billing_period_seconds", [&] { config.billing_period_seconds = value; }},
      {"billing_drain_lead_seconds", [&] { config.billing_drain_lead_seconds = value; }},
      {"trend_window_seconds", [&] { config.trend_window_seconds = value; }},
      {"lookahead_seconds", [&] { config.lookahead_seconds = value; }},
      {"policy_target",
       [&] { config.policy = value != 0 ? PolicyKind::kTarget : PolicyKind::kThreshold; }},
  };
  const auto found = setters.find(key);
  if (found == setters.end()) return false;
  found->second();
  return true;
}

struct Row {
  std::string trace;
  std::string strategy;
  scaling::SimulationReport report;
  double floor_oracle = 0;  // oracle for a fleet never below min_bridges
};

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

void print_table(const std::vector<Row>& rows) {
  std::printf("| %-12s | %-23s | %6s | %6s | %6s | %9s | %10s | %4s | %5s | %4s | %7s |\n", "trace",
              "strategy", "billed", "oracle", "ratio", "ratio/min", "overload %", "ups", "downs",
              "peak", "dropped");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(14, '-').c_str(),
              std::string(25, '-').c_str(), std::string(8, '-').c_str(),
              std::string(8, '-').c_str(), std::string(8, '-').c_str(),
              std::string(11, '-').c_str(), std::string(12, '-').c_str(),
              std::string(6, '-').c_str(), std::string(7, '-').c_str(), std::string(6, '-').c_str(),
              std::string(9, '-').c_str());
  for (const auto& row : rows) {
    const auto& r = row.report;
    std::printf("| %-12s | %-23s | %6s | %6s | %6s | %9s | %10s | %4d | %5d | %4d | %7lld |\n",
                row.trace.c_str(), row.strategy.c_str(), fixed(r.billed_hours, 0).c_str(),
                fixed(r.oracle_bridge_hours, 1).c_str(), fixed(r.billed_over_oracle(), 3).c_str(),
                fixed(row.floor_oracle > 0 ? r.billed_hours / row.floor_oracle : 0, 3).c_str(),
                fixed(r.overload_percent(), 4).c_str(), r.scale_ups, r.scale_downs, r.peak_bridges,
                r.dropped_participants);
  }
}

struct Timing {
  double median_us = 0;
  double p99_us = 0;
  int actions = 0;
};

// Decision time of Policy::decide over `bridges` bridges (mixed states, 10 % unmanaged).
// `scale_down_every_time`: light load and a fresh policy per call, so every decision sorts
// the candidates and drains (the most expensive path).
Timing time_decisions(int bridges, int repetitions, PolicyKind kind, bool scale_down_every_time) {
  std::mt19937 random(42);
  scaling::Snapshot snapshot;
  for (int i = 0; i < bridges; ++i) {
    scaling::BridgeView bridge;
    bridge.name = "jvb-as-" + std::to_string(i);
    bridge.state = i % 50 == 0 ? scaling::BridgeState::kProvisioning : scaling::BridgeState::kReady;
    bridge.managed = i % 10 != 0;
    bridge.created_at = 0;
    // Steady: mean stress ~0.4, inside both policies' hold band. Scale-down: ~0.05.
    const int participants = scale_down_every_time
                                 ? std::uniform_int_distribution<int>(0, 10)(random)
                                 : std::uniform_int_distribution<int>(30, 50)(random);
    if (bridge.state == scaling::BridgeState::kReady) {
      bridge.participants = participants;
      bridge.stress = *bridge.participants / 100.0;
    }
    snapshot.bridges.push_back(bridge);
  }
  EffectiveConfig effective;
  effective.config.policy = kind;
  effective.config.max_bridges = bridges * 2;
  effective.config.scale_down_periods = 1;
  effective.config.cooldown_seconds = 0;
  effective.config.scale_down_step = 5;
  effective.config.billing_period_seconds = 0;
  scaling::Policy policy;
  std::vector<double> micros;
  Timing timing;
  for (int i = 0; i < repetitions; ++i) {
    snapshot.now = i * 10.0;
    if (scale_down_every_time) policy.reset();
    const auto start = std::chrono::steady_clock::now();
    const scaling::Decision decision = policy.decide(snapshot, effective);
    const auto stop = std::chrono::steady_clock::now();
    timing.actions += decision.drain.empty() && decision.create == 0 ? 0 : 1;
    micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(micros.begin(), micros.end());
  timing.median_us = micros[micros.size() / 2];
  timing.p99_us = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  return timing;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef JVB_TRACES_DIR
  fs::path traces_dir = JVB_TRACES_DIR;
#else
  fs::path traces_dir = "traces";
#endif
  bool quick = false;
  ScalingConfig base;                                        // the contract defaults
  ScalingConfig tuned = scaling::recommended_scaling_config();  // the recommended profile
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--quick") {
      quick = true;
    } else if (argument == "--traces" && i + 1 < argc) {
      traces_dir = argv[++i];
    } else if (argument == "--set" && i + 1 < argc) {
      const std::string setting = argv[++i];
      if (!apply_setting(base, setting) || !apply_setting(tuned, setting)) {
        std::cerr << "scaling_bench: --set expects a numeric scaling key=value, got " << argv[i]
                  << "\n";
        return 2;
      }
    } else {
      std::cerr << "usage: scaling_bench [--traces DIR] [--set key=value ...] [--quick]\n";
      return 2;
    }
  }

  std::vector<fs::path> traces;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(traces_dir, error)) {
    if (entry.path().extension() == ".csv") traces.push_back(entry.path());
  }
  if (error || traces.empty()) {
    std::cerr << "scaling_bench: no *.csv trace in " << traces_dir.string() << "\n";
    return 2;
  }
  std::sort(traces.begin(), traces.end());
  if (quick) traces.resize(1);

  const scaling::SimulationConfig simulation;  // capacity 100, boot 180 s
  std::printf(
      "config: min %d max %d, threshold up %.2f x%d / down %.2f x%d, target %.2f, "
      "period %.0f s, cooldown %.0f s, steps %d/%d; capacity %.0f, boot %.0f s\n\n",
      base.min_bridges, base.max_bridges, base.scale_up_threshold, base.scale_up_periods,
      base.scale_down_threshold, base.scale_down_periods, base.target_stress, base.period_seconds,
      base.cooldown_seconds, base.scale_up_step, base.scale_down_step,
      simulation.capacity_participants, simulation.boot_seconds);

  std::vector<Row> rows;
  bool target_met = true;
  for (const auto& path : traces) {
    std::ifstream in(path);
    std::vector<scaling::Conference> trace;
    try {
      trace = scaling::read_trace(in, path.filename().string());
    } catch (const scaling::TraceError& trace_error) {
      std::cerr << "scaling_bench: " << trace_error.what() << "\n";
      return 2;
    }
    const std::string name = path.stem().string();
    const double floor_oracle = scaling::oracle_bridge_hours(
        trace, simulation.capacity_participants, std::max(0, base.min_bridges));
    // Each policy with the contract defaults and with the recommended (tuned) profile.
    for (bool recommended : {false, true}) {
      for (PolicyKind kind : {PolicyKind::kThreshold, PolicyKind::kTarget}) {
        EffectiveConfig effective;
        effective.config = recommended ? tuned : base;
        effective.config.policy = kind;
        const auto report = scaling::simulate(trace, simulation, effective);
        if (recommended) {
          target_met = target_met && report.billed_over_oracle() <= 1.15 &&
                       report.overload_percent() <= 0.1;
        }
        rows.push_back({name,
                        std::string(kind == PolicyKind::kThreshold ? "threshold" : "target") +
                            (recommended ? " (recommended)" : " (defaults)"),
                        report, floor_oracle});
      }
    }
    const int peak_bridges = static_cast<int>(
        std::ceil(scaling::peak_participants(trace) / simulation.capacity_participants - 1e-9));
    EffectiveConfig fixed_fleet;
    fixed_fleet.config = base;
    fixed_fleet.config.min_bridges = std::max(1, peak_bridges);
    fixed_fleet.config.max_bridges = std::max(1, peak_bridges);
    rows.push_back({name, "static at peak (" + std::to_string(peak_bridges) + ")",
                    scaling::simulate(trace, simulation, fixed_fleet), floor_oracle});
    scaling::SimulationReport oracle;
    oracle.oracle_bridge_hours =
        scaling::oracle_bridge_hours(trace, simulation.capacity_participants);
    oracle.billed_hours = oracle.oracle_bridge_hours;
    rows.push_back({name, "oracle (bound)", oracle, floor_oracle});
  }
  print_table(rows);
  std::printf(
      "\ntarget (billed <= 1.15 x oracle, overload <= 0.1 %%) met by both policies on "
      "every trace: %s\n\n",
      target_met ? "yes" : "no");

  const int repetitions = quick ? 20 : 2000;
  for (PolicyKind kind : {PolicyKind::kThreshold, PolicyKind::kTarget}) {
    const char* label = kind == PolicyKind::kThreshold ? "threshold" : "target";
    const Timing steady = time_decisions(2000, repetitions, kind, false);
    const Timing down = time_decisions(2000, repetitions, kind, true);
    std::printf(
        "decision time, 2000 bridges, %-9s: steady %.1f us median / %.1f us p99; "
        "scale-down %.1f us median / %.1f us p99 (%d decisions each)\n",
        label, steady.median_us, steady.p99_us, down.median_us, down.p99_us, repetitions);
    if (down.actions == 0) {
      std::fprintf(stderr, "scaling_bench: the scale-down timing case never scaled down\n");
      return 1;
    }
  }
  return 0;
}
