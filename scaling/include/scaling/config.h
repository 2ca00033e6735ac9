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
  // The defaults are the documented contract (DESIGN.md section 4); the profile measured
  // best on the shipped traces is recommended_scaling_config() below (docs/scaling.md).
  double scale_up_threshold = 0.7;
  double scale_down_threshold = 0.3;
  double target_stress = 0.6;
  int scale_up_periods = 2;
  int scale_down_periods = 10;
  double period_seconds = 10;
  int scale_up_step = 1;
  int scale_down_step = 1;
  double cooldown_seconds = 60;
  double boot_timeout_seconds = 900;
  double drain_timeout_seconds = 3600;
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
  // (needs BridgeView::created_at; 0 disables, the default). Pinned counts and max_bridges do
  // not wait.
  double billing_period_seconds = 0;
  double billing_drain_lead_seconds = 600;
  // Trend: the growth of Σ stress over the last `trend_window_seconds` is projected
  // `lookahead_seconds` ahead (about one boot time) and scale-up decisions use the projection,
  // so that a ramp gets capacity before the ready bridges fill up. 0 disables (the default).
  double trend_window_seconds = 60;
  double lookahead_seconds = 0;
};

// The profile tuned with tests/bench/scaling_bench on the shipped traces (docs/scaling.md):
// earlier scale-up, billing-aware scale-down, trend lookahead of one boot time, and drains
// long enough for two-hour meetings. Opt in by copying these keys into config.json.
inline ScalingConfig recommended_scaling_config() {
  ScalingConfig config;
  config.scale_up_threshold = 0.45;
  config.scale_down_threshold = 0.18;
  config.target_stress = 0.4;
  config.drain_timeout_seconds = 7200;
  config.billing_period_seconds = 3600;
  config.billing_drain_lead_seconds = 600;
  config.trend_window_seconds = 60;
  config.lookahead_seconds = 180;
  return config;
}

struct SimulationConfig {
  double capacity_participants = 100;
  double boot_seconds = 180;
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
