#pragma once
// How many non-draining bridges the load asks for: the threshold and the target policies as two
// recommenders behind one interface (issue 14). Pure: the time is an input; each keeps only
// what it must remember between periods.
#include <deque>
#include <optional>
#include <string>

#include "scaling/config.h"

namespace scaling {

// The load as the recommenders see it, after cleanup and operator requests.
struct LoadView {
  double now = 0;
  int current = 0;              // non-draining bridges (ready + provisioning)
  std::optional<double> mean;   // Σ stress / denominator; nullopt: nobody reports
  double stress_sum = 0;        // Σ stress of ready bridges with known stress
  double projected_sum = 0;     // stress_sum projected by the trend (>= stress_sum)
  int denominator = 0;          // ready bridges with known stress + provisioning
  bool cooling_down = false;    // within cooldown_seconds of the last action
  std::string cooldown_note;    // " but cooling down (N s left)" or empty
  std::string projection_note;  // " (rising: X projected in N s)" or empty
};

struct Recommendation {
  int desired = 0;     // == current: hold
  std::string reason;  // the load's verdict, first part of the decision's sentence
};

class Recommender {
 public:
  virtual ~Recommender() = default;
  virtual Recommendation recommend(const LoadView& load, const ScalingConfig& config) = 0;
  // The policy scaled (up or down) this period.
  virtual void acted() noexcept {}
  // The agent went blind: streaks start over.
  virtual void blinded() noexcept {}
  virtual void reset() noexcept = 0;
};

// Threshold policy: mean stress above scale_up_threshold for scale_up_periods periods adds
// scale_up_step bridges; below scale_down_threshold for scale_down_periods removes
// scale_down_step.
class ThresholdRecommender final : public Recommender {
 public:
  Recommendation recommend(const LoadView& load, const ScalingConfig& config) override;
  void acted() noexcept override { periods_above_ = periods_below_ = 0; }
  void blinded() noexcept override { periods_above_ = periods_below_ = 0; }
  void reset() noexcept override { periods_above_ = periods_below_ = 0; }

 private:
  int periods_above_ = 0;
  int periods_below_ = 0;
};

// The target policy treats a mean stress within ±10 % of target_stress as "on target" (no
// change), so that small fluctuations do not flap the fleet (HPA's default tolerance).
inline constexpr double kTargetTolerance = 0.1;

// Target policy (Kubernetes HPA's algorithm): ceil(Σ stress / target_stress), at once upwards,
// downwards only to the highest recommendation of the last scale_down_periods periods.
class TargetRecommender final : public Recommender {
 public:
  Recommendation recommend(const LoadView& load, const ScalingConfig& config) override;
  void reset() noexcept override { history_.clear(); }

 private:
  struct Past {
    double time;
    int count;
  };
  std::deque<Past> history_;  // the stabilisation window
};

}  // namespace scaling
