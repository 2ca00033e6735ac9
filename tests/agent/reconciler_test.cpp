// The agent's own logic, in process: a Reconciler over an in-memory Linode (FakeLinode), a
// recording drain client and a fake clock, fed synthetic brewery events. No process, no
// network, no sleep: each test runs in milliseconds.
#include "agent/reconciler.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "agent/control_handler.h"
#include "agent/control_server.h"
#include "agent/time_source.h"
#include "fakes.h"
#include "reconciler_harness.h"

namespace agent {
namespace {

using agent_test::FakeDrains;
using agent_test::FakeLinode;
using namespace std::chrono_literals;

using harness::kTags;
using harness::ReconcilerTest;

// ---- creates -------------------------------------------------------------------------------

TEST_F(ReconcilerTest, CreatesForMinOnlyOnceItSeesTheBreweryAndTheList) {
  start();
  period();  // not connected: blind
  EXPECT_EQ(linode.creates_sent, 0);
  connect();
  period();
  ASSERT_EQ(linode.creates_sent, 1);
  EXPECT_EQ(linode.labels_requested[0], "jvb-as-1");
  EXPECT_EQ(state_of("jvb-as-1"), "provisioning");
  periods(3);  // a provisioning bridge counts: no second create
  EXPECT_EQ(linode.creates_sent, 1);
}

TEST_F(ReconcilerTest, AmbiguousPostIsAdoptedByLabel) {
  linode.create_script.push_back({FakeLinode::CreateMode::kCreateButFail, FakeLinode::ambiguous()});
  start();
  connect();
  period();
  ASSERT_EQ(linode.creates_sent, 1);
  ASSERT_EQ(linode.instances.size(), 1u);
  const auto status = ctl({{"cmd", "status"}});
  ASSERT_EQ(status["bridges"].size(), 1u);
  EXPECT_EQ(status["bridges"][0]["linode_id"], linode.instances.begin()->first);
  EXPECT_EQ(
      metric("jvb_autoscaler_scaling_actions_total{action=\"adopt\",reason=\"ambiguous_create\"}"),
      "1");
  periods(5);
  EXPECT_EQ(linode.creates_sent, 1) << "an adopted instance is not bought twice";
  EXPECT_EQ(linode.instances.size(), 1u);
}

TEST_F(ReconcilerTest, LabelTakenAfterGatewayErrorIsAdopted) {
  // The first POST reached the API but its answer was a 502; the client's retry then found the
  // label taken: 400 "Label must be unique" on field label.
  linode.create_script.push_back(
      {FakeLinode::CreateMode::kCreateButFail, FakeLinode::label_taken()});
  start();
  connect();
  period();
  ASSERT_EQ(linode.instances.size(), 1u);
  EXPECT_EQ(reconciler->fleet().find("jvb-as-1")->linode_id, linode.instances.begin()->first);
  periods(5);
  EXPECT_EQ(linode.creates_sent, 1);
  EXPECT_EQ(linode.instances.size(), 1u);
}

TEST_F(ReconcilerTest, AnswerWithoutInstanceForgetsTheLabelAndNeverReusesIt) {
  linode.create_script.push_back({FakeLinode::CreateMode::kCreateButFail, FakeLinode::ambiguous()});
  linode.create_script.front().mode = FakeLinode::CreateMode::kFail;  // nothing was created
  linode.create_script.front().error = FakeLinode::ambiguous();
  start();
  connect();
  period();
  EXPECT_EQ(linode.instances.size(), 0u);
  EXPECT_EQ(state_of("jvb-as-1"), "absent");
  periods(1);
  ASSERT_EQ(linode.creates_sent, 2);
  EXPECT_EQ(linode.labels_requested[1], "jvb-as-2");
}

TEST_F(ReconcilerTest, CrashBetweenLabelAndPostAnswerAdoptsOnRestart) {
  // The POST reached the API, the agent died before the answer.
  linode.create_script.push_back({FakeLinode::CreateMode::kHold, {}, /*created=*/true});
  start();
  connect();
  period();
  ASSERT_EQ(linode.creates_sent, 1);
  crash();

  start();
  connect();
  period();
  EXPECT_EQ(linode.creates_sent, 1) << "the restarted agent adopts instead of buying again";
  ASSERT_NE(reconciler->fleet().find("jvb-as-1"), nullptr);
  EXPECT_TRUE(reconciler->fleet().find("jvb-as-1")->managed);
  EXPECT_TRUE(reconciler->state().data().creates.empty());
  periods(3);
  EXPECT_EQ(linode.creates_sent, 1);
}

TEST_F(ReconcilerTest, CrashBeforeThePostReachedTheApiBuysUnderAFreshLabel) {
  linode.create_script.push_back({FakeLinode::CreateMode::kHold, {}, /*created=*/false});
  start();
  connect();
  period();
  crash();

  // The list is the truth after a restart: jvb-as-1 does not exist, so a bridge is bought, under
  // a fresh label; jvb-as-1 stays pending until 2 minutes after its request, then is forgotten.
  start();
  EXPECT_EQ(reconciler->state().data().creates.size(), 1u);
  connect();
  period();
  ASSERT_EQ(linode.creates_sent, 2);
  EXPECT_EQ(linode.labels_requested[1], "jvb-as-2") << "a label is never reused";
  clock.advance(130s);
  period();
  ASSERT_EQ(reconciler->state().data().creates.size(), 0u);
  EXPECT_EQ(state_of("jvb-as-1"), "absent");
  periods(3);
  EXPECT_EQ(linode.creates_sent, 2);
}

// ---- blindness -----------------------------------------------------------------------------

TEST_F(ReconcilerTest, BlindHoldsDrainsAndDeletes) {
  config.scaling.min_bridges = 1;
  linode.add_instance("jvb-as-1", kTags);
  linode.add_instance("jvb-as-2", kTags);
  start();
  connect();
  all_present(0.05, 1);
  period();
  disconnect();
  for (int i = 0; i < 30; ++i) {
    clock.advance(10s);
    period();
  }
  EXPECT_TRUE(drains.urls.empty());
  EXPECT_TRUE(linode.deleted.empty());
  EXPECT_EQ(ctl({{"cmd", "status"}})["blind_reason"], "brewery connection down");
  EXPECT_EQ(metric("jvb_autoscaler_blind"), "1");

  // Seeing again, the idle bridge is drained.
  connect();
  for (int i = 0; i < 6; ++i) {
    clock.advance(10s);
    all_present(0.05, 1);
    period();
  }
  EXPECT_EQ(drains.urls.size(), 1u);
}

TEST_F(ReconcilerTest, FailingLinodeListHoldsDeletes) {
  config.scaling.boot_timeout_seconds = 60;
  start();
  connect();
  period();
  ASSERT_EQ(linode.instances.size(), 1u);
  linode.list_error = FakeLinode::server_error();
  for (int i = 0; i < 20; ++i) {
    clock.advance(10s);
    period();
  }
  EXPECT_TRUE(linode.deleted.empty());
  EXPECT_EQ(ctl({{"cmd", "status"}})["blind_reason"], "Linode API failing");
}

TEST_F(ReconcilerTest, BootClockStopsWhileDisconnected) {
  config.scaling.boot_timeout_seconds = 300;
  start();
  connect();
  period();
  ASSERT_EQ(linode.instances.size(), 1u);
  clock.advance(200s);
  period();
  disconnect();
  clock.advance(3600s);  // an hour blind: the boot clock does not run
  period();
  connect();  // restarts the clock for every bridge still waiting to join
  clock.advance(250s);
  period();
  EXPECT_TRUE(linode.deleted.empty()) << "only 250 s of the 300 s were seen";
  clock.advance(100s);
  period();
  pump();
  ASSERT_EQ(linode.deleted.size(), 1u);
  EXPECT_EQ(state_of("jvb-as-1"), "failed");
  EXPECT_EQ(metric("jvb_autoscaler_bridges{state=\"failed\"}"), "1");
  EXPECT_EQ(
      metric("jvb_autoscaler_scaling_actions_total{action=\"delete\",reason=\"boot_timeout\"}"),
      "1");
}

// ---- the list ------------------------------------------------------------------------------

TEST_F(ReconcilerTest, VanishedInstanceIsForgottenOrKeptAsUnmanaged) {
  linode.add_instance("jvb-as-1", kTags);
  const int64_t second = linode.add_instance("jvb-as-2", kTags).id;
  const int64_t third = linode.add_instance("jvb-as-3", kTags).id;
  start();
  connect();
  presence("jvb-as-1", 0.5, 50);
  presence("jvb-as-2", 0.5, 50);
  period();
  EXPECT_EQ(state_of("jvb-as-2"), "ready");
  EXPECT_EQ(state_of("jvb-as-3"), "provisioning");
  linode.instances.erase(second);  // deleted by hand, still in the brewery
  linode.instances.erase(third);   // deleted by hand, never joined
  clock.advance(10s);
  presence("jvb-as-1", 0.5, 50);
  presence("jvb-as-2", 0.5, 50);
  period();
  EXPECT_EQ(state_of("jvb-as-2"), "unmanaged") << "still in the brewery: counted, never touched";
  EXPECT_EQ(state_of("jvb-as-3"), "absent");
  EXPECT_TRUE(linode.deleted.empty());
}

TEST_F(ReconcilerTest, OwnershipNeedsPrefixAndTagsCaseInsensitively) {
  linode.add_instance("jvb-as-1", {"Jitsi", "JVB-Autoscaler"});
  linode.add_instance("jvb-as-2", {"jitsi"});  // lacks a tag
  linode.add_instance("jvb7", kTags);          // not our prefix
  start();
  connect();
  period();
  EXPECT_EQ(state_of("jvb-as-1"), "provisioning");
  EXPECT_EQ(state_of("jvb-as-2"), "absent");
  EXPECT_EQ(state_of("jvb7"), "absent");
  EXPECT_EQ(reconciler->state().data().next_label_number, 2);
}

// ---- cooldown ------------------------------------------------------------------------------

TEST_F(ReconcilerTest, CooldownSpacesCreates) {
  config.scaling.cooldown_seconds = 60;
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  presence("jvb-as-1", 0.95, 90);
  period();
  clock.advance(10s);
  presence("jvb-as-1", 0.95, 90);
  period();
  ASSERT_EQ(linode.creates_sent, 1);
  // Still hot, and the new bridge joins hot too: the cooldown holds the next create.
  for (int i = 0; i < 4; ++i) {
    clock.advance(10s);
    all_present(0.95, 90);
    period();
  }
  EXPECT_EQ(linode.creates_sent, 1) << reconciler->last_decision().reason;
  for (int i = 0; i < 3; ++i) {
    clock.advance(10s);
    all_present(0.95, 90);
    period();
  }
  EXPECT_EQ(linode.creates_sent, 2) << reconciler->last_decision().reason;
}

// ---- the state file ------------------------------------------------------------------------

// As root no permission bit stops a write; a directory where the temporary file must go does.
void make_unwritable(const std::filesystem::path& state_file) {
  std::filesystem::create_directories(state_file.string() + ".tmp");
}
void make_writable(const std::filesystem::path& state_file) {
  std::filesystem::remove_all(state_file.string() + ".tmp");
}

TEST_F(ReconcilerTest, UnwritableStateFileBlocksCreateThenRecovers) {
  make_unwritable(config.state_file);
  start();
  connect();
  for (int i = 0; i < 3; ++i) periods(1);
  EXPECT_EQ(linode.creates_sent, 0) << "no POST without the label on disk";
  EXPECT_TRUE(reconciler->state().data().creates.empty());
  const auto status = ctl({{"cmd", "status"}});
  EXPECT_EQ(status["state_file_ok"], false);
  ASSERT_TRUE(status["state_file_error"].is_string());
  EXPECT_NE(status["state_file_error"].get<std::string>().find(config.state_file),
            std::string::npos);
  EXPECT_EQ(metric("jvb_autoscaler_state_file_ok"), "0");
  EXPECT_NE(metric("jvb_autoscaler_state_file_write_failures_total"), "0");

  make_writable(config.state_file);
  periods(1);
  ASSERT_EQ(linode.creates_sent, 1);
  EXPECT_EQ(linode.labels_requested[0], "jvb-as-1") << "no label was burnt while it failed";
  EXPECT_EQ(ctl({{"cmd", "status"}})["state_file_ok"], true);
  EXPECT_TRUE(ctl({{"cmd", "status"}})["state_file_error"].is_null());
  EXPECT_EQ(metric("jvb_autoscaler_state_file_ok"), "1");
  std::ifstream saved(config.state_file);
  EXPECT_NE(std::string(std::istreambuf_iterator<char>(saved), {}).find("jvb-as-1"),
            std::string::npos);
}

TEST_F(ReconcilerTest, UnwritableStateFileBlocksDrainThenRecovers) {
  linode.add_instance("jvb-as-1", kTags);
  linode.add_instance("jvb-as-2", kTags);
  start();
  connect();
  all_present(0.05, 1);
  period();
  make_unwritable(config.state_file);
  for (int i = 0; i < 6; ++i) {
    clock.advance(10s);
    all_present(0.05, 1);
    period();
  }
  EXPECT_TRUE(drains.urls.empty()) << "no drain request before the drain is recorded";
  EXPECT_EQ(state_of("jvb-as-1"), "ready");
  EXPECT_EQ(state_of("jvb-as-2"), "ready");
  make_writable(config.state_file);
  // The policy decides the drain again (after its own cooldown and low-stress periods).
  for (int i = 0; i < 12 && drains.urls.empty(); ++i) {
    clock.advance(10s);
    all_present(0.05, 1);
    period();
  }
  ASSERT_EQ(drains.urls.size(), 1u);
  EXPECT_EQ(reconciler->state().data().drains.size(), 1u);
}

// ---- drain to delete -----------------------------------------------------------------------

TEST_F(ReconcilerTest, DrainedBridgeIsDeletedAndItsDrainSurvivesARestart) {
  linode.add_instance("jvb-as-1", kTags);
  linode.add_instance("jvb-as-2", kTags);
  start();
  connect();
  all_present(0.05, 1);
  period();
  ASSERT_TRUE(ctl({{"cmd", "drain"}, {"bridge", "jvb-as-2"}})["ok"]);
  clock.advance(10s);
  all_present(0.05, 1);
  period();
  ASSERT_EQ(drains.urls.size(), 1u);
  EXPECT_EQ(state_of("jvb-as-2"), "draining");
  crash();

  start();  // the drain is resumed from the state file and its request sent again
  connect();
  all_present(0.05, 1);
  period();
  EXPECT_EQ(state_of("jvb-as-2"), "draining");
  EXPECT_EQ(drains.urls.size(), 2u);
  clock.advance(10s);
  presence("jvb-as-1", 0.05, 1);
  presence("jvb-as-2", 0.0, 0, /*drain=*/true);  // took effect, and empty once
  clock.advance(5s);
  presence("jvb-as-2", 0.0, 0, /*drain=*/true);  // still empty one stats interval later
  period();
  ASSERT_EQ(linode.deleted.size(), 1u);
  EXPECT_EQ(state_of("jvb-as-2"), "absent");
  EXPECT_TRUE(reconciler->state().data().drains.empty());
}

// ---- the lifecycle of a drain (issue 15, DESIGN section 5) ----------------------------------

class DrainLifecycleTest : public ReconcilerTest {
 protected:
  // Two managed bridges, jvb-as-2 drained by ctl, its request answered 2xx.
  void drain_second() {
    linode.add_instance("jvb-as-1", kTags);
    linode.add_instance("jvb-as-2", kTags);
    start();
    connect();
    presence("jvb-as-1", 0.3, 30);
    presence("jvb-as-2", 0.3, 30);
    period();
    ASSERT_TRUE(ctl({{"cmd", "drain"}, {"bridge", "jvb-as-2"}})["ok"]);
    clock.advance(1s);
    presence("jvb-as-1", 0.3, 30);
    presence("jvb-as-2", 0.3, 30);
    period();
    ASSERT_EQ(drains.urls.size(), 1u);
    ASSERT_EQ(state_of("jvb-as-2"), "draining");
  }
  const Bridge& second() { return *reconciler->fleet().find("jvb-as-2"); }
};

TEST_F(DrainLifecycleTest, StalePresenceWithZeroParticipantsDoesNotEndTheDrain) {
  drain_second();
  // The first presence after the request is stale: drain = false, 0 participants.
  clock.advance(1s);
  presence("jvb-as-2", 0.0, 0, /*drain=*/false);
  period();
  EXPECT_FALSE(second().drain_effective);
  EXPECT_TRUE(linode.deleted.empty());
  // Then it says drain = true and empty, twice within one stats interval: not yet.
  clock.advance(1s);
  presence("jvb-as-2", 0.0, 0, true);
  clock.advance(2s);
  presence("jvb-as-2", 0.0, 0, true);
  period();
  EXPECT_TRUE(second().drain_effective);
  EXPECT_FALSE(second().drained_empty);
  EXPECT_TRUE(linode.deleted.empty());
  // A meeting arrives on the drained bridge (Jicofo keeps feeding existing conferences).
  clock.advance(2s);
  presence("jvb-as-2", 0.05, 3, true);
  clock.advance(4s);
  presence("jvb-as-2", 0.0, 0, true);
  period();
  EXPECT_TRUE(linode.deleted.empty()) << "the empty streak restarted with the meeting";
  clock.advance(5s);
  presence("jvb-as-1", 0.3, 30);
  presence("jvb-as-2", 0.0, 0, true);
  period();
  EXPECT_EQ(linode.deleted.size(), 1u);
  EXPECT_EQ(metric("jvb_autoscaler_scaling_actions_total{action=\"delete\",reason=\"drained\"}"),
            "1");
}

TEST_F(DrainLifecycleTest, ABridgeThatForgetsItsDrainIsAskedAgain) {
  drain_second();
  clock.advance(1s);
  presence("jvb-as-2", 0.2, 20, true);
  EXPECT_TRUE(second().drain_effective);
  clock.advance(10s);
  presence("jvb-as-2", 0.2, 20, false);  // JVB restarted: drain mode is in memory only
  EXPECT_FALSE(second().drain_posted);
  period();
  EXPECT_EQ(drains.urls.size(), 2u) << "the drain request is sent again";
  EXPECT_EQ(state_of("jvb-as-2"), "draining");
}

// Issue 15: a JVB restart mid-drain leaves the brewery and rejoins with drain = false. The
// agent must not delete the instance when it leaves (Jicofo may already place conferences on the
// restarted bridge), but drain it again when it is back; one that never comes back is deleted
// as lost after unhealthy_timeout_seconds.
TEST_F(DrainLifecycleTest, ABridgeRestartedMidDrainIsKeptAndDrainedAgain) {
  drain_second();
  clock.advance(1s);
  presence("jvb-as-2", 0.2, 20, true);
  ASSERT_TRUE(second().drain_effective);
  left("jvb-as-2");  // the restart
  for (int i = 0; i < 3; ++i) {
    clock.advance(1s);
    presence("jvb-as-1", 0.3, 30);
    period();
  }
  EXPECT_TRUE(linode.deleted.empty()) << "deleted when it left instead of waiting for its return";
  presence("jvb-as-2", 0.0, 0, false);  // back, drain mode forgotten
  period();
  EXPECT_EQ(drains.urls.size(), 2u) << "the drain request is sent again";
  EXPECT_EQ(state_of("jvb-as-2"), "draining");
  EXPECT_TRUE(linode.deleted.empty());
}

TEST_F(DrainLifecycleTest, ADrainingBridgeThatNeverComesBackIsDeletedAsLost) {
  config.scaling.unhealthy_timeout_seconds = 60;
  drain_second();
  clock.advance(1s);
  presence("jvb-as-2", 0.2, 20, true);
  left("jvb-as-2");
  for (int i = 0; i < 5; ++i) {
    clock.advance(10s);
    presence("jvb-as-1", 0.3, 30);
    period();
  }
  EXPECT_TRUE(linode.deleted.empty()) << "50 s out of the brewery, timeout 60 s";
  for (int i = 0; i < 3; ++i) {
    clock.advance(10s);
    presence("jvb-as-1", 0.3, 30);
    period();
  }
  EXPECT_EQ(linode.deleted.size(), 1u);
  EXPECT_EQ(metric("jvb_autoscaler_scaling_actions_total{action=\"delete\",reason=\"lost\"}"), "1");
}

TEST_F(DrainLifecycleTest, DrainTimeoutShutsDownAndDeletesOnlyAfterTheBridgeLeft) {
  config.scaling.drain_timeout_seconds = 600;
  drains.shutdown_status = 404;  // JVB's shutdown endpoint is off: the Linode API shuts it down
  drain_second();
  // Stale presences for 300 s: the drain has not taken effect.
  for (int i = 0; i < 30; ++i) {
    clock.advance(10s);
    presence("jvb-as-1", 0.3, 30);
    presence("jvb-as-2", 0.2, 20, false);
    period();
  }
  clock.advance(10s);
  presence("jvb-as-2", 0.2, 20, true);  // took effect now: the timeout runs from here
  for (int i = 0; i < 50; ++i) {        // 500 s after it took effect, 810 s after the request
    clock.advance(10s);
    presence("jvb-as-1", 0.3, 30);
    presence("jvb-as-2", 0.2, 20, true);
    period();
  }
  EXPECT_TRUE(linode.shut_down.empty());
  for (int i = 0; i < 12; ++i) {
    clock.advance(10s);
    presence("jvb-as-1", 0.3, 30);
    presence("jvb-as-2", 0.2, 20, true);  // a long meeting is still on it
    period();
  }
  ASSERT_EQ(drains.shutdowns.size(), 1u) << "graceful shutdown at the drain timeout";
  EXPECT_EQ(drains.shutdowns[0], R"({"graceful-shutdown": true})");
  ASSERT_EQ(linode.shut_down.size(), 1u) << "the refused endpoint falls back to the Linode API";
  EXPECT_EQ(state_of("jvb-as-2"), "shutting_down");
  EXPECT_EQ(metric("jvb_autoscaler_drain_timeouts_total"), "1");
  EXPECT_TRUE(linode.deleted.empty()) << "never deleted while in the brewery with participants";
  left("jvb-as-2");  // JVB stopped; Jicofo moved its participants
  periods(1);
  EXPECT_EQ(linode.deleted.size(), 1u);
  EXPECT_EQ(
      metric("jvb_autoscaler_scaling_actions_total{action=\"delete\",reason=\"left_brewery\"}"),
      "1");
}

TEST_F(ReconcilerTest, UnhealthyBridgeIsNotCapacityAndIsReplacedThenShutDown) {
  config.scaling.unhealthy_timeout_seconds = 300;
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  presence("jvb-as-1", 0.3, 30);
  period();
  xmpp::Event sick{xmpp::Event::Type::kStats, "jvb-as-1", {}, "", clock.wall_now()};
  sick.stats.stress_level = 0.3;
  sick.stats.participants = 30;
  sick.stats.conferences = 6;
  sick.stats.healthy = false;
  reconciler->on_brewery_event(sick);
  EXPECT_EQ(state_of("jvb-as-1"), "unhealthy");
  periods(1);
  EXPECT_EQ(linode.creates_sent, 1) << "not capacity: min_bridges gets a replacement";
  // The replacement joins; the sick one stays unhealthy past the timeout: shut down, not deleted.
  for (int i = 0; i < 32; ++i) {
    clock.advance(10s);
    presence("jvb-as-2", 0.2, 10);
    reconciler->on_brewery_event(sick);
    period();
  }
  EXPECT_EQ(drains.shutdowns.size(), 1u) << "JVB's own graceful shutdown";
  EXPECT_TRUE(linode.shut_down.empty());
  EXPECT_EQ(state_of("jvb-as-1"), "shutting_down");
  EXPECT_TRUE(linode.deleted.empty());
}

TEST_F(DrainLifecycleTest, LoadReturningUndrainsBeforeCreating) {
  drain_second();
  clock.advance(1s);
  presence("jvb-as-2", 0.3, 30, true);  // took effect; a meeting still on it
  for (int i = 0; i < 4; ++i) {
    clock.advance(10s);
    presence("jvb-as-1", 0.95, 95);
    presence("jvb-as-2", 0.3, 30, true);
    period();
  }
  EXPECT_EQ(linode.creates_sent, 0) << "the drained bridge comes back first";
  ASSERT_EQ(drains.urls.size(), 2u);
  EXPECT_NE(drains.urls[1].find("/colibri/drain/disable"), std::string::npos);
  EXPECT_EQ(state_of("jvb-as-2"), "ready");
  EXPECT_TRUE(reconciler->state().data().drains.empty());
}

TEST_F(DrainLifecycleTest, RefusedDrainLeavesTheBridgeReady) {
  drains.status = 404;  // the bridge's drain endpoint is not enabled
  linode.add_instance("jvb-as-1", kTags);
  linode.add_instance("jvb-as-2", kTags);
  start();
  connect();
  presence("jvb-as-1", 0.3, 30);
  presence("jvb-as-2", 0.3, 30);
  period();
  ASSERT_TRUE(ctl({{"cmd", "drain"}, {"bridge", "jvb-as-2"}})["ok"]);
  clock.advance(1s);
  period();
  EXPECT_EQ(drains.urls.size(), 1u);
  EXPECT_EQ(state_of("jvb-as-2"), "ready");
  EXPECT_TRUE(reconciler->state().data().drains.empty());
  periods(3);
  EXPECT_TRUE(linode.deleted.empty());
}

TEST_F(ReconcilerTest, ReadyBridgeThatLeavesIsLostNotBootingCapacity) {
  config.scaling.unhealthy_timeout_seconds = 300;
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  presence("jvb-as-1", 0.3, 30);
  period();
  EXPECT_EQ(state_of("jvb-as-1"), "ready");
  left("jvb-as-1");
  EXPECT_EQ(state_of("jvb-as-1"), "lost");
  periods(1);
  EXPECT_EQ(linode.creates_sent, 1) << "a lost bridge is not capacity: min_bridges replaces it";
  for (int i = 0; i < 31; ++i) {
    clock.advance(10s);
    period();
  }
  EXPECT_EQ(linode.deleted.size(), 1u) << "out of the brewery past unhealthy_timeout_seconds";
}

TEST_F(ReconcilerTest, FailedBootsInARowSuspendCreationUntilResume) {
  config.scaling.boot_timeout_seconds = 60;
  config.scaling.max_failed_boots = 3;
  config.scaling.cooldown_seconds = 0;
  start();
  connect();
  for (int i = 0; i < 40; ++i) periods(1);  // bridges that never join
  EXPECT_EQ(linode.creates_sent, 3) << reconciler->last_decision().notes.size();
  EXPECT_EQ(linode.deleted.size(), 3u);
  const auto status = ctl({{"cmd", "status"}});
  EXPECT_EQ(status["creation_suspended"], true);
  EXPECT_EQ(metric("jvb_autoscaler_creation_suspended"), "1");
  EXPECT_EQ(metric("jvb_autoscaler_consecutive_failed_boots"), "3");
  ctl({{"cmd", "resume"}});
  periods(1);
  EXPECT_EQ(linode.creates_sent, 4);
  EXPECT_EQ(metric("jvb_autoscaler_creation_suspended"), "0");
}

TEST_F(ReconcilerTest, StatsFilteredBridgeScalesByStressAndIsNotGuessedEmpty) {
  // JVB's stats filter: stress_level only, no participants or conferences.
  linode.add_instance("jvb-as-1", kTags);
  linode.add_instance("jvb-as-2", kTags);
  start();
  connect();
  auto filtered = [&](const std::string& name, double stress, bool drain) {
    xmpp::Event event{xmpp::Event::Type::kStats, name, {}, "", clock.wall_now()};
    event.stats.stress_level = stress;
    event.stats.drain = drain;
    reconciler->on_brewery_event(event);
  };
  for (int i = 0; i < 6; ++i) {
    clock.advance(10s);
    filtered("jvb-as-1", 0.05, false);
    filtered("jvb-as-2", 0.05, false);
    period();
  }
  ASSERT_EQ(drains.urls.size(), 1u) << "low stress alone drives the scale-down";
  for (int i = 0; i < 6; ++i) {
    clock.advance(10s);
    filtered("jvb-as-1", 0.05, false);
    filtered("jvb-as-2", 0.0, true);
    filtered("jvb-as-1", 0.05, false);
    period();
  }
  EXPECT_TRUE(linode.deleted.empty()) << "never guessed empty without participants";
}

TEST_F(ReconcilerTest, UnknownControlCommandIsRefused) {
  start();
  const auto reply = ctl({{"cmd", "explode"}});
  EXPECT_EQ(reply["ok"], false);
  EXPECT_EQ(reply["error"], "unknown command \"explode\"");
  EXPECT_EQ(default_control_commands().size(), control_commands().size());
}

}  // namespace
}  // namespace agent
