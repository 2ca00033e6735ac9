#pragma once
// Levers of issue 17 as small pure components the policy uses (no I/O, no clock reads).
#include <array>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scaling/config.h"

namespace scaling {

// Predictive headroom: how much load (Σ stress, i.e. bridges' worth of participants) is expected
// to *arrive* within the next seconds, learned online from what the brewery shows. Meetings bunch
// on :00 and :30, so arrivals are kept per minute of the half hour (the shape) and per half hour
// of the week (so a working week is learnt from the agent's own history), plus a recent rate.
// Bounded state (30 + 336 numbers and a few scalars) that the agent can persist as JSON.
// `now` is seconds since the Unix epoch (or any epoch aligned on a half hour: the simulator's
// trace start).
class ArrivalPredictor {
 public:
  static constexpr int kPhaseBins = 30;   // one per minute of the half hour
  static constexpr int kWeekSlots = 336;  // half hours in a week

  // Σ stress that arrived since the previous observation (gross: increases only), at `now`.
  void observe(double now, double arrivals);
  // Σ stress expected to arrive in [now, now + horizon).
  double expected(double now, double horizon) const;

  nlohmann::json to_json() const;
  // Unknown or malformed state gives an empty predictor (never throws).
  static ArrivalPredictor from_json(const nlohmann::json& state);

 private:
  double cycle_estimate(long long slot) const;
  double share(int minute) const;  // of a half hour's arrivals in that minute

  std::array<double, kPhaseBins> phase_{};  // learnt shape (sums to 1 once learnt)
  bool phase_known_ = false;
  std::array<double, kWeekSlots> week_{};  // arrivals per half hour of the week; < 0: unknown
  bool week_initialised_ = false;
  double recent_ = -1;   // EWMA of arrivals per half hour; < 0: unknown
  long long slot_ = -1;  // the half hour being accumulated
  double slot_sum_ = 0;
  std::array<double, kPhaseBins> slot_phase_{};
};

// How long drains really take (drain start to empty), learnt from the bridges this agent drained:
// the billing-aware scale-down starts a drain that long before the victim's paid hour ends.
// Bounded: the last 32 durations.
class DrainDurations {
 public:
  static constexpr std::size_t kKept = 32;
  void record(double seconds);
  // The 75th percentile of the kept durations, or `fallback` while none is known.
  double lead(double fallback) const;
  std::size_t size() const noexcept { return durations_.size(); }
  nlohmann::json to_json() const;
  static DrainDurations from_json(const nlohmann::json& state);

 private:
  std::deque<double> durations_;
};

// The largest conference the bridges have carried, per hour of the last week (in stress: the
// conference's participants times its bridge's stress per participant), from JVB's
// `largest_conference` stat. Bounded: a week of hourly maxima (169). `now` is seconds since any
// epoch.
class LargestConference {
 public:
  // A week: a quiet Sunday must not forget Monday's all-hands, nor a quiet morning yesterday's.
  static constexpr double kWindow = 7 * 86'400;
  static constexpr double kHistory = 86'400;  // relaxed only after a whole day is known
  static constexpr std::size_t kHours = 7 * 24 + 1;
  static constexpr double kMinRoom = 0.1;
  void observe(double now, double stress);
  // Twice the largest conference of the last week, clamped to [kMinRoom, cap], once a whole
  // day has been observed; `cap` until then (a morning of small meetings says little about the
  // all-hands at 11).
  double room(double now, double cap) const;
  nlohmann::json to_json() const;
  static LargestConference from_json(const nlohmann::json& state);

 private:
  std::deque<std::pair<double, double>> hours_;  // (start of the hour, largest stress in it)
  std::optional<double> since_;                  // first observation
};

// check-config: threshold pairs that flap on a flat load. With mean stress = L / n, a flat load L
// (in bridges' worth of participants) with up*(n-1) < L < down*n is below scale_down_threshold on
// n bridges and above scale_up_threshold on n-1: the fleet goes up and down forever (unless the
// no-yo-yo guard is on). One sentence per flapping bridge count n in [2, max_bridges] (at most 3),
// naming the participants range when capacity_participants > 0.
std::vector<std::string> flap_warnings(const ScalingConfig& config,
                                       double capacity_participants = 100);

}  // namespace scaling
