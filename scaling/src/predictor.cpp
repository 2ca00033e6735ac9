#include "scaling/predictor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace scaling {
namespace {

constexpr double kHalfHour = 1800;
constexpr double kRecentWeight = 0.5;  // EWMA weight of the half hour just finished
constexpr double kPhaseWeight = 0.2;
constexpr double kWeekWeight = 0.5;

long long slot_of(double now) { return static_cast<long long>(std::floor(now / kHalfHour)); }

int minute_of(double now) {
  const double in_slot = now - std::floor(now / kHalfHour) * kHalfHour;
  return std::clamp(static_cast<int>(in_slot / 60), 0, ArrivalPredictor::kPhaseBins - 1);
}

int week_index(long long slot) {
  const long long index = slot % ArrivalPredictor::kWeekSlots;
  return static_cast<int>(index < 0 ? index + ArrivalPredictor::kWeekSlots : index);
}

}  // namespace

void ArrivalPredictor::observe(double now, double arrivals) {
  if (!std::isfinite(now) || !std::isfinite(arrivals)) return;
  if (!week_initialised_) {
    week_.fill(-1);
    week_initialised_ = true;
  }
  const long long slot = slot_of(now);
  if (slot != slot_) {
    if (slot_ >= 0 && slot > slot_) {
      // The half hour just finished: its total and its shape.
      recent_ = recent_ < 0 ? slot_sum_ : kRecentWeight * slot_sum_ + (1 - kRecentWeight) * recent_;
      double& week = week_[week_index(slot_)];
      week = week < 0 ? slot_sum_ : kWeekWeight * slot_sum_ + (1 - kWeekWeight) * week;
      if (slot_sum_ > 0) {
        for (int m = 0; m < kPhaseBins; ++m) {
          const double observed = slot_phase_[m] / slot_sum_;
          phase_[m] =
              phase_known_ ? kPhaseWeight * observed + (1 - kPhaseWeight) * phase_[m] : observed;
        }
        phase_known_ = true;
      }
      // Half hours skipped entirely (no observation) count as empty for the recent rate.
      for (long long gap = slot_ + 1; gap < slot && gap < slot_ + kWeekSlots; ++gap) {
        recent_ *= 1 - kRecentWeight;
      }
    }
    slot_ = slot;
    slot_sum_ = 0;
    slot_phase_.fill(0);
  }
  if (arrivals > 0) {
    slot_sum_ += arrivals;
    slot_phase_[minute_of(now)] += arrivals;
  }
}

double ArrivalPredictor::share(int minute) const {
  return phase_known_ ? phase_[minute] : 1.0 / kPhaseBins;
}

double ArrivalPredictor::cycle_estimate(long long slot) const {
  double estimate = std::max(0.0, recent_);
  if (week_initialised_) estimate = std::max(estimate, week_[week_index(slot)]);
  return estimate;
}

double ArrivalPredictor::expected(double now, double horizon) const {
  if (!(horizon > 0) || !std::isfinite(now)) return 0;
  double total = 0;
  // Minute by minute over the horizon (bounded: at most one day of minutes).
  const double end = now + std::min(horizon, 86400.0);
  for (double t = now; t < end;) {
    const long long slot = slot_of(t);
    const int minute = minute_of(t);
    const double minute_end = slot * kHalfHour + (minute + 1) * 60.0;
    const double until = std::min(end, minute_end);
    const double fraction = (until - t) / 60.0;
    double cycle = cycle_estimate(slot);
    if (slot == slot_) {
      // The current half hour already shows more than the estimate: trust what it shows.
      double seen_share = 0;
      for (int m = 0; m <= minute_of(now) && m < kPhaseBins; ++m) seen_share += share(m);
      if (seen_share > 0.05) cycle = std::max(cycle, slot_sum_ / seen_share);
    }
    total += cycle * share(minute) * fraction;
    t = until > t ? until : t + 60;
  }
  return total;
}

nlohmann::json ArrivalPredictor::to_json() const {
  nlohmann::json state;
  state["version"] = 1;
  state["phase"] = phase_known_ ? nlohmann::json(phase_) : nlohmann::json(nullptr);
  nlohmann::json week = nlohmann::json::array();
  for (const double value : week_) {
    week.push_back(week_initialised_ && value >= 0 ? nlohmann::json(value) : nullptr);
  }
  state["week"] = week;
  state["recent"] = recent_ >= 0 ? nlohmann::json(recent_) : nlohmann::json(nullptr);
  state["slot"] = slot_;
  state["slot_sum"] = slot_sum_;
  state["slot_phase"] = slot_phase_;
  return state;
}

ArrivalPredictor ArrivalPredictor::from_json(const nlohmann::json& state) {
  ArrivalPredictor predictor;
  try {
    if (!state.is_object() || state.value("version", 0) != 1) return predictor;
    predictor.week_.fill(-1);
    predictor.week_initialised_ = true;
    const auto& phase = state.at("phase");
    if (phase.is_array() && phase.size() == kPhaseBins) {
      for (int m = 0; m < kPhaseBins; ++m) predictor.phase_[m] = phase[m].get<double>();
      predictor.phase_known_ = true;
    }
    const auto& week = state.at("week");
    if (week.is_array() && week.size() == kWeekSlots) {
      for (int s = 0; s < kWeekSlots; ++s) {
        if (week[s].is_number()) predictor.week_[s] = week[s].get<double>();
      }
    }
    if (state.at("recent").is_number()) predictor.recent_ = state.at("recent").get<double>();
    predictor.slot_ = state.at("slot").get<long long>();
    predictor.slot_sum_ = state.at("slot_sum").get<double>();
    const auto& slot_phase = state.at("slot_phase");
    if (slot_phase.is_array() && slot_phase.size() == kPhaseBins) {
      for (int m = 0; m < kPhaseBins; ++m) predictor.slot_phase_[m] = slot_phase[m].get<double>();
    }
  } catch (const nlohmann::json::exception&) {
    return ArrivalPredictor{};
  }
  return predictor;
}

void DrainDurations::record(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return;
  durations_.push_back(seconds);
  while (durations_.size() > kKept) durations_.pop_front();
}

double DrainDurations::lead(double fallback) const {
  if (durations_.empty()) return fallback;
  std::vector<double> sorted(durations_.begin(), durations_.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted[std::min(sorted.size() - 1, sorted.size() * 3 / 4)];
}

nlohmann::json DrainDurations::to_json() const {
  return nlohmann::json{{"version", 1},
                        {"durations", std::vector<double>(durations_.begin(), durations_.end())}};
}

DrainDurations DrainDurations::from_json(const nlohmann::json& state) {
  DrainDurations durations;
  try {
    if (!state.is_object() || state.value("version", 0) != 1) return durations;
    for (const auto& value : state.at("durations")) durations.record(value.get<double>());
  } catch (const nlohmann::json::exception&) {
    return DrainDurations{};
  }
  return durations;
}

void LargestConference::observe(double now, double stress) {
  if (!std::isfinite(now) || !std::isfinite(stress) || !(stress > 0)) return;
  if (!since_) since_ = now;
  const double hour = std::floor(now / 3600) * 3600;
  if (!hours_.empty() && hours_.back().first == hour) {
    hours_.back().second = std::max(hours_.back().second, stress);
  } else if (hours_.empty() || hour > hours_.back().first) {
    hours_.emplace_back(hour, stress);
  }
  while (!hours_.empty() && hours_.front().first + 3600 <= now - kWindow) hours_.pop_front();
}

double LargestConference::room(double now, double cap) const {
  if (!since_ || now - *since_ < kHistory || hours_.empty()) return cap;
  double largest = 0;
  for (const auto& [hour, stress] : hours_) {
    if (hour + 3600 > now - kWindow) largest = std::max(largest, stress);
  }
  if (!(largest > 0)) return cap;
  return std::clamp(2 * largest, std::min(kMinRoom, cap), cap);
}

nlohmann::json LargestConference::to_json() const {
  nlohmann::json hours = nlohmann::json::array();
  for (const auto& [hour, stress] : hours_) hours.push_back({hour, stress});
  return nlohmann::json{{"version", 1},
                        {"since", since_ ? nlohmann::json(*since_) : nlohmann::json(nullptr)},
                        {"hours", hours}};
}

LargestConference LargestConference::from_json(const nlohmann::json& state) {
  LargestConference largest;
  try {
    if (!state.is_object() || state.value("version", 0) != 1) return largest;
    if (state.at("since").is_number()) largest.since_ = state.at("since").get<double>();
    for (const auto& entry : state.at("hours")) {
      const double hour = entry.at(0).get<double>();
      const double stress = entry.at(1).get<double>();
      if (!std::isfinite(hour) || !std::isfinite(stress) || stress < 0) continue;
      if (!largest.hours_.empty() && hour <= largest.hours_.back().first) continue;
      largest.hours_.emplace_back(hour, stress);
      if (largest.hours_.size() > kHours) largest.hours_.pop_front();
    }
  } catch (const nlohmann::json::exception&) {
    return LargestConference{};
  }
  return largest;
}

std::vector<std::string> flap_warnings(const ScalingConfig& config, double capacity_participants) {
  std::vector<std::string> warnings;
  if (config.policy != PolicyKind::kThreshold) return warnings;
  const double up = config.scale_up_threshold;
  const double down = config.scale_down_threshold;
  if (!(up > down) || !(down > 0)) return warnings;
  for (int n = 2; n <= std::max(2, config.max_bridges) && warnings.size() < 3; ++n) {
    const double low = up * (n - 1);
    const double high = down * n;
    if (!(high > low)) break;  // n(up - down) >= up from here on: no flat load flaps
    char text[400];
    if (capacity_participants > 0) {
      std::snprintf(text, sizeof text,
                    "scaling.scale_up_threshold %.2f and scale_down_threshold %.2f flap on a flat "
                    "load of %.0f-%.0f participants: below %.2f on %d bridges, above %.2f on %d "
                    "(%s; or widen the gap to below %.2f)",
                    up, down, std::floor(low * capacity_participants) + 1,
                    std::ceil(high * capacity_participants) - 1, down, n, up, n - 1,
                    config.no_yoyo ? "scaling.no_yoyo is on and holds it"
                                   : "turn scaling.no_yoyo on to hold it",
                    up * (n - 1) / n);
    } else {
      std::snprintf(text, sizeof text,
                    "scaling.scale_up_threshold %.2f and scale_down_threshold %.2f flap on a flat "
                    "load between %.2f and %.2f bridges' worth of participants (%d <-> %d "
                    "bridges)",
                    up, down, low, high, n - 1, n);
    }
    warnings.emplace_back(text);
  }
  return warnings;
}

}  // namespace scaling
