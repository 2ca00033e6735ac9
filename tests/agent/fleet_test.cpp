// The Fleet alone: lifecycle transitions, external state names, freshness and the policy view.
#include "agent/fleet.h"

#include <gtest/gtest.h>

namespace agent {
namespace {

using namespace std::chrono_literals;

const MonoTime kT0 = MonoTime(std::chrono::hours(1000));
const WallTime kWall0 = WallTime(std::chrono::seconds(1'767'000'000));

linode::Instance instance(const std::string& label, int64_t id) {
  linode::Instance result;
  result.id = id;
  result.label = label;
  result.status = "running";
  result.created = "2025-12-29T09:00:00";  // 1767000000 - 20 minutes... see the view test
  return result;
}

xmpp::BridgeStats stats(double stress, int64_t participants) {
  xmpp::BridgeStats result;
  result.stress_level = stress;
  result.participants = participants;
  result.conferences = 1;
  return result;
}

TEST(Lifecycle, TransitionTableRefusesNonsense) {
  EXPECT_TRUE(legal_transition(Lifecycle::kProvisioning, Lifecycle::kReady));
  EXPECT_TRUE(legal_transition(Lifecycle::kReady, Lifecycle::kDraining));
  EXPECT_TRUE(legal_transition(Lifecycle::kDraining, Lifecycle::kDeleting));
  EXPECT_TRUE(legal_transition(Lifecycle::kProvisioning, Lifecycle::kFailed));
  EXPECT_FALSE(legal_transition(Lifecycle::kDeleting, Lifecycle::kFailed));
  EXPECT_FALSE(legal_transition(Lifecycle::kFailed, Lifecycle::kDraining));
  EXPECT_FALSE(legal_transition(Lifecycle::kReady, Lifecycle::kFailed))
      << "a bridge that joined never failed its boot";
  EXPECT_FALSE(legal_transition(Lifecycle::kReady, Lifecycle::kReady));
  Fleet fleet;
  Notes notes;
  fleet.on_presence("jvb-as-1", stats(0.1, 1), kT0, notes);
  Bridge& bridge = *fleet.find("jvb-as-1");
  EXPECT_FALSE(fleet.move(bridge, Lifecycle::kFailed));
  EXPECT_EQ(bridge.state, Lifecycle::kReady);
}

TEST(Fleet, ExternalStatesFollowPresenceAndOwnership) {
  Fleet fleet;
  Notes notes;
  fleet.on_presence("jvb1", stats(0.2, 5), kT0, notes);
  EXPECT_EQ(Fleet::external_state(*fleet.find("jvb1")), "unmanaged");
  fleet.merge_instances({instance("jvb-as-1", 7)}, kT0, true, notes);
  EXPECT_EQ(Fleet::external_state(*fleet.find("jvb-as-1")), "provisioning");
  fleet.on_presence("jvb-as-1", stats(0.3, 5), kT0 + 5s, notes);
  EXPECT_EQ(Fleet::external_state(*fleet.find("jvb-as-1")), "ready");
  fleet.on_left("jvb-as-1", kT0 + 6s, notes);
  EXPECT_EQ(Fleet::external_state(*fleet.find("jvb-as-1")), "lost")
      << "ready, then out of the brewery while its instance runs";
  fleet.on_presence("jvb-as-1", stats(0.3, 5), kT0 + 7s, notes);
  EXPECT_EQ(Fleet::external_state(*fleet.find("jvb-as-1")), "ready");
  fleet.on_left("jvb1", kT0 + 6s, notes);
  EXPECT_EQ(fleet.find("jvb1"), nullptr) << "an unmanaged bridge exists only through presence";
}

TEST(Fleet, DisconnectForgetsUnmanagedAndKeepsManaged) {
  Fleet fleet;
  Notes notes;
  fleet.on_presence("jvb1", stats(0.2, 5), kT0, notes);
  fleet.merge_instances({instance("jvb-as-1", 7)}, kT0, true, notes);
  fleet.on_presence("jvb-as-1", stats(0.3, 5), kT0, notes);
  fleet.on_disconnected();
  EXPECT_EQ(fleet.find("jvb1"), nullptr);
  ASSERT_NE(fleet.find("jvb-as-1"), nullptr);
  EXPECT_FALSE(fleet.find("jvb-as-1")->in_brewery);
}

TEST(Fleet, StatsGoStaleAfterTheSilenceTimeout) {
  Fleet fleet(FleetRules{30s});
  Notes notes;
  fleet.on_presence("jvb1", stats(0.4, 5), kT0, notes);
  auto views = fleet.views(kT0 + 30s, kWall0);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].stress, 0.4);
  views = fleet.views(kT0 + 31s, kWall0);
  EXPECT_FALSE(views[0].stress.has_value()) << "silent past the timeout: unknown";
}

TEST(Fleet, ViewsUseMonotonicSecondsAndConvertWallTimes) {
  Fleet fleet;
  Notes notes;
  auto listed = instance("jvb-as-1", 7);
  listed.created = "2026-01-01T00:00:00";
  fleet.merge_instances({listed}, kT0, /*xmpp_connected=*/true, notes);
  const WallTime wall_now = WallTime(std::chrono::seconds(1'767'225'600)) + 600s;  // +10 min
  auto views = fleet.views(kT0 + 100s, wall_now);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].state, scaling::BridgeState::kProvisioning);
  EXPECT_DOUBLE_EQ(views[0].state_since, policy_seconds(kT0));
  ASSERT_TRUE(views[0].created_at.has_value());
  EXPECT_DOUBLE_EQ(*views[0].created_at, policy_seconds(kT0 + 100s) - 600);
}

TEST(Fleet, UnmanagedBridgeDrainedByItsOperatorIsNotCapacity) {
  Fleet fleet;
  Notes notes;
  auto drained = stats(0.1, 3);
  drained.drain = true;
  fleet.on_presence("jvb1", drained, kT0, notes);
  auto views = fleet.views(kT0, kWall0);
  EXPECT_EQ(views[0].state, scaling::BridgeState::kDraining);
  EXPECT_FALSE(views[0].managed);
}

TEST(Fleet, BlindReasons) {
  EXPECT_EQ(blind_reason({false, true, true, false}), "brewery connection down");
  EXPECT_EQ(blind_reason({true, false, false, false}), "Linode instance list not read yet");
  EXPECT_EQ(blind_reason({true, false, true, true}), "Linode API failing");
  EXPECT_EQ(blind_reason({true, true, true, false}), std::nullopt);
}

}  // namespace
}  // namespace agent
