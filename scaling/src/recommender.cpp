#include "scaling/recommender.h"

#include <algorithm>
#include <cmath>

#include "format.h"

namespace scaling {

Recommendation ThresholdRecommender::recommend(const LoadView& load, const ScalingConfig& config) {
  Recommendation out{load.current, {}};
  const std::string current_text = std::to_string(load.current);
  if (!load.mean) {
    periods_above_ = 0;
    periods_below_ = 0;
    out.reason = "no ready bridge reports stress: hold at " + current_text;
    return out;
  }
  const double mean = *load.mean;
  const double projected_mean = load.projected_sum / load.denominator;
  const std::string mean_text =
      "mean stress " + format_number(mean) +
      (projected_mean > mean + 1e-9 ? " (" + format_number(projected_mean) + " projected)" : "");
  if (projected_mean > config.scale_up_threshold) {
    ++periods_above_;
    periods_below_ = 0;
    out.reason = mean_text + " > " + format_number(config.scale_up_threshold) + " for " +
                 std::to_string(periods_above_) + " periods";
    if (periods_above_ >= config.scale_up_periods) {
      if (load.cooling_down) {
        out.reason += load.cooldown_note;
      } else {
        out.desired = load.current + std::max(1, config.scale_up_step);
        out.reason += ": scale up " + current_text + " -> " + std::to_string(out.desired);
      }
    } else {
      out.reason += " (of " + std::to_string(config.scale_up_periods) + "): hold";
    }
  } else if (mean < config.scale_down_threshold) {
    ++periods_below_;
    periods_above_ = 0;
    out.reason = mean_text + " < " + format_number(config.scale_down_threshold) + " for " +
                 std::to_string(periods_below_) + " periods";
    if (periods_below_ >= config.scale_down_periods) {
      if (load.cooling_down) {
        out.reason += load.cooldown_note;
      } else {
        out.desired = load.current - std::max(1, config.scale_down_step);
        out.reason += ": scale down " + current_text + " -> " + std::to_string(out.desired);
      }
    } else {
      out.reason += " (of " + std::to_string(config.scale_down_periods) + "): hold";
    }
  } else {
    periods_above_ = 0;
    periods_below_ = 0;
    out.reason = mean_text + " within [" + format_number(config.scale_down_threshold) + ", " +
                 format_number(config.scale_up_threshold) + "]: hold at " + current_text;
  }
  return out;
}

Recommendation TargetRecommender::recommend(const LoadView& load, const ScalingConfig& config) {
  Recommendation out{load.current, {}};
  const std::string current_text = std::to_string(load.current);
  int recommendation = load.current;
  std::string basis;
  if (load.mean && config.target_stress > 0) {
    const double ratio = load.projected_sum / load.denominator / config.target_stress;
    basis = "stress sum " + format_number(load.stress_sum) + load.projection_note + " / target " +
            format_number(config.target_stress);
    if (std::fabs(ratio - 1.0) > kTargetTolerance) {
      // Small epsilon: 1.8 / 0.6 must give 3, not 4.
      recommendation =
          static_cast<int>(std::ceil(load.projected_sum / config.target_stress - 1e-9));
    }
    basis += " -> " + std::to_string(recommendation);
  } else {
    basis = "no ready bridge reports stress";
  }
  const double window = std::max(0, config.scale_down_periods) * config.period_seconds;
  history_.push_back({load.now, recommendation});
  while (!history_.empty() && history_.front().time <= load.now - window && history_.size() > 1) {
    history_.pop_front();
  }
  if (recommendation > load.current) {
    out.desired = recommendation;
    out.reason = basis + ": scale up " + current_text + " -> " + std::to_string(out.desired);
    return out;
  }
  int stabilised = recommendation;
  for (const auto& past : history_) stabilised = std::max(stabilised, past.count);
  if (stabilised < load.current) {
    out.reason = basis + ", highest of the last " + format_number(window, 0) + " s is " +
                 std::to_string(stabilised);
    if (load.cooling_down) {
      out.reason += load.cooldown_note;
    } else {
      out.desired = stabilised;
      out.reason += ": scale down " + current_text + " -> " + std::to_string(out.desired);
    }
  } else {
    out.reason = basis + ": hold at " + current_text;
  }
  return out;
}

}  // namespace scaling
