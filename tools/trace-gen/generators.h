#pragma once
// Seeded synthetic conference traces (tools/trace-gen and the scaling benchmark). Deterministic:
// the same kind and seed always give the same trace (std::mt19937 with only integer draws and
// fixed arithmetic, plus std::log/std::cos for the webinar's background).
#include <cstdint>
#include <string>
#include <vector>

#include "scaling/trace.h"

namespace tracegen {

// "workday" (24 h, meetings on :00/:30), "flash-crowd" (6 h, +450 participants in 10 min at
// t = 2 h), "weekend" (48 h, light family calls), "webinar" (07:00-19:00 with three announced
// webinars of 12 rooms x 70 at 10:00, 13:30 and 16:00; traces/webinar.schedule.json announces
// them). Throws std::invalid_argument for another kind.
std::vector<scaling::Conference> generate(const std::string& kind, std::uint32_t seed,
                                          double scale = 1.0);

inline const std::vector<std::string>& kinds() {
  static const std::vector<std::string> all = {"workday", "flash-crowd", "weekend", "webinar"};
  return all;
}

}  // namespace tracegen
