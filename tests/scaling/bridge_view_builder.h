#pragma once
// A managed ready bridge for policy tests: stress = participants / 100 (a 100-participant
// bridge), the optional refinements left for the test to set.
#include <string>
#include <utility>

#include "scaling/policy.h"

namespace scaling_test {

inline scaling::BridgeView ready_bridge(std::string name, int participants) {
  scaling::BridgeView bridge;
  bridge.name = std::move(name);
  bridge.state = scaling::BridgeState::kReady;
  bridge.managed = true;
  bridge.stress = participants / 100.0;
  bridge.participants = participants;
  return bridge;
}

}  // namespace scaling_test
