#include "scaling/keys.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <vector>

namespace scaling {
namespace {

using C = ScalingConfig;

constexpr ScalingKey integer_key(std::string_view name, int C::*field, double minimum,
                                 double maximum, bool schedulable, std::string_view doc) {
  return {name,    KeyType::kInteger, field, nullptr,     nullptr,
          minimum, maximum,           false, schedulable, doc};
}

constexpr ScalingKey number_key(std::string_view name, double C::*field, double minimum,
                                double maximum, bool exclusive, bool schedulable,
                                std::string_view doc) {
  return {name,    KeyType::kNumber, nullptr,   field,       nullptr,
          minimum, maximum,          exclusive, schedulable, doc};
}

// A switch (new levers are added as one of these rows; never schedulable for now).
[[maybe_unused]] constexpr ScalingKey boolean_key(std::string_view name, bool C::*field,
                                                  std::string_view doc) {
  return {name, KeyType::kBoolean, nullptr, nullptr, field, 0, 1, false, false, doc};
}

constexpr double kDay = 86'400;

const std::array kKeys{
    ScalingKey{"policy", KeyType::kPolicy, nullptr, nullptr, nullptr, 0, 0, false, true,
               "threshold (consecutive periods above/below two thresholds) or target (HPA-style "
               "ceil(sum of stress / target_stress))"},
    integer_key("min_bridges", &C::min_bridges, 0, 10'000, true,
                "fewest non-draining bridges (ready or provisioning, managed or not)"),
    integer_key("max_bridges", &C::max_bridges, 1, 10'000, true,
                "most bridges that may exist, draining and provisioning ones included"),
    number_key("scale_up_threshold", &C::scale_up_threshold, 0, 100, true, true,
               "threshold policy: mean stress above it asks for more bridges"),
    number_key("scale_down_threshold", &C::scale_down_threshold, 0, 100, false, true,
               "threshold policy: mean stress below it asks for fewer bridges"),
    number_key("target_stress", &C::target_stress, 0, 100, true, true,
               "target policy: the mean stress to keep"),
    integer_key("scale_up_periods", &C::scale_up_periods, 1, 100'000, true,
                "consecutive periods above scale_up_threshold before a scale-up"),
    integer_key("scale_down_periods", &C::scale_down_periods, 1, 100'000, true,
                "consecutive periods below scale_down_threshold before a scale-down (target "
                "policy: the stabilisation window in periods)"),
    number_key("period_seconds", &C::period_seconds, 0, kDay, true, true,
               "seconds between two decisions"),
    integer_key("scale_up_step", &C::scale_up_step, 1, 10'000, true,
                "bridges added by one threshold scale-up"),
    integer_key("scale_down_step", &C::scale_down_step, 1, 10'000, true,
                "bridges drained by one threshold scale-down"),
    number_key("cooldown_seconds", &C::cooldown_seconds, 0, kDay, false, true,
               "no load-driven action this soon after the previous one"),
    number_key("boot_timeout_seconds", &C::boot_timeout_seconds, 0, kDay, true, true,
               "a new bridge that has not joined the brewery by then is deleted (failed)"),
    number_key("drain_timeout_seconds", &C::drain_timeout_seconds, 0, 7 * kDay, true, true,
               "a drain still holding participants after this asks the bridge to shut down "
               "gracefully"),
    number_key("unhealthy_timeout_seconds", &C::unhealthy_timeout_seconds, 0, kDay, true, false,
               "a managed bridge publishing healthy = false this long is replaced"),
    integer_key("max_failed_boots", &C::max_failed_boots, 0, 1'000, false,
                "consecutive failed boots that suspend creation (0: never)"),
    number_key("billing_period_seconds", &C::billing_period_seconds, 0, kDay, false, false,
               "billing-aware scale-down: the provider's billing period (0: off)"),
    number_key("billing_drain_lead_seconds", &C::billing_drain_lead_seconds, 0, kDay, false, false,
               "billing-aware scale-down: drain this long before the paid period ends"),
    number_key("trend_window_seconds", &C::trend_window_seconds, 0, 3'600, false, false,
               "trend: the window over which the growth of the stress sum is measured"),
    number_key("lookahead_seconds", &C::lookahead_seconds, 0, 3'600, false, false,
               "trend: how far ahead a rising load is projected (0: off)"),
    number_key("predictive_headroom_seconds", &C::predictive_headroom_seconds, 0, 3'600, false,
               false,
               "predictive headroom: capacity for the load expected to arrive this far ahead, "
               "learnt from the :00/:30 arrival pattern (0: off)"),
    boolean_key("learn_drain_lead", &C::learn_drain_lead,
                "billing-aware drains start as long before the paid hour ends as drains really "
                "take (learnt), at least billing_drain_lead_seconds"),
    boolean_key("drain_by_age", &C::drain_by_age,
                "scale-down victim: the bridge whose newest conference is oldest"),
    boolean_key("no_yoyo", &C::no_yoyo,
                "never scale down to a fleet whose projected mean stress is above the scale-up "
                "line"),
    boolean_key("steer_holds", &C::steer_holds,
                "drain a scale-down victim at once and keep it, emptied, until its paid hour "
                "ends (held); held bridges are released before anything is created"),
    boolean_key("learn_largest_conference", &C::learn_largest_conference,
                "after a day of the bridges' largest_conference stats, the scale-up line "
                "rises to leave room for twice the largest conference of the last 7 days"),
    number_key("largest_conference_stress", &C::largest_conference_stress, 0, 1, true, false,
               "stress of the largest conference the fleet must place whole (caps the learnt "
               "room; 0.6 = 60 participants on a 100-participant bridge)"),
};

std::string format(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

std::span<const ScalingKey> scaling_keys() { return kKeys; }

const ScalingKey* find_scaling_key(std::string_view name) {
  const auto found =
      std::find_if(kKeys.begin(), kKeys.end(), [&](const ScalingKey& k) { return k.name == name; });
  return found == kKeys.end() ? nullptr : &*found;
}

std::optional<std::string> check_range(const ScalingKey& key, double value) {
  if (key.type == KeyType::kPolicy || key.type == KeyType::kBoolean) return std::nullopt;
  const bool too_low = key.minimum_exclusive ? !(value > key.minimum) : !(value >= key.minimum);
  if (std::isfinite(value) && !too_low && value <= key.maximum) return std::nullopt;
  return format(value) + " must be " + (key.minimum_exclusive ? "above " : "at least ") +
         format(key.minimum) + " and at most " + format(key.maximum);
}

std::string value_text(const ScalingKey& key, const ScalingConfig& config) {
  switch (key.type) {
    case KeyType::kPolicy:
      return config.policy == PolicyKind::kTarget ? "target" : "threshold";
    case KeyType::kInteger:
      return std::to_string(config.*key.integer);
    case KeyType::kNumber:
      return format(config.*key.number);
    case KeyType::kBoolean:
      return config.*key.flag ? "true" : "false";
  }
  return {};
}

std::string default_text(const ScalingKey& key) { return value_text(key, ScalingConfig{}); }

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest(std::string_view key,
                                   std::span<const std::string_view> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const auto candidate : candidates) {
    // Keys of very different length are never close: skip the quadratic distance.
    const std::size_t longer = std::max(key.size(), candidate.size());
    if (longer - std::min(key.size(), candidate.size()) >= best_distance) continue;
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string{candidate};
    }
  }
  return best;
}

}  // namespace scaling
