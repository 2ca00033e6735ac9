// Property tests: random snapshots (fixed seeds) and random sequences of snapshots; the
// invariants of issue 6 must hold for every decision.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "scaling/policy.h"

namespace scaling {
namespace {

struct Generator {
  explicit Generator(unsigned seed) : random(seed) {}

  int integer(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); }
  double real(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(random);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(random); }

  EffectiveConfig config() {
    EffectiveConfig effective;
    auto& c = effective.config;
    c.policy = chance(0.5) ? PolicyKind::kThreshold : PolicyKind::kTarget;
    c.min_bridges = integer(0, 4);
    c.max_bridges = integer(c.min_bridges, 12);
    c.scale_down_threshold = real(0.05, 0.4);
    c.scale_up_threshold = real(0.5, 0.95);
    c.target_stress = real(0.3, 0.9);
    c.scale_up_periods = integer(1, 3);
    c.scale_down_periods = integer(1, 5);
    c.period_seconds = 10;
    c.scale_up_step = integer(1, 3);
    c.scale_down_step = integer(1, 3);
    c.cooldown_seconds = chance(0.5) ? 0 : 60;
    c.boot_timeout_seconds = 900;
    c.drain_timeout_seconds = 3600;
    // Every key of the profile is drawn (levers on and off), so the invariants hold whatever the
    // defaults of ScalingConfig are.
    c.billing_period_seconds = chance(0.5) ? 0 : 3600;
    c.billing_drain_lead_seconds = real(0, 1200);
    c.trend_window_seconds = chance(0.5) ? 60 : 300;
    c.lookahead_seconds = chance(0.5) ? 0 : 180;
    c.predictive_headroom_seconds = chance(0.7) ? 0 : 300;
    c.learn_drain_lead = chance(0.5);
    c.drain_by_age = chance(0.5);
    c.no_yoyo = chance(0.5);
    c.steer_holds = chance(0.5);
    effective.inhibit_scale_down = chance(0.1);
    return effective;
  }

  Snapshot snapshot(double now) {
    Snapshot snapshot;
    snapshot.now = now;
    snapshot.blind = chance(0.05);
    const int count = integer(0, 14);
    for (int i = 0; i < count; ++i) {
      BridgeView bridge;
      bridge.name = "b" + std::to_string(integer(0, 20));  // duplicates-free below
      bridge.managed = chance(0.8);
      const int state = integer(0, 9);
      bridge.state = state < 5   ? BridgeState::kReady
                     : state < 7 ? BridgeState::kProvisioning
                     : state < 9 ? BridgeState::kDraining
                                 : BridgeState::kDeleting;
      if (bridge.state != BridgeState::kProvisioning && !chance(0.05)) {
        bridge.participants = integer(0, 150);
        bridge.stress = *bridge.participants / 100.0;
      }
      bridge.state_since = now - real(0, 5000);
      if (chance(0.8)) bridge.created_at = bridge.state_since - real(0, 5000);
      if (chance(0.5)) bridge.newest_conference_age = real(0, 3600);
      bridge.drained_empty = bridge.state == BridgeState::kDraining &&
                             bridge.participants.value_or(1) == 0 && chance(0.7);
      snapshot.bridges.push_back(bridge);
    }
    // Names are unique in a real snapshot.
    std::set<std::string> seen;
    std::erase_if(snapshot.bridges,
                  [&](const BridgeView& b) { return !seen.insert(b.name).second; });
    snapshot.overrides.paused = chance(0.1);
    if (chance(0.1)) snapshot.overrides.pinned = integer(0, 15);
    if (chance(0.15) && !snapshot.bridges.empty()) {
      snapshot.overrides.drain_requests.push_back(
          snapshot.bridges[integer(0, static_cast<int>(snapshot.bridges.size()) - 1)].name);
    }
    return snapshot;
  }

  std::mt19937 random;
};

const BridgeView* find(const Snapshot& snapshot, const std::string& name) {
  for (const auto& bridge : snapshot.bridges) {
    if (bridge.name == name) return &bridge;
  }
  return nullptr;
}

// Every invariant of one decision; returns a description of the first broken one.
std::string check(const Snapshot& snapshot, const EffectiveConfig& effective,
                  const Decision& decision) {
  const auto& c = effective.config;
  const int ready = static_cast<int>(
      std::count_if(snapshot.bridges.begin(), snapshot.bridges.end(),
                    [](const BridgeView& b) { return b.state == BridgeState::kReady; }));
  const int existing = static_cast<int>(
      std::count_if(snapshot.bridges.begin(), snapshot.bridges.end(),
                    [](const BridgeView& b) { return b.state != BridgeState::kFailed; }));

  if (decision.desired < std::min(c.min_bridges, c.max_bridges) ||
      decision.desired > c.max_bridges) {
    if (!snapshot.blind) return "desired outside [min, max]";
  }
  if (decision.create < 0) return "negative create";
  const int removed = static_cast<int>(decision.remove.size());
  if (decision.create > 0 && existing - removed + decision.create > c.max_bridges) {
    return "creating past max_bridges";
  }
  if (!decision.drain.empty() && static_cast<int>(decision.drain.size()) >= ready) {
    return "drains the last ready bridge";
  }
  if (snapshot.blind && (decision.create || !decision.drain.empty() || !decision.remove.empty())) {
    return "acts while blind";
  }
  if (snapshot.overrides.paused && (decision.create || !decision.drain.empty())) {
    return "creates or drains while paused";
  }
  std::set<std::string> unique;
  for (const auto& name : decision.drain) {
    if (!unique.insert(name).second) return "drains " + name + " twice";
    const BridgeView* bridge = find(snapshot, name);
    if (!bridge) return "drains unknown bridge " + name;
    if (!bridge->managed) return "drains unmanaged " + name;
    if (bridge->state != BridgeState::kReady) return "drains non-ready " + name;
  }
  for (const auto& name : decision.remove) {
    const BridgeView* bridge = find(snapshot, name);
    if (!bridge) return "removes unknown bridge " + name;
    if (!bridge->managed) return "removes unmanaged " + name;
    if (bridge->state == BridgeState::kDraining && bridge->participants.value_or(1) > 0 &&
        !bridge->drained_empty && snapshot.now - bridge->state_since < c.drain_timeout_seconds) {
      return "removes " + name + " with participants before its drain timed out";
    }
    if (bridge->state == BridgeState::kReady || bridge->state == BridgeState::kDeleting) {
      return "removes ready/deleting " + name;
    }
  }
  for (const auto& name : decision.failed) {
    if (std::find(decision.remove.begin(), decision.remove.end(), name) == decision.remove.end()) {
      return "failed " + name + " is not removed";
    }
  }
  if (decision.reason.empty()) return "empty reason";
  return {};
}

TEST(PolicyProperty, RandomSnapshotsRespectEveryInvariant) {
  for (unsigned seed : {1u, 2u, 3u}) {
    Generator generator(seed);
    for (int i = 0; i < 4000; ++i) {
      const EffectiveConfig config = generator.config();
      const Snapshot snapshot = generator.snapshot(generator.real(0, 1e5));
      Policy policy;
      const Decision decision = policy.decide(snapshot, config);
      const std::string broken = check(snapshot, config, decision);
      ASSERT_TRUE(broken.empty()) << "seed " << seed << " case " << i << ": " << broken
                                  << "\nreason: " << decision.reason;
    }
  }
}

TEST(PolicyProperty, RandomSequencesRespectEveryInvariant) {
  // Remembered state (streaks, cooldown, stabilisation window) must never break an invariant.
  for (unsigned seed : {11u, 12u}) {
    Generator generator(seed);
    for (int run = 0; run < 200; ++run) {
      const EffectiveConfig config = generator.config();
      Policy policy;
      for (int period = 0; period < 30; ++period) {
        const Snapshot snapshot = generator.snapshot(period * config.config.period_seconds);
        const Decision decision = policy.decide(snapshot, config);
        const std::string broken = check(snapshot, config, decision);
        ASSERT_TRUE(broken.empty()) << "seed " << seed << " run " << run << " period " << period
                                    << ": " << broken << "\nreason: " << decision.reason;
      }
    }
  }
}

TEST(PolicyProperty, DecisionsAreDeterministic) {
  Generator generator(7);
  for (int run = 0; run < 300; ++run) {
    const EffectiveConfig config = generator.config();
    std::vector<Snapshot> sequence;
    for (int period = 0; period < 12; ++period) {
      sequence.push_back(generator.snapshot(period * config.config.period_seconds));
    }
    Policy first;
    Policy second;
    for (const auto& snapshot : sequence) {
      const Decision a = first.decide(snapshot, config);
      const Decision b = second.decide(snapshot, config);
      ASSERT_EQ(a.desired, b.desired);
      ASSERT_EQ(a.create, b.create);
      ASSERT_EQ(a.drain, b.drain);
      ASSERT_EQ(a.remove, b.remove);
      ASSERT_EQ(a.failed, b.failed);
      ASSERT_EQ(a.action, b.action);
      ASSERT_EQ(a.reason, b.reason);
    }
  }
}

TEST(PolicyProperty, BridgeOrderDoesNotChangeTheDecision) {
  Generator generator(21);
  for (int i = 0; i < 2000; ++i) {
    const EffectiveConfig config = generator.config();
    Snapshot snapshot = generator.snapshot(1000);
    Policy first;
    const Decision a = first.decide(snapshot, config);
    std::reverse(snapshot.bridges.begin(), snapshot.bridges.end());
    Policy second;
    const Decision b = second.decide(snapshot, config);
    auto sorted = [](std::vector<std::string> names) {
      std::sort(names.begin(), names.end());
      return names;
    };
    ASSERT_EQ(a.create, b.create) << i;
    ASSERT_EQ(sorted(a.drain), sorted(b.drain)) << i;
    ASSERT_EQ(sorted(a.remove), sorted(b.remove)) << i;
  }
}

}  // namespace
}  // namespace scaling
