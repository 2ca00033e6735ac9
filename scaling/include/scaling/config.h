#pragma once
// Scaling configuration (config.json section "scaling") and simulation parameters
// (section "simulation"). Plain values: parsing/validation lives in agent/config.
#include <optional>
#include <string>

namespace scaling {

enum class PolicyKind { kThreshold, kTarget };

struct ScalingConfig {
  PolicyKind policy = PolicyKind::kThreshold;
  int min_bridges = 1;
  int max_bridges = 10;
  // The defaults ARE the profile measured best on the shipped traces by
  // tests/bench/scaling_bench over 8 seeds of every trace kind (DESIGN.md section 4,
  // docs/scaling.md): early scale-up (0.45) with a trend lookahead of one boot time, scale-down
  // at 0.18 guarded against yo-yo, placement steering with holds, a learnt drain lead and drains
  // long enough for two-hour meetings. A config that sets a key still gets what it wrote.
  double scale_up_threshold = 0.45;
  double scale_down_threshold = 0.18;
  double target_stress = 0.4;
  int scale_up_periods = 2;
  int scale_down_periods = 10;
  double period_seconds = 10;
  int scale_up_step = 1;
  int scale_down_step = 1;
  double cooldown_seconds = 60;
  double boot_timeout_seconds = 900;
  double drain_timeout_seconds = 7200;
  // A managed bridge publishing healthy = false this long is replaced (shut down, deleted; it
  // stopped counting as capacity at once, so its replacement is created first).
  double unhealthy_timeout_seconds = 300;
  // After this many consecutive boots that never joined the brewery, creation is suspended
  // until a bridge joins, the config is reloaded or `ctl resume` (Snapshot::failed_boots).
  // 0: never suspended.
  int max_failed_boots = 3;
  // Billing-aware scale-down: Linode bills every started hour of an instance, so a bridge is
  // worth keeping until its paid hour nearly ends. A load-driven scale-down waits until the
  // victim is within `billing_drain_lead_seconds` of the end of its current paid period
  // (needs BridgeView::created_at; 0 disables). Pinned counts and max_bridges do not wait.
  double billing_period_seconds = 3600;
  double billing_drain_lead_seconds = 600;
  // Trend: the growth of Σ stress over the last `trend_window_seconds` is projected
  // `lookahead_seconds` ahead (about one boot time) and scale-up decisions use the projection,
  // so that a ramp gets capacity before the ready bridges fill up (180: one boot). 0 disables.
  double trend_window_seconds = 60;
  double lookahead_seconds = 180;
  // ---- Levers of issue 17 (measured in tests/bench/scaling_bench, docs/scaling.md). ----
  // Predictive headroom: scale-up also counts the load expected to arrive within this many
  // seconds (about one boot time plus a period), learnt online from the arrivals the brewery
  // shows and their :00/:30 periodicity (scaling::ArrivalPredictor). 0 disables.
  double predictive_headroom_seconds = 0;
  // Billing-aware drains learn how long drains really take (drain to empty): the lead before
  // the paid hour's end becomes max(billing_drain_lead_seconds, the 75th percentile of the last
  // drains) (scaling::DrainDurations), and victims within their lead go first.
  bool learn_drain_lead = true;
  // Victim choice by conference age: the bridge whose newest conference is oldest empties
  // first (needs BridgeView::newest_conference_age; bridges without it come after).
  bool drain_by_age = false;
  // No yo-yo: a load-driven scale-down never leaves a fleet whose projected mean stress would
  // exceed scale_up_threshold (threshold) or target_stress + 10 % (target).
  bool no_yoyo = true;
  // Placement steering with holds: a load-driven scale-down drains its victim at once (Jicofo
  // then packs new conferences onto the open bridges) and an emptied drained bridge is kept,
  // held, until its paid hour is about to end (billing_period_seconds > 0 and created_at known);
  // undrain before create releases held bridges first. 0/false disables.
  bool steer_holds = true;
  // Room for the largest conference. Jicofo places a new conference whole on the least-stressed
  // bridge, so the fleet's mean stress (which bounds the least-stressed bridge's) must leave
  // room for the largest conference that may start: `largest_conference_stress` (stress of the
  // largest conference to place whole, 0.6 = 60 participants on a 100-participant bridge).
  // With `learn_largest_conference`, the room is learnt from the bridges' `largest_conference`
  // stat once a day of it is known: twice the largest conference of the last 7 days (at least
  // 0.1, at most largest_conference_stress), and the scale-up line rises to 1 - room when that
  // is above scale_up_threshold (scale_down_threshold and target_stress rise in proportion).
  // Small meetings then run bridges fuller; a deployment that hosts large ones keeps its line.
  bool learn_largest_conference = true;
  double largest_conference_stress = 0.6;
};

// The profile measured best by tests/bench/scaling_bench (docs/scaling.md). It is the struct
// defaults now (issue 17: the default of every scaling key is the best measured profile); kept
// as a name for the benchmark and for callers that want "the recommended profile" explicitly.
// Predictive headroom and drain-by-age are measured but not in it (they cost more than they save
// on these traces).
inline ScalingConfig recommended_scaling_config() { return ScalingConfig{}; }

struct SimulationConfig {
  double capacity_participants = 100;
  double boot_seconds = 180;
  // Boots that fail (issue 16): the first `failed_boots` bridges the policy (or a plan) creates
  // never join the brewery; -1 means none ever joins, 0 (the default) means every boot works.
  // Such a bridge stays provisioning until scaling.boot_timeout_seconds, is then deleted (billed
  // like any instance) and feeds Snapshot::failed_boots. Deterministic: no seed.
  int failed_boots = 0;
  std::string start = "2026-01-05T00:00:00Z";  // calendar time of the trace's t = 0
};

// What a schedule (or nothing) makes of the scaling keys at one instant. The pure policy
// and the simulator receive this as input; they never read a clock or a calendar.
struct EffectiveConfig {
  ScalingConfig config;
  bool inhibit_scale_down = false;
  std::string window;  // name of the active schedule window, empty when none
};

}  // namespace scaling
