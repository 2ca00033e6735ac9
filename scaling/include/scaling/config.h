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
};

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
