#pragma once
// Internal: which ScalingOverrides field holds each scaling key a schedule window may override.
// Names, ranges and meaning come from the one table of scaling keys (scaling/keys.h).
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schedule/schedule.h"

namespace schedule::detail {

struct IntKey {
  std::string_view name;
  std::optional<int> ScalingOverrides::*override_field;
  int scaling::ScalingConfig::*config_field;
};

struct DoubleKey {
  std::string_view name;
  std::optional<double> ScalingOverrides::*override_field;
  double scaling::ScalingConfig::*config_field;
};

std::span<const IntKey> int_keys();
std::span<const DoubleKey> double_keys();
inline constexpr std::string_view kPolicyKey = "policy";

bool is_scaling_key(std::string_view key);
std::string scaling_key_list();  // "policy, min_bridges, max_bridges, ..."

// Reads `key` = `value` into `overrides` if key is a scaling key. Returns false if the key is
// not a scaling key; a bad value adds an error sentence for `path` and still returns true.
bool parse_override(std::string_view key, const nlohmann::json& value, const std::string& path,
                    ScalingOverrides& overrides, std::vector<std::string>& errors);

// Every override that is set, as JSON members of `out`.
void write_overrides(const ScalingOverrides& overrides, nlohmann::json& out);

// Errors for a window whose overrides leave min above max or the thresholds crossed, judged
// against `base`. Only combinations the window itself touches are reported.
void check_overrides(const ScalingOverrides& overrides, const scaling::ScalingConfig& base,
                     const std::string& path, std::vector<std::string>& errors);

}  // namespace schedule::detail
