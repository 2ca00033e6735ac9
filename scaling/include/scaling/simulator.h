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
  // Bridges that never joined the brewery (simulation.failed_boots, or removed at the boot
  // timeout) and what they cost: Σ per instance max(1, ceil(hours)), part of billed_hours.
  int failed_boots = 0;
  double failed_boot_billed_hours = 0;
  // Participants of conferences re-placed whole when their bridge shut down at the drain timeout
  // (Jicofo moves them: a short reconnect, not a cut call).
  long long migrated_participants = 0;
  // Participants no bridge could take (no bridge at all when their conference started, or none
  // left to move them to when their bridge shut down).
  long long dropped_participants = 0;
  int decisions = 0;
  // Reversible drains used to steer placement (a bridge put on hold): a plan's kHold, or a
  // policy's load-driven drain with steer_holds (undone before anything is created).
  int holds = 0;
  int releases = 0;  // holds and drains undone (the bridge takes new conferences again)

  double overload_percent() const;
  double billed_over_oracle() const;
};

// Called after every decision (tests and the benchmark look at them).
using DecisionObserver = std::function<void(const Snapshot& snapshot, const Decision& decision)>;

// One row per decision period (`simulate --timeline`), taken after the decision was applied.
struct TimelineRow {
  double t = 0;
  long long participants = 0;  // connected at t
  int provisioning = 0;
  int ready = 0;  // ready and taking new conferences
  // Held: takes no new conference and can be released. Plans: kHold. Policy: a drained bridge
  // that has emptied and is kept until its paid hour ends (steer_holds).
  int held = 0;
  int draining = 0;  // draining towards deletion
  int desired = 0;   // the policy's desired count of non-draining bridges (plans: ready + held)
  long long overload_participants = 0;  // on bridges with stress > 1 at t
};

// Everything a replay may record besides the report.
struct ReplayHooks {
  DecisionObserver observer;
  std::vector<TimelineRow>* timeline = nullptr;  // filled once per period when set
  double timeline_period_seconds = 0;            // plans only (no decision period): 0 means 60 s
  // The simulated agent can undo its drains (Snapshot::can_undrain); false measures the policy
  // without "undrain before create".
  bool can_undrain = true;
  // A policy with history (scaling_bench's warm runs): the learnt state it starts from
  // (Policy::restore_learned_state) and where to put the one it ends with; the policy's clock
  // is trace time + policy_time_offset (seconds: a whole number of days keeps the :00/:30 and
  // week alignment), so a run can follow the day it learnt from.
  const nlohmann::json* learned_in = nullptr;
  nlohmann::json* learned_out = nullptr;
  double policy_time_offset = 0;
};

// A fleet plan made offline (the clairvoyant planner in tests/bench), replayed by the same
// bridge model as the policy: bridge ids are 0..initial_bridges-1 for the bridges ready at t = 0,
// then one per kCreate in the order of the actions (actions are applied in time order; at equal
// times in the order given, after conference ends and boots and before conference starts).
enum class PlanStep {
  kCreate,   // a new bridge, ready boot_seconds later
  kHold,     // takes no new conference (a drain that the plan may undo)
  kRelease,  // takes new conferences again
  kDelete,   // shut down and deleted; conferences still on it are migrated
};
struct PlannedAction {
  double time = 0;
  PlanStep step = PlanStep::kCreate;
  int bridge = 0;
};
struct FleetPlan {
  int initial_bridges = 0;
  std::vector<PlannedAction> actions;
};

// Throws std::invalid_argument (one sentence) when period_seconds or capacity_participants is
// not positive, or the conference list is empty.
SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const ConfigProvider& config,
                          const DecisionObserver& observer = {});
SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const EffectiveConfig& config,
                          const DecisionObserver& observer = {});
SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const ConfigProvider& config,
                          const ReplayHooks& hooks);

// Replays a fleet plan (no policy): the independent check of a planner's claims. Throws
// std::invalid_argument on an empty trace, a non-positive capacity or an action naming a bridge
// that does not exist (yet).
SimulationReport replay_plan(const std::vector<Conference>& conferences,
                             const SimulationConfig& simulation, const FleetPlan& plan,
                             const ReplayHooks& hooks = {});

// A lower bound on billed hours for any fleet that keeps every bridge at stress <= 1 and never
// has fewer than `floor_bridges` bridges from t = 0 to the last conference end, even if
// conferences could move freely between bridges (no stickiness, no boot delay): every billed hour
// is a block of one hour, and the fewest one-hour blocks covering max(floor, ceil(P(t)/capacity))
// at every instant are found by the greedy sweep (open blocks at the first uncovered instant).
double hourly_lower_bound(const std::vector<Conference>& conferences, double capacity,
                          int floor_bridges, double billing_period_seconds = 3600);

// CSV (header + one line per row) for `simulate --timeline`.
std::string timeline_to_csv(const std::vector<TimelineRow>& rows);

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
