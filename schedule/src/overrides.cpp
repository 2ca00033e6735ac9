#include "overrides.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "fmt/format.h"
#include "scaling/keys.h"

namespace schedule::detail {
namespace {

using O = ScalingOverrides;
using C = scaling::ScalingConfig;

// Every key here is `schedulable` in scaling::scaling_keys() (checked by a test).
constexpr std::array kIntKeys{
    IntKey{"min_bridges", &O::min_bridges, &C::min_bridges},
    IntKey{"max_bridges", &O::max_bridges, &C::max_bridges},
    IntKey{"scale_up_periods", &O::scale_up_periods, &C::scale_up_periods},
    IntKey{"scale_down_periods", &O::scale_down_periods, &C::scale_down_periods},
    IntKey{"scale_up_step", &O::scale_up_step, &C::scale_up_step},
    IntKey{"scale_down_step", &O::scale_down_step, &C::scale_down_step},
};

constexpr std::array kDoubleKeys{
    DoubleKey{"scale_up_threshold", &O::scale_up_threshold, &C::scale_up_threshold},
    DoubleKey{"scale_down_threshold", &O::scale_down_threshold, &C::scale_down_threshold},
    DoubleKey{"target_stress", &O::target_stress, &C::target_stress},
    DoubleKey{"period_seconds", &O::period_seconds, &C::period_seconds},
    DoubleKey{"cooldown_seconds", &O::cooldown_seconds, &C::cooldown_seconds},
    DoubleKey{"boot_timeout_seconds", &O::boot_timeout_seconds, &C::boot_timeout_seconds},
    DoubleKey{"drain_timeout_seconds", &O::drain_timeout_seconds, &C::drain_timeout_seconds},
};

// The range of `name` from the one table of scaling keys.
const scaling::ScalingKey& key_spec(std::string_view name) {
  const scaling::ScalingKey* spec = scaling::find_scaling_key(name);
  // Every name above is in the table (schedule_keys_test checks it); a miss is a programming
  // error caught by that test, so fall back to the first key rather than crash.
  return spec != nullptr ? *spec : scaling::scaling_keys().front();
}

}  // namespace

std::span<const IntKey> int_keys() { return kIntKeys; }
std::span<const DoubleKey> double_keys() { return kDoubleKeys; }

bool is_scaling_key(std::string_view key) {
  if (key == kPolicyKey) return true;
  return std::ranges::any_of(kIntKeys, [&](const IntKey& k) { return k.name == key; }) ||
         std::ranges::any_of(kDoubleKeys, [&](const DoubleKey& k) { return k.name == key; });
}

std::string scaling_key_list() {
  std::string list{kPolicyKey};
  for (const auto& k : kIntKeys) list += fmt::format(", {}", k.name);
  for (const auto& k : kDoubleKeys) list += fmt::format(", {}", k.name);
  return list;
}

bool parse_override(std::string_view key, const nlohmann::json& value, const std::string& path,
                    ScalingOverrides& overrides, std::vector<std::string>& errors) {
  if (key == kPolicyKey) {
    if (value == "threshold") {
      overrides.policy = scaling::PolicyKind::kThreshold;
    } else if (value == "target") {
      overrides.policy = scaling::PolicyKind::kTarget;
    } else {
      errors.push_back(fmt::format("{}: policy must be \"threshold\" or \"target\", not {}", path,
                                   value.dump()));
    }
    return true;
  }
  for (const auto& k : kIntKeys) {
    if (k.name != key) continue;
    if (!value.is_number_integer()) {
      errors.push_back(fmt::format("{}: must be a whole number, not {}", path, value.dump()));
    } else if (const auto problem = scaling::check_range(key_spec(k.name), value.get<double>())) {
      errors.push_back(fmt::format("{}: {}", path, *problem));
    } else {
      overrides.*k.override_field = value.get<int>();
    }
    return true;
  }
  for (const auto& k : kDoubleKeys) {
    if (k.name != key) continue;
    if (!value.is_number()) {
      errors.push_back(fmt::format("{}: must be a number, not {}", path, value.dump()));
      return true;
    }
    const double number = value.get<double>();
    if (const auto problem = scaling::check_range(key_spec(k.name), number)) {
      errors.push_back(fmt::format("{}: {}", path, *problem));
    } else {
      overrides.*k.override_field = number;
    }
    return true;
  }
  return false;
}

void write_overrides(const ScalingOverrides& overrides, nlohmann::json& out) {
  if (overrides.policy) {
    out[std::string{kPolicyKey}] =
        *overrides.policy == scaling::PolicyKind::kTarget ? "target" : "threshold";
  }
  for (const auto& k : kIntKeys) {
    if (const auto& v = overrides.*k.override_field) out[std::string{k.name}] = *v;
  }
  for (const auto& k : kDoubleKeys) {
    if (const auto& v = overrides.*k.override_field) out[std::string{k.name}] = *v;
  }
}

void check_overrides(const ScalingOverrides& overrides, const scaling::ScalingConfig& base,
                     const std::string& path, std::vector<std::string>& errors) {
  const scaling::ScalingConfig effective = overrides.apply_to(base);
  if ((overrides.min_bridges || overrides.max_bridges) &&
      effective.min_bridges > effective.max_bridges) {
    errors.push_back(fmt::format(
        "{}: min_bridges {} is above max_bridges {}{} (set max_bridges in this window too)", path,
        effective.min_bridges, effective.max_bridges,
        overrides.max_bridges ? "" : " (from scaling.max_bridges)"));
  }
  if ((overrides.scale_up_threshold || overrides.scale_down_threshold) &&
      effective.scale_down_threshold >= effective.scale_up_threshold) {
    errors.push_back(fmt::format("{}: scale_down_threshold {} must be below scale_up_threshold {}",
                                 path, effective.scale_down_threshold,
                                 effective.scale_up_threshold));
  }
}

}  // namespace schedule::detail

namespace schedule {

scaling::ScalingConfig ScalingOverrides::apply_to(scaling::ScalingConfig base) const {
  if (policy) base.policy = *policy;
  for (const auto& k : detail::int_keys()) {
    if (const auto& v = this->*k.override_field) base.*k.config_field = *v;
  }
  for (const auto& k : detail::double_keys()) {
    if (const auto& v = this->*k.override_field) base.*k.config_field = *v;
  }
  return base;
}

}  // namespace schedule
