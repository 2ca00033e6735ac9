// Issue 16, in process: the failed-boot circuit breaker (scaling.max_failed_boots, persisted in
// the state file) and the runtime Linode preflight (creates stop while it reports problems,
// retried with backoff), over the in-memory Linode and a fake clock. No process, no network.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "agent/boot_breaker.h"
#include "agent/control_handler.h"
#include "agent/reconciler.h"
#include "agent/time_source.h"
#include "fakes.h"
#include "reconciler_harness.h"

namespace agent {
namespace {

using agent_test::FakeDrains;
using agent_test::FakeLinode;
using namespace std::chrono_literals;

const std::vector<std::string> kTags = {"jitsi", "jvb-autoscaler"};

// ---- the breaker alone -------------------------------------------------------------------

TEST(BootBreakerTest, CountsEachLabelOnceAndNamesTheLastFailures) {
  BootBreaker breaker(3);
  const WallTime t0 = from_unix_seconds(1'767'000'000);  // 2025-12-29T09:20:00Z
  EXPECT_TRUE(breaker.on_failed("jvb-as-1", t0));
  EXPECT_FALSE(breaker.on_failed("jvb-as-1", t0 + 60s)) << "a retried DELETE is not a 2nd boot";
  EXPECT_TRUE(breaker.on_failed("jvb-as-2", t0 + 900s));
  EXPECT_FALSE(breaker.suspended());
  EXPECT_FALSE(breaker.sentence());
  EXPECT_TRUE(breaker.on_failed("jvb-as-3", t0 + 1800s));
  ASSERT_TRUE(breaker.suspended());
  const std::string sentence = *breaker.sentence();
  EXPECT_NE(sentence.find("creation suspended: 3 boots in a row never joined the brewery"),
            std::string::npos)
      << sentence;
  EXPECT_NE(sentence.find("jvb-as-1 at 2025-12-29T09:20:00Z, jvb-as-2 at 2025-12-29T09:35:00Z, "
                          "jvb-as-3 at 2025-12-29T09:50:00Z"),
            std::string::npos)
      << sentence;
  EXPECT_NE(sentence.find("failing since 2025-12-29T09:20:00Z"), std::string::npos) << sentence;

  BootBreaker restored(3);
  restored.from_json(breaker.to_json());
  EXPECT_EQ(restored.count(), 3);
  EXPECT_EQ(restored.sentence(), breaker.sentence());
  breaker.reset();
  EXPECT_EQ(breaker.to_json(), nullptr);
  restored.from_json({{"count", "three"}});
  EXPECT_EQ(restored.count(), 0) << "a malformed value is a fresh breaker";
}

TEST(BootBreakerTest, ZeroDisablesIt) {
  BootBreaker breaker(0);
  for (int i = 0; i < 10; ++i) breaker.on_failed("jvb-as-" + std::to_string(i), WallTime{});
  EXPECT_FALSE(breaker.suspended());
}

// ---- in the Reconciler -------------------------------------------------------------------

// The reconciler harness with a one-minute boot timeout, no cooldown and user data configured
// (so that the preflight asks about Metadata and cloud-init).
class GuardTest : public harness::ReconcilerTest {
 protected:
  GuardTest() {
    config.linode.user_data_file = "/etc/jvb-autoscaler/jvb-cloud-init.yaml";
    config.linode.user_data_template = "#cloud-config\n";
    config.scaling.scale_down_periods = test_support::classic_scaling_profile().scale_down_periods;
    config.scaling.cooldown_seconds = 0;
    config.scaling.boot_timeout_seconds = 60;
    config.scaling.max_failed_boots = 3;
  }
  nlohmann::json status() { return ctl({{"cmd", "status"}}); }
};

TEST_F(GuardTest, BridgesThatNeverJoinAreBoughtExactlyMaxFailedBootsTimes) {
  start();
  connect();
  periods(60);  // ten minutes, boot timeout one minute: without the breaker ~9 creates
  EXPECT_EQ(linode.creates_sent, 3);
  EXPECT_EQ(linode.deleted.size(), 3u);
  const auto reply = status();
  EXPECT_EQ(reply["creation_suspended"], true);
  ASSERT_TRUE(reply["creation_suspended_reason"].is_string()) << reply.dump();
  const std::string sentence = reply["creation_suspended_reason"];
  for (const char* label : {"jvb-as-1 at ", "jvb-as-2 at ", "jvb-as-3 at ", "failing since "}) {
    EXPECT_NE(sentence.find(label), std::string::npos) << sentence;
  }
  EXPECT_EQ(reply["consecutive_failed_boots"], 3);
  EXPECT_EQ(metric("jvb_autoscaler_creation_suspended"), "1");
  EXPECT_EQ(metric("jvb_autoscaler_consecutive_failed_boots"), "3");

  handle_control(*reconciler, {{"cmd", "resume"}});
  EXPECT_EQ(status()["creation_suspended_reason"], nullptr);
  periods(1);
  EXPECT_EQ(linode.creates_sent, 4) << "ctl resume buys again";
  EXPECT_EQ(metric("jvb_autoscaler_creation_suspended"), "0");
}

TEST_F(GuardTest, ABridgeThatJoinsEndsTheStreak) {
  start();
  connect();
  for (int i = 0; i < 100 && linode.deleted.size() < 2; ++i) periods(1);  // two boots fail
  periods(1);
  ASSERT_EQ(linode.deleted.size(), 2u);
  ASSERT_EQ(linode.creates_sent, 3);
  EXPECT_EQ(reconciler->breaker().count(), 2);
  EXPECT_EQ(metric("jvb_autoscaler_consecutive_failed_boots"), "2");
  const std::string third = linode.labels_requested.back();
  event(xmpp::Event::Type::kJoined, third);
  presence(third, 0.3, 10);
  EXPECT_EQ(reconciler->breaker().count(), 0) << "the third boot joined";
  periods(1);
  EXPECT_EQ(metric("jvb_autoscaler_consecutive_failed_boots"), "0");
}

TEST_F(GuardTest, ARestartKeepsCreationSuspended) {
  start();
  connect();
  periods(60);
  ASSERT_EQ(linode.creates_sent, 3);
  stop();  // a restart loop: the daemon starts again with the same state file
  start();
  connect();
  periods(20);
  EXPECT_EQ(linode.creates_sent, 3) << "a restart does not reset the breaker";
  EXPECT_EQ(status()["creation_suspended"], true);
  reconciler->reload(config);  // SIGHUP also resumes it
  EXPECT_EQ(reconciler->breaker().count(), 0);
  periods(1);
  EXPECT_EQ(linode.creates_sent, 4);
}

TEST_F(GuardTest, RegionWithoutMetadataCreatesNothingUntilFixed) {
  linode.regions_without_metadata = {"eu-central"};
  start();
  connect();
  periods(12);  // two minutes
  EXPECT_EQ(linode.creates_sent, 0);
  const auto reply = status();
  EXPECT_EQ(reply["preflight_ok"], false);
  ASSERT_EQ(reply["preflight_problems"].size(), 1u) << reply.dump();
  const std::string problem = reply["preflight_problems"][0];
  EXPECT_EQ(problem.rfind("linode.region: region \"eu-central\" lacks the Metadata capability", 0),
            0u)
      << problem;
  EXPECT_EQ(metric("jvb_autoscaler_preflight_ok"), "0");
  // Backoff: answered at 10 s, retried 30 s and 60 s later (40 s, 100 s), next due at 220 s.
  EXPECT_EQ(linode.preflight_lookups, 3);
  EXPECT_EQ(reconciler->preflight().backoff(), 240s);

  linode.regions_without_metadata.clear();  // fixed on Linode's side: found by the next retry
  periods(9);                               // 210 s: not retried yet
  EXPECT_EQ(linode.preflight_lookups, 3);
  EXPECT_EQ(linode.creates_sent, 0);
  periods(2);  // 220 s: the retry passes; 230 s: the period creates
  EXPECT_EQ(linode.preflight_lookups, 4);
  EXPECT_EQ(status()["preflight_ok"], true);
  EXPECT_EQ(status()["preflight_problems"].size(), 0u);
  EXPECT_EQ(linode.creates_sent, 1);
  EXPECT_EQ(metric("jvb_autoscaler_preflight_ok"), "1");
}

TEST_F(GuardTest, AReloadChecksAgainAtOnce) {
  linode.regions_without_metadata = {"eu-central"};
  start();
  connect();
  periods(2);
  EXPECT_EQ(linode.creates_sent, 0);
  config.linode.region = "us-lax";  // the operator picks a region with Metadata and reloads
  reconciler->reload(config);
  pump();
  EXPECT_TRUE(reconciler->preflight().ok());
  periods(1);
  EXPECT_EQ(linode.creates_sent, 1);
  EXPECT_EQ(linode.instances.begin()->second.label, "jvb-as-1");
}

TEST_F(GuardTest, BackoffIsCappedAtTenMinutes) {
  linode.regions_without_metadata = {"eu-central"};
  start();
  connect();
  periods(6 * 60);  // an hour
  EXPECT_EQ(reconciler->preflight().backoff(), PreflightMonitor::kMaxRetry);
  // answered at 10, 40, 100, 220, 460, 940 s, then every 600 s: 1540, 2140, 2740, 3340
  EXPECT_EQ(linode.preflight_lookups, 10);
  EXPECT_EQ(linode.creates_sent, 0);
}

// A 400 on the label that is not "Label must be unique" (a label Linode's rules refuse) is a
// plain error: nothing exists under that label, so it is not looked up as an ambiguous create.
TEST_F(GuardTest, ARefusedLabelIsAPlainErrorNotAnAmbiguousCreate) {
  linode::Error refused;
  refused.kind = linode::ErrorKind::kBadRequest;
  refused.http_status = 400;
  refused.field = "label";
  refused.reason = "Label must only contain letters, numbers, and -_.";
  refused.operation = "POST /linode/instances";
  linode.create_script.push_back({FakeLinode::CreateMode::kFail, refused});
  start();
  connect();
  periods(1);
  ASSERT_EQ(linode.creates_sent, 1);
  EXPECT_EQ(linode.lists_sent, 1) << "the periodic list only: no look-up by label";
  // "Label must be unique" is the one 400 that is looked up (and adopted when found).
  linode.create_script.push_back({FakeLinode::CreateMode::kFail, FakeLinode::label_taken()});
  periods(1);
  EXPECT_EQ(linode.creates_sent, 2);
  EXPECT_EQ(linode.lists_sent, 3) << "the periodic list and the look-up by label";
}

// The start-up line prints the bounds after the config and the state file's ctl overrides.
TEST_F(GuardTest, StartUpBoundsAreTheEffectiveOnes) {
  config.scaling.min_bridges = 2;
  config.scaling.max_bridges = 8;
  PersistentState saved;
  saved.max_override = 4;
  StateStore(config.state_file).save(saved);
  start();
  EXPECT_EQ(reconciler->describe_bounds(), "min 2 max 4 bridges");
}

}  // namespace
}  // namespace agent
