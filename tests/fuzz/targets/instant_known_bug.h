#pragma once
// Known bug (reported, schedule/src/parse.cpp parse_instant, through howardhinnant date 3.0.1):
// date::parse("%FT%T%Ez") negates a minutes::min() sentinel (signed overflow: undefined
// behaviour, UBSan aborts the process) when the UTC offset is '-' not followed by a digit, e.g.
// "2026-03-29T03:00:00-:0530" or "...00-ab". Reachable from the config file (schedule events,
// simulation.start), the state file and `ctl event-add`. Targets skip such inputs (they cannot
// call the code without aborting); fuzz.ScheduleFuzz.NegativeOffsetWithoutDigitIsAnError runs
// it in a child process and starts asserting once it no longer aborts. Remove this file then.
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace jvb_fuzz {

inline constexpr std::string_view kDateNegativeOffsetBug =
    "date::parse %Ez overflows on '-' not followed by a digit (UB in parse_instant)";

inline bool is_instant_with_bad_negative_offset(const std::string& text) {
  if (text.size() < 11 || text[10] != 'T') return false;
  for (std::size_t i = 11; i < text.size(); ++i) {
    if (text[i] == '-' &&
        (i + 1 == text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      return true;
    }
  }
  return false;
}

// Iterative (inputs nest 20,000 deep): true when any string in `document` is such an instant.
inline bool holds_instant_with_bad_negative_offset(const nlohmann::json& document) {
  std::vector<const nlohmann::json*> pending = {&document};
  while (!pending.empty()) {
    const nlohmann::json* value = pending.back();
    pending.pop_back();
    if (value->is_string()) {
      if (is_instant_with_bad_negative_offset(value->get_ref<const std::string&>())) return true;
    } else if (value->is_structured()) {
      for (const auto& child : *value) pending.push_back(&child);
    }
  }
  return false;
}

}  // namespace jvb_fuzz
