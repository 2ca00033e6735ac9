// The bridge lifecycle rules of issue 15 in the pure policy (DESIGN §5 "Scale-down and the
// bridge lifecycle", "A drain counts once it took effect", "Undrain before create", "Health",
// "Stats a decision needs").
#include <gtest/gtest.h>

#include "scaling/policy.h"
#include "test_support/classic_profile.h"
namespace scaling {
namespace {

BridgeView bridge(std::string name, BridgeState state, double stress, std::optional<int> people,
                  double since = 0) {
  BridgeView view;
  view.name = std::move(name);
  view.state = state;
  view.managed = true;
  view.stress = stress;
  view.participants = people;
  view.state_since = since;
  return view;
}

BridgeView ready(std::string name, double stress, std::optional<int> people) {
  return bridge(std::move(name), BridgeState::kReady, stress, people);
}

// The old contract profile (0.7/0.3, no billing wait, levers off), pinned: the measured defaults
// of ScalingConfig may move (test_support/classic_profile.h).
EffectiveConfig config(int min_bridges = 1, int max_bridges = 10) {
  EffectiveConfig effective = test_support::classic_effective_config();
  effective.config.min_bridges = min_bridges;
  effective.config.max_bridges = max_bridges;
  effective.config.scale_up_periods = 1;
  effective.config.scale_down_periods = 1;
  effective.config.cooldown_seconds = 0;
  effective.config.drain_timeout_seconds = 3600;
  effective.config.unhealthy_timeout_seconds = 300;
  return effective;
}

Snapshot at(double now, std::vector<BridgeView> bridges, bool can_undrain = false) {
  Snapshot snapshot;
  snapshot.now = now;
  snapshot.bridges = std::move(bridges);
  snapshot.can_undrain = can_undrain;
  return snapshot;
}

std::vector<std::string> names(const std::vector<BridgeAction>& actions) {
  std::vector<std::string> out;
  for (const auto& action : actions) out.push_back(action.bridge);
  return out;
}

TEST(PolicyLifecycle, ABridgeWithStressButNoParticipantsCountsByItsStress) {
  Decision decision =
      Policy().decide(at(0, {ready("a", 0.1, std::nullopt), ready("b", 0.1, 10)}), config());
  ASSERT_TRUE(decision.cluster_stress);
  EXPECT_NEAR(*decision.cluster_stress, 0.1, 1e-9);
  EXPECT_EQ(decision.reason.find("unknown"), std::string::npos) << decision.reason;
  // It scales down, and the bridge that publishes participants is the victim (a drain of a
  // bridge without participants could only end by shutdown).
  EXPECT_EQ(decision.drain, std::vector<std::string>{"b"}) << decision.reason;
}

TEST(PolicyLifecycle, BridgesWithoutParticipantsAreVictimsByStress) {
  Decision decision = Policy().decide(
      at(0, {ready("a", 0.2, std::nullopt), ready("b", 0.1, std::nullopt), ready("c", 0.25, 1)}),
      config(1, 10));
  ASSERT_FALSE(decision.drains.empty()) << decision.reason;
  EXPECT_EQ(decision.drains[0].bridge, "c");
  Snapshot two = at(0, {ready("a", 0.2, std::nullopt), ready("b", 0.1, std::nullopt)});
  decision = Policy().decide(two, config());
  EXPECT_EQ(decision.drain, std::vector<std::string>{"b"}) << decision.reason;
}

TEST(PolicyLifecycle, DrainTimeoutWithParticipantsShutsDownAndNeverDeletes) {
  Decision decision = Policy().decide(
      at(3600, {ready("a", 0.5, 50), bridge("d", BridgeState::kDraining, 0.1, 12)}), config());
  EXPECT_TRUE(decision.deletes.empty());
  EXPECT_EQ(decision.shutdowns, (std::vector<BridgeAction>{{"d", Reason::kDrainTimeout}}));
  EXPECT_NE(decision.reason.find("d drain timed out after 3600 s with 12 participants"),
            std::string::npos)
      << decision.reason;
}

TEST(PolicyLifecycle, AStaleZeroIsNotEmpty) {
  // 0 participants, but not yet confirmed empty on two presences: keep waiting.
  Decision decision = Policy().decide(
      at(100, {ready("a", 0.5, 50), bridge("d", BridgeState::kDraining, 0, 0)}), config());
  EXPECT_TRUE(decision.deletes.empty());
  EXPECT_TRUE(decision.shutdowns.empty());
}

TEST(PolicyLifecycle, ShuttingDownBridgeIsDeletedOnlyOnceItLeftTheBrewery) {
  BridgeView shutting = bridge("s", BridgeState::kShuttingDown, 0.3, 30, 100);
  Decision still_in = Policy().decide(at(200, {ready("a", 0.5, 50), shutting}), config());
  EXPECT_TRUE(still_in.deletes.empty()) << still_in.reason;
  EXPECT_TRUE(still_in.shutdowns.empty());
  shutting.in_brewery = false;
  Decision left = Policy().decide(at(300, {ready("a", 0.5, 50), shutting}), config());
  EXPECT_EQ(left.deletes, (std::vector<BridgeAction>{{"s", Reason::kLeftBrewery}}));
  shutting.in_brewery = true;
  shutting.drained_empty = true;
  Decision empty = Policy().decide(at(300, {ready("a", 0.5, 50), shutting}), config());
  EXPECT_EQ(empty.deletes, (std::vector<BridgeAction>{{"s", Reason::kDrainedEmpty}}));
}

TEST(PolicyLifecycle, ADrainingBridgeThatLeftTheBreweryIsDeleted) {
  BridgeView gone = bridge("d", BridgeState::kDraining, 0.3, 30, 100);
  gone.in_brewery = false;
  Decision decision = Policy().decide(at(200, {ready("a", 0.5, 50), gone}), config());
  EXPECT_EQ(decision.deletes, (std::vector<BridgeAction>{{"d", Reason::kLeftBrewery}}));
}

TEST(PolicyLifecycle, ShutdownsStillCountAgainstMaxBridges) {
  auto effective = config(1, 3);
  Decision decision = Policy().decide(at(3600, {ready("a", 0.9, 90), ready("b", 0.9, 90),
                                                bridge("d", BridgeState::kDraining, 0.1, 12)}),
                                      effective);
  EXPECT_EQ(decision.shutdowns.size(), 1u);
  EXPECT_EQ(decision.create_count(), 0) << decision.reason;
}

TEST(PolicyLifecycle, UnhealthyBridgeIsNotCapacityNorAVictim) {
  // Unhealthy "u" at 0 stress would dilute the mean to 0.4; alone, "a" is at 0.8: scale up.
  Decision decision = Policy().decide(
      at(0, {ready("a", 0.8, 80), bridge("u", BridgeState::kUnhealthy, 0.0, 0, 0)}), config());
  ASSERT_TRUE(decision.cluster_stress);
  EXPECT_NEAR(*decision.cluster_stress, 0.8, 1e-9);
  EXPECT_EQ(decision.create_count(), 1) << decision.reason;
  // At low load the unhealthy bridge is never picked to drain.
  decision = Policy().decide(
      at(0, {ready("a", 0.1, 10), ready("b", 0.1, 10), bridge("u", BridgeState::kUnhealthy, 0, 0)}),
      config());
  for (const auto& drain : decision.drains) EXPECT_NE(drain.bridge, "u");
}

TEST(PolicyLifecycle, UnhealthyPastTheTimeoutIsShutDownOnceAnotherBridgeIsReady) {
  const BridgeView sick = bridge("u", BridgeState::kUnhealthy, 0.3, 30, 0);
  Decision early = Policy().decide(at(299, {ready("a", 0.5, 50), sick}), config());
  EXPECT_TRUE(early.shutdowns.empty());
  Decision late = Policy().decide(at(300, {ready("a", 0.5, 50), sick}), config());
  EXPECT_EQ(late.shutdowns, (std::vector<BridgeAction>{{"u", Reason::kUnhealthy}}));
  EXPECT_TRUE(late.deletes.empty());
}

TEST(PolicyLifecycle, UnhealthyAloneGetsAReplacementFirst) {
  auto effective = config(0, 10);
  const BridgeView sick = bridge("u", BridgeState::kUnhealthy, 0.3, 30, 0);
  Decision decision = Policy().decide(at(400, {sick}), effective);
  EXPECT_TRUE(decision.shutdowns.empty()) << decision.reason;
  EXPECT_TRUE(decision.deletes.empty());
  EXPECT_EQ(decision.create_count(), 1) << decision.reason;
  EXPECT_EQ(decision.creates[0].reason, Reason::kReplacement);
}

TEST(PolicyLifecycle, UnhealthyOutOfTheBreweryIsDeleted) {
  BridgeView sick = bridge("u", BridgeState::kUnhealthy, 0.3, 30, 0);
  sick.in_brewery = false;
  Decision decision = Policy().decide(at(300, {ready("a", 0.5, 50), sick}), config());
  EXPECT_EQ(decision.deletes, (std::vector<BridgeAction>{{"u", Reason::kUnhealthy}}));
}

TEST(PolicyLifecycle, LostBridgeIsNotCapacityAndIsDeletedAfterTheTimeout) {
  BridgeView lost = bridge("l", BridgeState::kLost, 0, std::nullopt, 0);
  lost.stress.reset();
  lost.in_brewery = false;
  auto effective = config(2, 10);
  Decision decision = Policy().decide(at(10, {ready("a", 0.5, 50), lost}), effective);
  EXPECT_EQ(decision.create_count(), 1) << decision.reason;  // min 2: "l" is not capacity
  EXPECT_TRUE(decision.deletes.empty());
  decision = Policy().decide(at(300, {ready("a", 0.5, 50), lost}), effective);
  EXPECT_EQ(decision.deletes, (std::vector<BridgeAction>{{"l", Reason::kLost}}));
}

TEST(PolicyLifecycle, UndrainBeforeCreate) {
  const std::vector<BridgeView> fleet = {ready("a", 0.9, 90), ready("b", 0.9, 90),
                                         bridge("d1", BridgeState::kDraining, 0.1, 10, 0),
                                         bridge("d2", BridgeState::kDraining, 0.3, 30, 0)};
  auto effective = config();
  effective.config.scale_up_step = 2;
  Decision decision = Policy().decide(at(10, fleet, /*can_undrain=*/true), effective);
  EXPECT_EQ(names(decision.undrains), (std::vector<std::string>{"d2", "d1"})) << decision.reason;
  EXPECT_EQ(decision.undrains[0].reason, Reason::kStressHigh);
  EXPECT_EQ(decision.create_count(), 0);
  EXPECT_EQ(decision.outcome, Action::kScaleUp);
  EXPECT_NE(decision.reason.find("undrain d2 (30 participants) instead of creating"),
            std::string::npos)
      << decision.reason;
  // A caller that cannot undrain gets creates, as before.
  Decision old = Policy().decide(at(10, fleet, /*can_undrain=*/false), effective);
  EXPECT_TRUE(old.undrains.empty());
  EXPECT_EQ(old.create_count(), 2);
}

TEST(PolicyLifecycle, OnlyOurOwnDrainsWithParticipantsAreUndrained) {
  BridgeView foreign = bridge("f", BridgeState::kDraining, 0.3, 30, 0);
  foreign.foreign_drain = true;
  BridgeView empty = bridge("e", BridgeState::kDraining, 0, 0, 0);
  BridgeView other = bridge("o", BridgeState::kDraining, 0.3, 30, 0);
  other.managed = false;
  Decision decision = Policy().decide(
      at(10, {ready("a", 0.9, 90), foreign, empty, other}, /*can_undrain=*/true), config());
  EXPECT_TRUE(decision.undrains.empty()) << decision.reason;
  EXPECT_EQ(decision.create_count(), 1);
}

TEST(PolicyLifecycle, AForeignDrainIsNeitherTimedOutNorDeleted) {
  BridgeView foreign = bridge("f", BridgeState::kDraining, 0, 0, 0);
  foreign.foreign_drain = true;
  foreign.drained_empty = true;
  Decision decision = Policy().decide(at(1e6, {ready("a", 0.5, 50), foreign}), config());
  EXPECT_TRUE(decision.deletes.empty());
  EXPECT_TRUE(decision.shutdowns.empty());
}

TEST(PolicyLifecycle, FailedBootsSuspendCreationButNotUndrains) {
  auto effective = config(3, 10);
  effective.config.max_failed_boots = 3;
  Snapshot snapshot = at(0, {ready("a", 0.5, 50), bridge("d", BridgeState::kDraining, 0.2, 20)},
                         /*can_undrain=*/true);
  snapshot.failed_boots = 3;
  Decision decision = Policy().decide(snapshot, effective);
  EXPECT_EQ(names(decision.undrains), std::vector<std::string>{"d"});
  EXPECT_EQ(decision.create_count(), 0);
  EXPECT_NE(decision.reason.find("creation suspended after 3 failed boots"), std::string::npos)
      << decision.reason;
  snapshot.failed_boots = 2;
  EXPECT_EQ(Policy().decide(snapshot, effective).create_count(), 1);
}

}  // namespace
}  // namespace scaling
