#pragma once
// Number formatting shared by the policy's sentences (internal to scaling/).
#include <cstdio>
#include <string>

namespace scaling {

inline std::string format_number(double value, int decimals = 2) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace scaling
