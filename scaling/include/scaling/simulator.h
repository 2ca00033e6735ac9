#pragma once
// Offline replay of a load trace through the policy (DESIGN section 8). Pure: no clock, no I/O
// beyond the JSON/table rendering of the report.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scaling/config.h"
#include "scaling/policy.h"
#include "scaling/trace.h"

namespace scaling {

// Effective scaling configuration at trace time t (seconds since the trace's t = 0). A schedule
// plugs in here; the default is a constant configuration.
using ConfigProvider = std::function<EffectiveConfig(double t)>;

struct SimulationReport {
  std::string policy;  // "threshold" | "target" (the policy at t = 0)
  int conferences = 0;
  double duration_seconds = 0;              // t of the last conference end
  double bridge_hours = 0;                  // Σ (delete - create), exact
  double billed_hours = 0;                  // Σ per instance max(1, ceil(hours))
  double oracle_bridge_hours = 0;           // ∫ ceil(P(t) / capacity) dt
  double participant_minutes = 0;           // Σ participants × duration
  double overload_participant_minutes = 0;  // on bridges with stress > 1
  int peak_bridges = 0;                     // most bridges existing at once (any state)
  int scale_ups = 0;                        // bridges created after t = 0
  int scale_downs = 0;                      // bridges drained
  int failed_bridges = 0;                   // removed for not joining within boot_timeout
  long long dropped_participants = 0;       // on a bridge deleted at drain timeout, or no bridge
  int decisions = 0;

  double overload_percent() const;
  double billed_over_oracle() const;
};

// Called after every decision (tests and the benchmark look at them).
using DecisionObserver = std::function<void(const Snapshot& snapshot, const Decision& decision)>;

// Throws std::invalid_argument (one sentence) when period_seconds or capacity_participants is
// not positive, or the conference list is empty.
SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const ConfigProvider& config,
                          const DecisionObserver& observer = {});
SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const EffectiveConfig& config,
                          const DecisionObserver& observer = {});

// ∫ ceil(P(t) / capacity) dt in hours: no fleet that keeps every bridge at stress <= 1 can
// run on fewer bridge-hours (ignoring billing granularity and conference stickiness).
// `floor_bridges` > 0 gives the bound for a fleet that never goes below that many bridges
// (min_bridges), from t = 0 to the last conference end.
double oracle_bridge_hours(const std::vector<Conference>& conferences, double capacity,
                           int floor_bridges = 0);

// Most participants at once.
int peak_participants(const std::vector<Conference>& conferences);

// Key order and rounding are fixed: the same report gives byte-identical JSON.
nlohmann::ordered_json report_to_json(const SimulationReport& report);
std::string report_to_table(const SimulationReport& report);

}  // namespace scaling
