// Targeted tests: one rule of the policy each (DESIGN section 5, issue 6).
#include "scaling/policy.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_support/classic_profile.h"
namespace scaling {
namespace {

BridgeView ready(std::string name, double stress, int participants, bool managed = true) {
  BridgeView bridge;
  bridge.name = std::move(name);
  bridge.state = BridgeState::kReady;
  bridge.managed = managed;
  bridge.stress = stress;
  bridge.participants = participants;
  return bridge;
}

BridgeView provisioning(std::string name, double since) {
  BridgeView bridge;
  bridge.name = std::move(name);
  bridge.state = BridgeState::kProvisioning;
  bridge.managed = true;
  bridge.state_since = since;
  return bridge;
}

BridgeView draining(std::string name, double since, int participants, bool empty,
                    bool managed = true) {
  BridgeView bridge;
  bridge.name = std::move(name);
  bridge.state = BridgeState::kDraining;
  bridge.managed = managed;
  bridge.state_since = since;
  bridge.participants = participants;
  bridge.stress = participants / 100.0;
  bridge.drained_empty = empty;
  return bridge;
}

// Every rule here is checked against the old contract profile (all levers off), pinned so that
// the measured defaults of ScalingConfig may move (test_support/classic_profile.h).
EffectiveConfig threshold_config() {
  EffectiveConfig effective = test_support::classic_effective_config();
  effective.config.policy = PolicyKind::kThreshold;
  effective.config.min_bridges = 1;
  effective.config.max_bridges = 10;
  effective.config.scale_up_threshold = 0.7;
  effective.config.scale_down_threshold = 0.3;
  effective.config.scale_up_periods = 2;
  effective.config.scale_down_periods = 3;
  effective.config.period_seconds = 10;
  effective.config.cooldown_seconds = 60;
  return effective;
}

EffectiveConfig target_config() {
  EffectiveConfig effective = threshold_config();
  effective.config.policy = PolicyKind::kTarget;
  effective.config.target_stress = 0.6;
  return effective;
}

Snapshot snapshot_at(double now, std::vector<BridgeView> bridges) {
  Snapshot snapshot;
  snapshot.now = now;
  snapshot.bridges = std::move(bridges);
  return snapshot;
}

TEST(PolicyThreshold, ScalesUpAfterConsecutivePeriodsAndNamesTheNumbers) {
  Policy policy;
  const auto config = threshold_config();
  auto hot = snapshot_at(0, {ready("a", 0.82, 82), ready("b", 0.82, 82), ready("c", 0.82, 82)});
  Decision first = policy.decide(hot, config);
  EXPECT_EQ(first.create, 0);
  EXPECT_EQ(first.desired, 3);
  hot.now = 10;
  Decision second = policy.decide(hot, config);
  EXPECT_EQ(second.create, 1);
  EXPECT_EQ(second.desired, 4);
  EXPECT_EQ(second.action, "scale_up");
  EXPECT_NE(second.reason.find("mean stress 0.82 > 0.70 for 2 periods: scale up 3 -> 4"),
            std::string::npos)
      << second.reason;
}

TEST(PolicyThreshold, AnInterruptedStreakStartsOver) {
  Policy policy;
  const auto config = threshold_config();
  EXPECT_EQ(policy.decide(snapshot_at(0, {ready("a", 0.9, 90)}), config).create, 0);
  EXPECT_EQ(policy.decide(snapshot_at(10, {ready("a", 0.5, 50)}), config).create, 0);
  EXPECT_EQ(policy.decide(snapshot_at(20, {ready("a", 0.9, 90)}), config).create, 0);
  EXPECT_EQ(policy.decide(snapshot_at(30, {ready("a", 0.9, 90)}), config).create, 1);
}

TEST(PolicyThreshold, ProvisioningCountsAsCapacityAtZeroStress) {
  Policy policy;
  const auto config = threshold_config();
  // 2 ready at 0.9 + 1 provisioning: mean 1.8 / 3 = 0.6, below the up threshold.
  for (double now : {0.0, 10.0, 20.0}) {
    Decision decision = policy.decide(
        snapshot_at(now, {ready("a", 0.9, 90), ready("b", 0.9, 90), provisioning("c", 0)}), config);
    EXPECT_EQ(decision.create, 0) << decision.reason;
    ASSERT_TRUE(decision.cluster_stress);
    EXPECT_NEAR(*decision.cluster_stress, 0.6, 1e-9);
  }
}

TEST(PolicyThreshold, DrainingBridgesNeverCountAsCapacity) {
  Policy policy;
  const auto config = threshold_config();
  auto snapshot = snapshot_at(0, {ready("a", 0.8, 80), draining("d", 0, 50, false)});
  Decision decision = policy.decide(snapshot, config);
  ASSERT_TRUE(decision.cluster_stress);
  EXPECT_NEAR(*decision.cluster_stress, 0.8, 1e-9);
  EXPECT_EQ(decision.desired, 1);
}

TEST(PolicyThreshold, CooldownDelaysTheNextAction) {
  Policy policy;
  const auto config = threshold_config();
  auto hot = snapshot_at(0, {ready("a", 0.9, 90)});
  policy.decide(hot, config);
  hot.now = 10;
  ASSERT_EQ(policy.decide(hot, config).create, 1);
  // Still hot with the new bridge ready: the streak restarts and the cooldown (60 s) holds.
  auto still_hot = snapshot_at(20, {ready("a", 0.9, 90), ready("b", 0.9, 90)});
  for (double now : {20.0, 30.0, 40.0, 50.0, 60.0}) {
    still_hot.now = now;
    Decision decision = policy.decide(still_hot, config);
    EXPECT_EQ(decision.create, 0) << "at " << now << ": " << decision.reason;
  }
  still_hot.now = 70;
  Decision after = policy.decide(still_hot, config);
  EXPECT_EQ(after.create, 1) << after.reason;
}

TEST(PolicyThreshold, ScaleDownDrainsTheManagedReadyBridgeWithFewestParticipants) {
  Policy policy;
  const auto config = threshold_config();
  auto cold =
      snapshot_at(0, {ready("jvb-as-1", 0.2, 20), ready("jvb-as-2", 0.05, 5),
                      ready("jvb1", 0.01, 1, /*managed=*/false), ready("jvb-as-3", 0.3, 29)});
  Decision decision;
  for (double now : {0.0, 10.0, 20.0}) {
    cold.now = now;
    decision = policy.decide(cold, config);
  }
  EXPECT_EQ(decision.action, "scale_down") << decision.reason;
  ASSERT_EQ(decision.drain.size(), 1u);
  EXPECT_EQ(decision.drain[0], "jvb-as-2");
  EXPECT_EQ(decision.desired, 3);
}

TEST(PolicyThreshold, VictimTiesAreBrokenByName) {
  Policy policy;
  auto config = threshold_config();
  config.config.scale_down_periods = 1;
  Decision decision = policy.decide(
      snapshot_at(0, {ready("b", 0.1, 10), ready("c", 0.1, 10), ready("a", 0.1, 10)}), config);
  ASSERT_EQ(decision.drain.size(), 1u);
  EXPECT_EQ(decision.drain[0], "a");
}

TEST(PolicyThreshold, NeverDrainsTheLastReadyBridge) {
  Policy policy;
  auto config = threshold_config();
  config.config.min_bridges = 0;
  config.config.scale_down_periods = 1;
  Decision decision = policy.decide(snapshot_at(0, {ready("a", 0.0, 0)}), config);
  EXPECT_TRUE(decision.drain.empty()) << decision.reason;
}

TEST(PolicyThreshold, NeverGoesBelowMinBridges) {
  Policy policy;
  auto config = threshold_config();
  config.config.min_bridges = 2;
  config.config.scale_down_periods = 1;
  Decision decision =
      policy.decide(snapshot_at(0, {ready("a", 0.0, 0), ready("b", 0.0, 0)}), config);
  EXPECT_TRUE(decision.drain.empty()) << decision.reason;
  EXPECT_EQ(decision.desired, 2);
}

TEST(PolicyBounds, BelowMinCreatesAtOnceAndSaysWhy) {
  Policy policy;
  auto config = threshold_config();
  config.config.min_bridges = 3;
  Decision decision = policy.decide(snapshot_at(0, {ready("a", 0.5, 50)}), config);
  EXPECT_EQ(decision.create, 2);
  EXPECT_EQ(decision.desired, 3);
  EXPECT_NE(decision.reason.find("min_bridges 3"), std::string::npos) << decision.reason;
}

TEST(PolicyBounds, MaxCapsEveryExistingBridgeIncludingDrainingOnes) {
  Policy policy;
  auto config = threshold_config();
  config.config.max_bridges = 3;
  config.config.scale_up_periods = 1;
  // 2 ready (hot) + 1 draining = 3 existing: no room for a new bridge.
  Decision decision = policy.decide(
      snapshot_at(0, {ready("a", 0.9, 90), ready("b", 0.9, 90), draining("d", 0, 10, false)}),
      config);
  EXPECT_EQ(decision.create, 0);
  EXPECT_EQ(decision.desired, 3);
  EXPECT_NE(decision.reason.find("max_bridges 3 reached"), std::string::npos) << decision.reason;
}

TEST(PolicyBounds, LoweredMaxDrainsTheSurplus) {
  Policy policy;
  auto config = threshold_config();
  config.config.max_bridges = 2;
  Decision decision = policy.decide(
      snapshot_at(0, {ready("a", 0.5, 50), ready("b", 0.5, 40), ready("c", 0.5, 45)}), config);
  EXPECT_EQ(decision.desired, 2);
  ASSERT_EQ(decision.drain.size(), 1u);
  EXPECT_EQ(decision.drain[0], "b");
}

TEST(PolicyCleanup, DrainedBridgeIsRemoved) {
  Policy policy;
  Decision decision = policy.decide(
      snapshot_at(100, {ready("a", 0.5, 50), draining("d", 50, 0, true)}), threshold_config());
  EXPECT_EQ(decision.remove, std::vector<std::string>{"d"});
  EXPECT_TRUE(decision.failed.empty());
}

TEST(PolicyCleanup, DrainingBridgeWithParticipantsStaysUntilTimeout) {
  Policy policy;
  auto config = threshold_config();
  config.config.drain_timeout_seconds = 3600;
  Decision before =
      policy.decide(snapshot_at(3599, {ready("a", 0.5, 50), draining("d", 0, 12, false)}), config);
  EXPECT_TRUE(before.remove.empty());
  Decision after =
      policy.decide(snapshot_at(3600, {ready("a", 0.5, 50), draining("d", 0, 12, false)}), config);
  EXPECT_EQ(after.remove, std::vector<std::string>{"d"});
  EXPECT_NE(after.reason.find("drain timed out"), std::string::npos) << after.reason;
}

TEST(PolicyCleanup, ProvisioningPastBootTimeoutFailsAndIsRemoved) {
  Policy policy;
  auto config = threshold_config();
  config.config.boot_timeout_seconds = 900;
  Decision decision =
      policy.decide(snapshot_at(1000, {ready("a", 0.5, 50), provisioning("p", 100)}), config);
  EXPECT_EQ(decision.remove, std::vector<std::string>{"p"});
  EXPECT_EQ(decision.failed, std::vector<std::string>{"p"});
  Decision young =
      Policy().decide(snapshot_at(999, {ready("a", 0.5, 50), provisioning("p", 100)}), config);
  EXPECT_TRUE(young.remove.empty());
}

TEST(PolicyCleanup, UnmanagedDrainingBridgeIsNeverRemoved) {
  Policy policy;
  Decision decision = policy.decide(
      snapshot_at(1e6, {ready("a", 0.5, 50), draining("jvb1", 0, 0, true, /*managed=*/false)}),
      threshold_config());
  EXPECT_TRUE(decision.remove.empty());
}

TEST(PolicyBlind, SnapshotBlindHoldsEverything) {
  Policy policy;
  auto config = threshold_config();
  config.config.min_bridges = 3;
  auto snapshot =
      snapshot_at(1e6, {ready("a", 0.0, 0), draining("d", 0, 0, true), provisioning("p", 0)});
  snapshot.blind = true;
  Decision decision = policy.decide(snapshot, config);
  EXPECT_EQ(decision.create, 0);
  EXPECT_TRUE(decision.drain.empty());
  EXPECT_TRUE(decision.remove.empty());
  EXPECT_EQ(decision.action, "hold");
}

TEST(PolicyBlind, UnknownStatsBlockScaleDown) {
  Policy policy;
  auto config = threshold_config();
  config.config.scale_down_periods = 1;
  BridgeView unknown = ready("u", 0, 0);
  unknown.stress.reset();
  Decision decision =
      policy.decide(snapshot_at(0, {ready("a", 0.1, 10), ready("b", 0.1, 10), unknown}), config);
  EXPECT_TRUE(decision.drain.empty());
  EXPECT_EQ(decision.action, "hold");
  EXPECT_NE(decision.reason.find("stats of u unknown"), std::string::npos) << decision.reason;
}

TEST(PolicyOverrides, PausedCreatesAndDrainsNothingButFinishesDrains) {
  Policy policy;
  auto config = threshold_config();
  config.config.min_bridges = 4;
  auto snapshot = snapshot_at(0, {ready("a", 0.5, 50), draining("d", 0, 0, true)});
  snapshot.overrides.paused = true;
  snapshot.overrides.drain_requests = {"a"};
  Decision decision = policy.decide(snapshot, config);
  EXPECT_EQ(decision.create, 0);
  EXPECT_TRUE(decision.drain.empty());
  EXPECT_EQ(decision.remove, std::vector<std::string>{"d"});
  EXPECT_EQ(decision.action, "paused");
}

TEST(PolicyOverrides, PinnedIsClampedAndReported) {
  Policy policy;
  auto config = threshold_config();
  config.config.max_bridges = 5;
  auto snapshot = snapshot_at(0, {ready("a", 0.1, 10)});
  snapshot.overrides.pinned = 8;
  Decision decision = policy.decide(snapshot, config);
  EXPECT_EQ(decision.desired, 5);
  EXPECT_EQ(decision.create, 4);
  EXPECT_EQ(decision.action, "pinned");
  EXPECT_NE(decision.reason.find("pinned to 8"), std::string::npos) << decision.reason;
  EXPECT_NE(decision.reason.find("max_bridges 5 caps 8 to 5"), std::string::npos)
      << decision.reason;
}

TEST(PolicyOverrides, PinnedBelowCurrentDrainsFewestParticipantsFirst) {
  Policy policy;
  auto snapshot = snapshot_at(0, {ready("a", 0.5, 50), ready("b", 0.5, 20), ready("c", 0.5, 30)});
  snapshot.overrides.pinned = 1;
  Decision decision = policy.decide(snapshot, threshold_config());
  EXPECT_EQ(decision.drain, (std::vector<std::string>{"b", "c"}));
}

TEST(PolicyOverrides, LargeScaleDownKeepsTheReasonShort) {
  std::vector<BridgeView> bridges;
  for (int i = 0; i < 40; ++i) bridges.push_back(ready("b" + std::to_string(100 + i), 0.5, i));
  auto snapshot = snapshot_at(0, bridges);
  snapshot.overrides.pinned = 2;
  Decision decision = Policy().decide(snapshot, threshold_config());
  EXPECT_EQ(decision.drain.size(), 38u);
  EXPECT_EQ(decision.drain.front(), "b100");  // fewest participants first
  EXPECT_NE(decision.reason.find("drain b104 (4 participants); and 33 more"), std::string::npos)
      << decision.reason;
  EXPECT_LT(decision.reason.size(), 400u);
}

TEST(PolicyOverrides, DrainRequestDrainsManagedBridgeAndIgnoresUnmanaged) {
  Policy policy;
  auto snapshot = snapshot_at(
      0, {ready("a", 0.5, 50), ready("b", 0.5, 50), ready("jvb1", 0.5, 50, /*managed=*/false)});
  snapshot.overrides.drain_requests = {"b", "jvb1", "nope"};
  Decision decision = policy.decide(snapshot, threshold_config());
  EXPECT_EQ(decision.drain, std::vector<std::string>{"b"});
  EXPECT_NE(decision.reason.find("jvb1 ignored: not managed"), std::string::npos);
  EXPECT_NE(decision.reason.find("nope ignored: no such bridge"), std::string::npos);
}

TEST(PolicyOverrides, DrainOfLastReadyBridgeWaitsForAReplacement) {
  Policy policy;
  auto snapshot = snapshot_at(0, {ready("a", 0.5, 50)});
  snapshot.overrides.drain_requests = {"a"};
  Decision decision = policy.decide(snapshot, threshold_config());
  EXPECT_TRUE(decision.drain.empty());
  EXPECT_EQ(decision.create, 1) << decision.reason;
  // Once the replacement is ready, the drain goes ahead.
  snapshot = snapshot_at(200, {ready("a", 0.5, 50), ready("b", 0.0, 0)});
  snapshot.overrides.drain_requests = {"a"};
  decision = policy.decide(snapshot, threshold_config());
  EXPECT_EQ(decision.drain, std::vector<std::string>{"a"});
}

TEST(PolicyOverrides, InhibitScaleDownKeepsTheFleet) {
  Policy policy;
  auto config = threshold_config();
  config.config.scale_down_periods = 1;
  config.inhibit_scale_down = true;
  config.window = "workday";
  Decision decision =
      policy.decide(snapshot_at(0, {ready("a", 0.0, 0), ready("b", 0.0, 0)}), config);
  EXPECT_TRUE(decision.drain.empty());
  EXPECT_NE(decision.reason.find("inhibited by schedule window workday"), std::string::npos);
}

TEST(PolicyTarget, ScalesUpAtOnceToTheRecommendation) {
  Policy policy;
  // Σ stress 2.7 / 0.6 = 4.5 -> 5 bridges, from 3.
  Decision decision =
      policy.decide(snapshot_at(0, {ready("a", 0.9, 90), ready("b", 0.9, 90), ready("c", 0.9, 90)}),
                    target_config());
  EXPECT_EQ(decision.desired, 5);
  EXPECT_EQ(decision.create, 2);
  EXPECT_NE(decision.reason.find("stress sum 2.70 / target 0.60 -> 5"), std::string::npos)
      << decision.reason;
}

TEST(PolicyTarget, WithinToleranceHolds) {
  Policy policy;
  // mean 0.64 is within 10 % of 0.6: keep 3, although ceil(1.92 / 0.6) = 4.
  Decision decision = policy.decide(
      snapshot_at(0, {ready("a", 0.64, 64), ready("b", 0.64, 64), ready("c", 0.64, 64)}),
      target_config());
  EXPECT_EQ(decision.desired, 3);
  EXPECT_EQ(decision.create, 0);
}

TEST(PolicyTarget, ScalesDownOnlyAfterTheStabilisationWindow) {
  Policy policy;
  auto config = target_config();
  config.config.cooldown_seconds = 0;
  config.config.scale_down_periods = 3;  // window 30 s
  auto busy = snapshot_at(
      0, {ready("a", 0.6, 60), ready("b", 0.6, 60), ready("c", 0.6, 60), ready("d", 0.6, 60)});
  EXPECT_EQ(policy.decide(busy, config).desired, 4);
  auto quiet = snapshot_at(
      10, {ready("a", 0.3, 30), ready("b", 0.3, 30), ready("c", 0.3, 30), ready("d", 0.3, 30)});
  // Recommendation is 2, but 4 was recommended within the last 30 s.
  for (double now : {10.0, 20.0}) {
    quiet.now = now;
    Decision decision = policy.decide(quiet, config);
    EXPECT_EQ(decision.desired, 4) << decision.reason;
    EXPECT_TRUE(decision.drain.empty());
  }
  quiet.now = 30;
  Decision decision = policy.decide(quiet, config);
  EXPECT_EQ(decision.desired, 2) << decision.reason;
  EXPECT_EQ(decision.drain.size(), 2u);
}

TEST(PolicyBilling, LoadDrivenScaleDownWaitsForThePaidHourToEnd) {
  auto config = threshold_config();
  config.config.scale_down_periods = 1;
  config.config.billing_period_seconds = 3600;
  config.config.billing_drain_lead_seconds = 600;
  auto make = [](double now) {
    auto snapshot = snapshot_at(now, {ready("a", 0.1, 10), ready("b", 0.05, 5)});
    for (auto& bridge : snapshot.bridges) bridge.created_at = 0;
    return snapshot;
  };
  Policy policy;
  Decision early = policy.decide(make(1000), config);
  EXPECT_TRUE(early.drain.empty());
  EXPECT_NE(early.reason.find("waits until b's paid hour ends (43 min left)"), std::string::npos)
      << early.reason;
  Decision late = policy.decide(make(3100), config);
  EXPECT_EQ(late.drain, std::vector<std::string>{"b"}) << late.reason;
  // The second paid hour works the same way.
  EXPECT_TRUE(Policy().decide(make(4000), config).drain.empty());
  EXPECT_EQ(Policy().decide(make(6700), config).drain, std::vector<std::string>{"b"});
}

TEST(PolicyBilling, PinnedCountDoesNotWaitForThePaidHour) {
  auto config = threshold_config();
  auto snapshot = snapshot_at(1000, {ready("a", 0.5, 50), ready("b", 0.5, 40)});
  for (auto& bridge : snapshot.bridges) bridge.created_at = 0;
  snapshot.overrides.pinned = 1;
  EXPECT_EQ(Policy().decide(snapshot, config).drain, std::vector<std::string>{"b"});
}

TEST(PolicyTrend, RisingLoadScalesUpBeforeTheMeanCrossesTheThreshold) {
  for (double lookahead : {0.0, 180.0}) {
    auto config = threshold_config();
    config.config.scale_up_periods = 1;
    config.config.lookahead_seconds = lookahead;
    config.config.trend_window_seconds = 60;
    Policy policy;
    // +0.1 stress per 10 s on each of 2 bridges: mean 0.5 now, 2.3 projected in 180 s.
    EXPECT_EQ(
        policy.decide(snapshot_at(0, {ready("a", 0.4, 40), ready("b", 0.4, 40)}), config).create,
        0);
    Decision rising =
        policy.decide(snapshot_at(10, {ready("a", 0.5, 50), ready("b", 0.5, 50)}), config);
    EXPECT_EQ(rising.create, lookahead > 0 ? 1 : 0) << rising.reason;
    if (lookahead > 0) {
      EXPECT_NE(rising.reason.find("mean stress 0.50 (2.30 projected) > 0.70"), std::string::npos)
          << rising.reason;
    }
  }
}

TEST(PolicyTrend, FallingLoadIsNotProjected) {
  auto config = target_config();
  Policy policy;
  policy.decide(snapshot_at(0, {ready("a", 0.6, 60), ready("b", 0.6, 60)}), config);
  Decision falling =
      policy.decide(snapshot_at(10, {ready("a", 0.3, 30), ready("b", 0.3, 30)}), config);
  EXPECT_EQ(falling.reason.find("projected"), std::string::npos) << falling.reason;
  EXPECT_EQ(falling.create, 0);
}

TEST(PolicyState, ToStringNamesEveryState) {
  EXPECT_EQ(to_string(BridgeState::kProvisioning), "provisioning");
  EXPECT_EQ(to_string(BridgeState::kReady), "ready");
  EXPECT_EQ(to_string(BridgeState::kDraining), "draining");
  EXPECT_EQ(to_string(BridgeState::kDeleting), "deleting");
  EXPECT_EQ(to_string(BridgeState::kFailed), "failed");
}

}  // namespace
}  // namespace scaling
