#pragma once
// The one table of scaling keys (config.json section "scaling"): name, type, allowed range,
// default and meaning. Config validation (agent/config) and schedule overrides (schedule/) both
// read it, so a key has one range and one spelling everywhere (issue 14).
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "scaling/config.h"

namespace scaling {

enum class KeyType {
  kPolicy,   // "threshold" | "target"
  kInteger,  // whole number
  kNumber,   // finite number
  kBoolean,  // true | false
};

struct ScalingKey {
  std::string_view name;
  KeyType type = KeyType::kNumber;
  int ScalingConfig::*integer = nullptr;    // kInteger
  double ScalingConfig::*number = nullptr;  // kNumber
  bool ScalingConfig::*flag = nullptr;      // kBoolean
  double minimum = 0;
  double maximum = 0;
  bool minimum_exclusive = false;  // value must be > minimum (not >=)
  bool schedulable = false;        // a schedule window may override it
  std::string_view doc;
};

// Every key, in the documented order. The default of a key is its value in ScalingConfig{}.
std::span<const ScalingKey> scaling_keys();
// nullptr when `name` is not a scaling key.
const ScalingKey* find_scaling_key(std::string_view name);

// nullopt when `value` is in the key's range; else a sentence such as
// "-1 must be at least 0 and at most 86400" (the caller prefixes the key path).
std::optional<std::string> check_range(const ScalingKey& key, double value);

// The key's default as text ("0.7", "10", "threshold", "false").
std::string default_text(const ScalingKey& key);

// Levenshtein distance, for "did you mean ...?" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `key` if it is close enough to be a typo of it (distance at most
// max(2, |key| / 3)); nullopt otherwise. Ties: the first candidate.
std::optional<std::string> closest(std::string_view key,
                                   std::span<const std::string_view> candidates);

}  // namespace scaling
