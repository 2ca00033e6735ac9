#pragma once
// The scaling profile that tests written against the contract's old defaults assume (DESIGN.md
// section 4 before issue 17): thresholds 0.7/0.3, target 0.6, prompt drains (no billing wait)
// and every lever of issue 17 off. The struct defaults of scaling::ScalingConfig are the profile
// the benchmark measures best and may change again; a test whose numbers depend on the profile
// pins this one instead, so it does not move when the defaults do.
//
// classic_scaling_profile() pins EVERY key whose default is the measured profile's choice
// (thresholds, periods, cooldown, drains, billing, trend, levers); min/max_bridges, policy,
// steps, boot/unhealthy timeouts and max_failed_boots are left to the caller (pass a config to
// keep them); classic_effective_config() is the same as the policy's input.
// classic_scaling_json() is the same keys as a config.json "scaling" fragment (the key table's
// names, scaling/src/keys.cpp) for process-level tests, with the test's own keys on top.
#include <nlohmann/json.hpp>

#include "scaling/config.h"

namespace test_support {

inline scaling::ScalingConfig classic_scaling_profile(
    scaling::ScalingConfig config = scaling::ScalingConfig{}) {
  config.scale_up_threshold = 0.7;
  config.scale_down_threshold = 0.3;
  config.target_stress = 0.6;
  config.scale_up_periods = 2;
  config.scale_down_periods = 10;
  config.period_seconds = 10;
  config.cooldown_seconds = 60;
  config.drain_timeout_seconds = 3600;
  config.billing_period_seconds = 0;
  config.billing_drain_lead_seconds = 600;
  config.trend_window_seconds = 60;
  config.lookahead_seconds = 0;
  config.predictive_headroom_seconds = 0;
  config.learn_drain_lead = false;
  config.drain_by_age = false;
  config.no_yoyo = false;
  config.steer_holds = false;
  config.learn_largest_conference = false;
  return config;
}

// classic_scaling_profile() as the policy's input, with no schedule window in force.
inline scaling::EffectiveConfig classic_effective_config() {
  scaling::EffectiveConfig effective;
  effective.config = classic_scaling_profile();
  return effective;
}

// The keys classic_scaling_profile() pins, with its values, as a "scaling" JSON object.
inline nlohmann::json classic_scaling_json() {
  const scaling::ScalingConfig c = classic_scaling_profile();
  return {{"scale_up_threshold", c.scale_up_threshold},
          {"scale_down_threshold", c.scale_down_threshold},
          {"target_stress", c.target_stress},
          {"scale_up_periods", c.scale_up_periods},
          {"scale_down_periods", c.scale_down_periods},
          {"period_seconds", c.period_seconds},
          {"cooldown_seconds", c.cooldown_seconds},
          {"drain_timeout_seconds", c.drain_timeout_seconds},
          {"billing_period_seconds", c.billing_period_seconds},
          {"billing_drain_lead_seconds", c.billing_drain_lead_seconds},
          {"trend_window_seconds", c.trend_window_seconds},
          {"lookahead_seconds", c.lookahead_seconds},
          {"predictive_headroom_seconds", c.predictive_headroom_seconds},
          {"learn_drain_lead", c.learn_drain_lead},
          {"drain_by_age", c.drain_by_age},
          {"no_yoyo", c.no_yoyo},
          {"steer_holds", c.steer_holds},
          {"learn_largest_conference", c.learn_largest_conference}};
}

// classic_scaling_json() with `overrides` on top (the test's own keys win).
inline nlohmann::json classic_scaling_json(const nlohmann::json& overrides) {
  nlohmann::json scaling = classic_scaling_json();
  scaling.update(overrides);
  return scaling;
}

}  // namespace test_support
