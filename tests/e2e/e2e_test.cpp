// End-to-end scenarios of issue 7: the daemon as a child process, a real Prosody, the fake
// Linode API over real HTTP and jvb-sim bridges. Everything binds loopback; every wait is
// bounded. The cluster fixture lives in cluster_fixture.h (shared with tests/faults).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "cluster_fixture.h"

namespace {

namespace fs = std::filesystem;
using agent::local::Process;
using cluster_fixture::Cluster;
using cluster_fixture::eventually;
using cluster_fixture::read_file;
using nlohmann::json;

TEST_F(Cluster, LoadRisesBridgeCreatedJoinsThenLeastLoadedIsDrainedAndDeleted) {
  start_static_bridge(90);  // stress 0.9 on the only bridge: above 0.7
  start_daemon(config());
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 30)) << agent_log();
  const json instance = instances()[0];
  EXPECT_EQ(instance["label"], "jvb-as-1");
  EXPECT_TRUE(std::find(instance["tags"].begin(), instance["tags"].end(), "jvb-autoscaler") !=
              instance["tags"].end());
  ASSERT_TRUE(eventually([&] { return bridges_in_state("ready") == 1; }, 30)) << agent_log();
  // Mean stress is now 0.45: between the thresholds, so nothing else is created.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(instances().size(), 1u) << agent_log();
  // Load falls on the static bridge: the managed one (fewest participants) is drained, then
  // deleted once empty; the static bridge is never touched.
  set_load("http://127.0.0.1:" + std::to_string(static_port_), 10);
  ASSERT_TRUE(eventually([&] { return instances().empty(); }, 40)) << agent_log();
  const std::string log = read_file(dir_->path() / "agent.log");
  EXPECT_NE(log.find("draining bridge jvb-as-1"), std::string::npos) << log;
  EXPECT_NE(log.find("bridge jvb-as-1 deleted"), std::string::npos) << log;
  EXPECT_EQ(log.find("deleting bridge jvb1"), std::string::npos) << log;
  EXPECT_TRUE(eventually([&] { return bridges_in_state("unmanaged") == 1; }, 10));
}

TEST_F(Cluster, CtlScaleToPauseDrainAndAutoSteerTheFleet) {
  start_static_bridge(30);
  start_daemon(config());
  json reply = ctl({{"cmd", "scale-to"}, {"n", 3}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_EQ(reply["override"], 3);
  ASSERT_TRUE(eventually([&] { return instances().size() == 2; }, 30)) << agent_log();
  ASSERT_TRUE(eventually([&] { return bridges_in_state("ready") == 2; }, 30)) << agent_log();
  EXPECT_EQ(status()["override"], 3);
  // Paused: no create even though a new pin asks for one more.
  ASSERT_TRUE(ctl({{"cmd", "pause"}}).value("ok", false));
  // scale-to beyond max is clamped and reported.
  reply = ctl({{"cmd", "scale-to"}, {"n", 12}});
  EXPECT_EQ(reply["override"], 4);
  EXPECT_EQ(reply["clamped"], true);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(instances().size(), 2u) << agent_log();
  EXPECT_EQ(status()["paused"], true);
  ASSERT_TRUE(ctl({{"cmd", "resume"}}).value("ok", false));
  ASSERT_TRUE(eventually([&] { return instances().size() == 3; }, 30)) << agent_log();
  // A manual drain of an unknown bridge is refused with a clear error.
  reply = ctl({{"cmd", "drain"}, {"bridge", "nope"}});
  EXPECT_FALSE(reply.value("ok", true));
  EXPECT_NE(reply.value("error", "").find("nope"), std::string::npos);
  // Back to automatic: low load, so managed bridges are drained down to min (1 = jvb1).
  ASSERT_TRUE(ctl({{"cmd", "auto"}}).value("ok", false));
  ASSERT_TRUE(eventually([&] { return instances().empty(); }, 90)) << agent_log();
}

TEST_F(Cluster, RestartKeepsOverridesAndAdoptsInstancesWithoutDuplicates) {
  start_static_bridge(20);
  start_daemon(config());
  ASSERT_TRUE(ctl({{"cmd", "scale-to"}, {"n", 2}}).value("ok", false));
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 30)) << agent_log();
  ASSERT_TRUE(ctl({{"cmd", "pause"}}).value("ok", false));
  EXPECT_EQ(daemon_->terminate(), 0) << agent_log();
  start_daemon(config());
  const json after = status();
  EXPECT_EQ(after["paused"], true);
  EXPECT_EQ(after["override"], 2);
  ASSERT_TRUE(eventually(
      [&] {
        const json now = status();
        for (const auto& bridge : now.value("bridges", json::array())) {
          if (bridge["name"] == "jvb-as-1" && bridge["managed"] == true) return true;
        }
        return false;
      },
      20))
      << agent_log();
  ASSERT_TRUE(ctl({{"cmd", "resume"}}).value("ok", false));
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(instances().size(), 1u) << agent_log();
}

TEST_F(Cluster, ProsodyRestartCausesNoDeletion) {
  start_static_bridge(20);
  start_daemon(config({{"min_bridges", 2}}));
  ASSERT_TRUE(eventually([&] { return bridges_in_state("ready") == 1; }, 40)) << agent_log();
  prosody_->stop();
  ASSERT_TRUE(eventually([&] { return !status().value("xmpp_connected", true); }, 20));
  std::this_thread::sleep_for(std::chrono::seconds(5));  // blind for several periods
  EXPECT_EQ(instances().size(), 1u) << agent_log();
  EXPECT_FALSE(status()["blind_reason"].is_null());
  prosody_->start();
  ASSERT_TRUE(eventually([&] { return status().value("xmpp_connected", false); }, 60))
      << agent_log();
  ASSERT_TRUE(eventually([&] { return bridges_in_state("ready") == 1; }, 40)) << agent_log();
  EXPECT_EQ(instances().size(), 1u) << agent_log();
  EXPECT_EQ(read_file(dir_->path() / "agent.log").find("deleting bridge"), std::string::npos);
}

TEST_F(Cluster, SecondDaemonOnTheSameStateFileExitsAtOnce) {
  start_static_bridge(20);
  start_daemon(config());
  std::ofstream(dir_->path() / "config2.json") << [&] {
    json second = config();
    second["control"]["socket"] = (dir_->path() / "control2.sock").string();
    return second.dump();
  }();
  Process second(
      {JVB_AUTOSCALER_BINARY, "run", "--config", (dir_->path() / "config2.json").string()},
      dir_->path() / "agent2.log");
  EXPECT_EQ(second.wait(10), 1);
  EXPECT_NE(read_file(dir_->path() / "agent2.log").find("state.json.lock"), std::string::npos)
      << read_file(dir_->path() / "agent2.log");
  EXPECT_TRUE(status().value("ok", false));  // the first one is unharmed
}

TEST_F(Cluster, DryRunDecidesButNeverCreates) {
  start_static_bridge(95);
  start_daemon(config(), {"--dry-run"});
  ASSERT_TRUE(eventually(
      [&] {
        return read_file(dir_->path() / "agent.log").find("dry run: would create") !=
               std::string::npos;
      },
      20))
      << agent_log();
  EXPECT_TRUE(instances().empty());
}

// GET /metrics from the daemon (plain Beast client, loopback only).
std::string http_get_metrics(int port) {
  namespace beast = boost::beast;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                static_cast<uint16_t>(port)));
  beast::http::request<beast::http::empty_body> request(beast::http::verb::get, "/metrics", 11);
  request.set(beast::http::field::host, "127.0.0.1");
  beast::http::write(stream, request);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(stream, buffer, response);
  return response.body();
}

TEST_F(Cluster, SecretsNeverReachLogsStatusOrMetrics) {
  start_static_bridge(90);
  start_daemon(config());
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 30)) << agent_log();
  const std::string metrics = http_get_metrics(metrics_port_);
  ASSERT_NE(metrics.find("jvb_autoscaler_build_info"), std::string::npos) << metrics;
  const std::string everything = read_file(dir_->path() / "agent.log") + status().dump() +
                                 read_file(dir_->path() / "state.json") + metrics;
  for (const char* secret : {"e2e-agent-secret", "e2e-token-secret"}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
}

std::string iso_utc_in(int seconds_from_now) {
  const std::time_t when = std::time(nullptr) + seconds_from_now;
  std::tm utc{};
  gmtime_r(&when, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Issue 11: an announced event raises min_bridges prewarm_seconds (default 300 s) before it
// starts, so bridges are created ahead of the crowd; runtime events survive a restart.
TEST_F(Cluster, ScheduledEventCreatesBridgesBeforeItStartsAndSurvivesRestart) {
  start_static_bridge(10);
  start_daemon(config());
  json reply = ctl({{"cmd", "event-add"},
                    {"name", "all-hands"},
                    {"start", iso_utc_in(200)},
                    {"end", iso_utc_in(400)},
                    {"min_bridges", 3}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  // jvb1 + two managed bridges = 3 non-draining bridges, well before the event starts.
  ASSERT_TRUE(eventually([&] { return instances().size() == 2; }, 30)) << agent_log();
  json now = status();
  EXPECT_EQ(now["min"], 3);
  EXPECT_EQ(now["schedule"]["window"], "all-hands") << now["schedule"].dump();
  const std::string metrics = http_get_metrics(metrics_port_);
  EXPECT_NE(metrics.find("jvb_autoscaler_schedule_min_bridges 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("jvb_autoscaler_schedule_active{window=\"all-hands\"} 1"),
            std::string::npos)
      << metrics;
  // The event is in the state file: a restarted daemon still has it.
  EXPECT_EQ(daemon_->terminate(), 0) << agent_log();
  start_daemon(config());
  const json schedule = ctl({{"cmd", "schedule"}});
  EXPECT_EQ(schedule["window"], "all-hands") << schedule.dump();
  EXPECT_TRUE(ctl({{"cmd", "event-remove"}, {"name", "all-hands"}}).value("ok", false));
  EXPECT_TRUE(eventually([&] { return status()["min"] == 1; }, 10));
  EXPECT_EQ(instances().size(), 2u);  // nothing created twice by the restart
}

}  // namespace
