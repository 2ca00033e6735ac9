// The typed decision (issue 14): actions carry reason codes that live in scaling/, the sentence
// is written by explain(), and the deprecated string/name fields are derived from the typed ones.
#include <gtest/gtest.h>

#include "scaling/policy.h"
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

BridgeView with_state(std::string name, BridgeState state, double since, int participants) {
  BridgeView bridge = ready(std::move(name), participants / 100.0, participants);
  bridge.state = state;
  bridge.state_since = since;
  return bridge;
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
  return effective;
}

Snapshot at(double now, std::vector<BridgeView> bridges) {
  Snapshot snapshot;
  snapshot.now = now;
  snapshot.bridges = std::move(bridges);
  return snapshot;
}

TEST(PolicyDecision, StateAndReasonNamesAreMetricLabels) {
  EXPECT_EQ(to_string(BridgeState::kShuttingDown), "shutting_down");
  EXPECT_EQ(to_string(BridgeState::kUnhealthy), "unhealthy");
  EXPECT_EQ(to_string(BridgeState::kLost), "lost");
  EXPECT_EQ(to_string(Reason::kStressHigh), "stress_high");
  EXPECT_EQ(to_string(Reason::kBelowMin), "below_min");
  EXPECT_EQ(to_string(Reason::kOperator), "manual");
  EXPECT_EQ(to_string(Reason::kDrainedEmpty), "drained");
  EXPECT_EQ(to_string(Reason::kBootTimeout), "boot_timeout");
  EXPECT_EQ(to_string(Action::kScaleUp), "scale_up");
}

TEST(PolicyDecision, BelowMinCreatesCarryTheBelowMinReason) {
  Decision decision = Policy().decide(at(0, {ready("a", 0.5, 50)}), config(3));
  ASSERT_EQ(decision.creates.size(), 1u);
  EXPECT_EQ(decision.creates[0], (CreateAction{2, Reason::kBelowMin}));
  EXPECT_EQ(decision.outcome, Action::kScaleUp);
  EXPECT_EQ(decision.create, 2);  // deprecated mirror
  EXPECT_EQ(decision.reason, explain(decision));
}

TEST(PolicyDecision, LoadCreatesCarryStressHigh) {
  Decision decision = Policy().decide(at(0, {ready("a", 0.9, 90), ready("b", 0.9, 90)}), config());
  ASSERT_EQ(decision.creates.size(), 1u);
  EXPECT_EQ(decision.creates[0].reason, Reason::kStressHigh);
}

TEST(PolicyDecision, PinnedCreatesAndDrainsCarryPinned) {
  Snapshot up = at(0, {ready("a", 0.1, 10)});
  up.overrides.pinned = 3;
  Decision decision = Policy().decide(up, config());
  ASSERT_EQ(decision.creates.size(), 1u);
  EXPECT_EQ(decision.creates[0], (CreateAction{2, Reason::kPinned}));
  Snapshot down = at(0, {ready("a", 0.5, 50), ready("b", 0.5, 40)});
  down.overrides.pinned = 1;
  decision = Policy().decide(down, config());
  ASSERT_EQ(decision.drains.size(), 1u);
  EXPECT_EQ(decision.drains[0], (BridgeAction{"b", Reason::kPinned}));
}

TEST(PolicyDecision, LoweredMaxDrainsCarryAboveMaxAndLowLoadStressLow) {
  Decision capped = Policy().decide(
      at(0, {ready("a", 0.5, 50), ready("b", 0.5, 40), ready("c", 0.5, 45)}), config(1, 2));
  ASSERT_EQ(capped.drains.size(), 1u);
  EXPECT_EQ(capped.drains[0], (BridgeAction{"b", Reason::kAboveMax}));
  Decision low = Policy().decide(at(0, {ready("a", 0.1, 10), ready("b", 0.1, 5)}), config());
  ASSERT_EQ(low.drains.size(), 1u);
  EXPECT_EQ(low.drains[0], (BridgeAction{"b", Reason::kStressLow}));
  EXPECT_EQ(low.drain, std::vector<std::string>{"b"});  // deprecated mirror
}

TEST(PolicyDecision, OperatorDrainCarriesManual) {
  Snapshot snapshot = at(0, {ready("a", 0.5, 50), ready("b", 0.5, 50)});
  snapshot.overrides.drain_requests = {"b"};
  Decision decision = Policy().decide(snapshot, config());
  ASSERT_EQ(decision.drains.size(), 1u);
  EXPECT_EQ(decision.drains[0], (BridgeAction{"b", Reason::kOperator}));
}

TEST(PolicyDecision, CleanupDeletesCarryTheirCause) {
  BridgeView empty = with_state("d", BridgeState::kDraining, 50, 0);
  empty.drained_empty = true;
  BridgeView boot = with_state("p", BridgeState::kProvisioning, 0, 0);
  Decision decision = Policy().decide(at(1000, {ready("a", 0.5, 50), empty, boot}), config());
  EXPECT_EQ(decision.deletes,
            (std::vector<BridgeAction>{{"d", Reason::kDrainedEmpty}, {"p", Reason::kBootTimeout}}));
  EXPECT_EQ(decision.failed, std::vector<std::string>{"p"});
  EXPECT_EQ(decision.outcome, Action::kRemove);
}

}  // namespace
}  // namespace scaling
