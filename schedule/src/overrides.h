#pragma once
// Internal: the table of scaling keys a schedule window may override, shared by the parser and
// the JSON writers.
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
  int minimum;
};

struct DoubleKey {
  std::string_view name;
  std::optional<double> ScalingOverrides::*override_field;
  double scaling::ScalingConfig::*config_field;
  double minimum;
  bool minimum_exclusive;  // value must be > minimum (not >=)
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

// "did you mean ...?" helper: the candidate closest to `key` by edit distance, if close enough.
std::optional<std::string> closest(std::string_view key,
                                   const std::vector<std::string_view>& candidates);

}  // namespace schedule::detail
