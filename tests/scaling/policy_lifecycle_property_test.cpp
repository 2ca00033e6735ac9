// Property test of the issue-15 lifecycle rules over random snapshots with every bridge state
// and lifecycle field (fixed seeds): the invariants that keep calls alive must hold always.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "scaling/policy.h"

namespace scaling {
namespace {

struct Random {
  explicit Random(unsigned seed) : engine(seed) {}
  int integer(int low, int high) { return std::uniform_int_distribution<int>(low, high)(engine); }
  double real(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(engine);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(engine); }
  std::mt19937 engine;
};

constexpr BridgeState kStates[] = {BridgeState::kProvisioning, BridgeState::kReady,
                                   BridgeState::kDraining,     BridgeState::kShuttingDown,
                                   BridgeState::kDeleting,     BridgeState::kFailed,
                                   BridgeState::kUnhealthy,    BridgeState::kLost};

Snapshot random_snapshot(Random& random, double now) {
  Snapshot snapshot;
  snapshot.now = now;
  snapshot.can_undrain = random.chance(0.5);
  snapshot.failed_boots = random.integer(0, 4);
  const int count = random.integer(0, 12);
  for (int i = 0; i < count; ++i) {
    BridgeView bridge;
    bridge.name = "b" + std::to_string(i);
    bridge.state = kStates[random.integer(0, 7)];
    bridge.managed = random.chance(0.8);
    if (random.chance(0.9)) bridge.stress = random.real(0, 1.5);
    if (random.chance(0.8)) bridge.participants = random.integer(0, 150);
    bridge.state_since = now - random.real(0, 8000);
    if (random.chance(0.8)) bridge.created_at = bridge.state_since - random.real(0, 5000);
    bridge.in_brewery = bridge.state != BridgeState::kLost && random.chance(0.85);
    bridge.foreign_drain = random.chance(0.1);
    bridge.drained_empty = bridge.participants.value_or(1) == 0 && random.chance(0.5);
    snapshot.bridges.push_back(bridge);
  }
  snapshot.overrides.paused = random.chance(0.1);
  if (random.chance(0.1)) snapshot.overrides.pinned = random.integer(0, 12);
  return snapshot;
}

EffectiveConfig random_config(Random& random) {
  EffectiveConfig effective;
  auto& c = effective.config;
  c.policy = random.chance(0.5) ? PolicyKind::kThreshold : PolicyKind::kTarget;
  c.min_bridges = random.integer(0, 4);
  c.max_bridges = random.integer(std::max(1, c.min_bridges), 12);
  c.scale_up_periods = random.integer(1, 2);
  c.scale_down_periods = random.integer(1, 3);
  c.cooldown_seconds = random.chance(0.5) ? 0 : 60;
  c.max_failed_boots = random.integer(0, 3);
  // Every key of the profile is drawn (levers on and off), so the invariants hold whatever the
  // defaults of ScalingConfig are.
  c.scale_down_threshold = random.real(0.05, 0.4);
  c.scale_up_threshold = random.real(0.45, 0.95);
  c.target_stress = random.real(0.3, 0.9);
  c.period_seconds = 10;
  c.drain_timeout_seconds = random.chance(0.5) ? 3600 : 7200;
  c.billing_period_seconds = random.chance(0.5) ? 0 : 3600;
  c.billing_drain_lead_seconds = random.real(0, 1200);
  c.trend_window_seconds = 60;
  c.lookahead_seconds = random.chance(0.5) ? 0 : 180;
  c.predictive_headroom_seconds = random.chance(0.7) ? 0 : 300;
  c.learn_drain_lead = random.chance(0.5);
  c.drain_by_age = random.chance(0.5);
  c.no_yoyo = random.chance(0.5);
  c.steer_holds = random.chance(0.5);
  return effective;
}

const BridgeView* find(const Snapshot& snapshot, const std::string& name) {
  for (const auto& bridge : snapshot.bridges) {
    if (bridge.name == name) return &bridge;
  }
  return nullptr;
}

std::string check(const Snapshot& snapshot, const EffectiveConfig& effective,
                  const Decision& decision) {
  std::set<std::string> touched;
  auto once = [&](const std::string& name) { return touched.insert(name).second; };
  for (const auto& deletion : decision.deletes) {
    const BridgeView* bridge = find(snapshot, deletion.bridge);
    if (!bridge) return "deletes unknown " + deletion.bridge;
    if (!once(deletion.bridge)) return "acts twice on " + deletion.bridge;
    if (!bridge->managed) return "deletes unmanaged " + bridge->name;
    const bool drain_state =
        bridge->state == BridgeState::kDraining || bridge->state == BridgeState::kShuttingDown;
    if (drain_state && bridge->foreign_drain) return "deletes foreign drain " + bridge->name;
    // Never an instance whose bridge is in the brewery with participants.
    const bool in_brewery_with_people = bridge->in_brewery && !bridge->drained_empty &&
                                        bridge->state != BridgeState::kProvisioning &&
                                        bridge->state != BridgeState::kLost;
    if (in_brewery_with_people) return "deletes " + bridge->name + " while in the brewery";
  }
  for (const auto& shutdown : decision.shutdowns) {
    const BridgeView* bridge = find(snapshot, shutdown.bridge);
    if (!bridge) return "shuts down unknown " + shutdown.bridge;
    if (!once(shutdown.bridge)) return "acts twice on " + shutdown.bridge;
    if (!bridge->managed) return "shuts down unmanaged " + bridge->name;
    if (bridge->state == BridgeState::kDraining && bridge->foreign_drain) {
      return "shuts down foreign drain " + bridge->name;
    }
    if (!bridge->in_brewery) return "shuts down " + bridge->name + " out of the brewery";
    if (bridge->state != BridgeState::kDraining && bridge->state != BridgeState::kUnhealthy) {
      return "shuts down " + bridge->name + " in state " + std::string(to_string(bridge->state));
    }
  }
  for (const auto& undrain : decision.undrains) {
    const BridgeView* bridge = find(snapshot, undrain.bridge);
    if (!snapshot.can_undrain) return "undrains although the caller cannot";
    if (!bridge) return "undrains unknown " + undrain.bridge;
    if (!once(undrain.bridge)) return "acts twice on " + undrain.bridge;
    if (!bridge->managed || bridge->foreign_drain || bridge->state != BridgeState::kDraining) {
      return "undrains " + bridge->name + " that this agent did not drain";
    }
    if (snapshot.overrides.paused) return "undrains while paused";
  }
  for (const auto& drain : decision.drains) {
    const BridgeView* bridge = find(snapshot, drain.bridge);
    if (!bridge) return "drains unknown " + drain.bridge;
    if (!once(drain.bridge)) return "acts twice on " + drain.bridge;
    if (bridge->state != BridgeState::kReady || !bridge->managed) {
      return "drains " + bridge->name + " that is not managed ready capacity";
    }
  }
  const auto& c = effective.config;
  if (decision.create_count() > 0 && c.max_failed_boots > 0 &&
      snapshot.failed_boots >= c.max_failed_boots) {
    return "creates although creation is suspended";
  }
  int existing = 0;
  for (const auto& bridge : snapshot.bridges) existing += bridge.state != BridgeState::kFailed;
  if (decision.create_count() > 0 &&
      existing - static_cast<int>(decision.deletes.size()) + decision.create_count() >
          c.max_bridges) {
    return "creates past max_bridges";
  }
  return {};
}

TEST(PolicyLifecycleProperty, RandomSnapshotsNeverCutACall) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Random random(seed);
    Policy policy;
    for (int i = 0; i < 300; ++i) {
      const EffectiveConfig effective = random_config(random);
      const Snapshot snapshot = random_snapshot(random, 10'000 + 10.0 * i);
      const Decision decision = policy.decide(snapshot, effective);
      const std::string broken = check(snapshot, effective, decision);
      ASSERT_TRUE(broken.empty()) << "seed " << seed << " case " << i << ": " << broken << "\n"
                                  << decision.reason;
    }
  }
}

}  // namespace
}  // namespace scaling
