// End-to-end scenarios of issue 7: the daemon as a child process, a real Prosody, the fake
// Linode API over real HTTP and jvb-sim bridges. Everything binds loopback; every wait is
// bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/control_client.h"
#include "agent/http_post.h"
#include "agent/local_cluster.h"
#include "fake_linode/launcher.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using agent::local::Process;

constexpr const char* kDomain = "auth.e2e.local";

bool eventually(const std::function<bool()>& condition, double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return condition();
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// One little cluster: Prosody, the fake Linode API booting jvb-sim bridges, an unmanaged
// static bridge "jvb1" and the daemon.
class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/prosody", X_OK) != 0) {
      GTEST_SKIP() << "prosody is not installed (apt-get install prosody lua-unbound)";
    }
    dir_ = std::make_unique<agent::local::TempDir>("jvb-e2e-");
    prosody_ = std::make_unique<agent::local::LocalProsody>(
        dir_->path(), kDomain,
        std::vector<agent::local::ProsodyAccount>{{"autoscaler", "e2e-agent-secret"},
                                                  {"jvb", "e2e-jvb-secret"}});
    write("xmpp.pass", "e2e-agent-secret");
    write("jvb.pass", "e2e-jvb-secret");
    write("linode.token", "e2e-token-secret");
    fake_linode::LaunchOptions fake;
    fake.token = "e2e-token-secret";
    fake.boot_seconds = 1;
    fake.hook_delay_seconds = 1;
    fake.on_create = sim_command() + " --nickname {label} --http {private_ip}:8080";
    fake_ = std::make_unique<fake_linode::FakeLinodeProcess>(fake);
  }

  void TearDown() override {
    daemon_.reset();
    static_bridge_.reset();
    fake_.reset();
    prosody_.reset();
  }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_->path() / name) << content << "\n";
    fs::permissions(dir_->path() / name, fs::perms::owner_read | fs::perms::owner_write);
  }

  std::string sim_command() const {
    return std::string(JVB_SIM_BINARY) + " --host 127.0.0.1 --port " +
           std::to_string(prosody_->port()) + " --domain " + kDomain +
           " --username jvb --password-file " + (dir_->path() / "jvb.pass").string() +
           " --brewery " + prosody_->brewery() + " --interval 1 --drain-seconds 2";
  }

  // The static bridge of the guide: in the brewery, not created by the agent.
  void start_static_bridge(int participants) {
    static_port_ = agent::local::free_tcp_port();
    std::vector<std::string> argv;
    std::istringstream words(sim_command() + " --nickname jvb1 --http 127.0.0.1:" +
                             std::to_string(static_port_) + " --participants " +
                             std::to_string(participants) + " --conferences 1");
    for (std::string word; words >> word;) argv.push_back(word);
    static_bridge_ = std::make_unique<Process>(argv, dir_->path() / "jvb1.log");
  }

  json config(json scaling_overrides = json::object()) {
    json scaling = {{"min_bridges", 1},         {"max_bridges", 4},
                    {"period_seconds", 1},      {"scale_up_periods", 2},
                    {"scale_down_periods", 3},  {"cooldown_seconds", 2},
                    {"boot_timeout_seconds", 60}, {"drain_timeout_seconds", 60}};
    scaling.update(scaling_overrides);
    return {{"xmpp",
             {{"host", "127.0.0.1"},
              {"port", prosody_->port()},
              {"domain", kDomain},
              {"username", "autoscaler"},
              {"password_file", (dir_->path() / "xmpp.pass").string()},
              {"tls", "disabled"}}},
            {"linode",
             {{"api_url", fake_->api_url()},
              {"token_file", (dir_->path() / "linode.token").string()},
              {"region", "us-lax"},
              {"type", "g6-dedicated-2"},
              {"image", "linode/debian12"},
              {"user_data_file", nullptr}}},
            {"scaling", scaling},
            {"metrics", {{"listen", "127.0.0.1:" + std::to_string(agent::local::free_tcp_port())}}},
            {"control", {{"socket", (dir_->path() / "control.sock").string()}}},
            {"state_file", (dir_->path() / "state.json").string()}};
  }

  void start_daemon(const json& configuration, std::vector<std::string> extra = {}) {
    std::ofstream(dir_->path() / "config.json") << configuration.dump(2);
    std::vector<std::string> argv = {JVB_AUTOSCALER_BINARY, "run", "--config",
                                     (dir_->path() / "config.json").string(), "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<Process>(argv, dir_->path() / "agent.log");
    ASSERT_TRUE(eventually([&] { return status().value("xmpp_connected", false); }, 30))
        << agent_log();
  }

  json status() {
    try {
      return agent::control_request((dir_->path() / "control.sock").string(),
                                    {{"cmd", "status"}}, 3);
    } catch (const std::exception&) {
      return json::object();
    }
  }

  json ctl(const json& request) {
    return agent::control_request((dir_->path() / "control.sock").string(), request, 5);
  }

  json instances() {
    return json::parse(fake_->control("GET", "/__fake/instances"))["instances"];
  }

  int bridges_in_state(const std::string& state) {
    int count = 0;
    for (const auto& bridge : status().value("bridges", json::array())) {
      if (bridge.value("state", "") == state) ++count;
    }
    return count;
  }

  void set_load(const std::string& base_url, int participants) {
    boost::asio::io_context io;
    agent::HttpOutcome outcome;
    agent::async_http_post(io, base_url + "/sim/load",
                           json{{"participants", participants}, {"conferences", 1}}.dump(), 5,
                           [&](agent::HttpOutcome result) { outcome = result; });
    io.run();
    ASSERT_EQ(outcome.status, 200) << outcome.error;
  }

  std::string agent_log() { return "agent log:\n" + read_file(dir_->path() / "agent.log"); }

  std::unique_ptr<agent::local::TempDir> dir_;
  std::unique_ptr<agent::local::LocalProsody> prosody_;
  std::unique_ptr<fake_linode::FakeLinodeProcess> fake_;
  std::unique_ptr<Process> static_bridge_;
  std::unique_ptr<Process> daemon_;
  int static_port_ = 0;
};

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
  // scale-to beyond max is clamped and reported.
  reply = ctl({{"cmd", "scale-to"}, {"n", 12}});
  EXPECT_EQ(reply["override"], 4);
  EXPECT_EQ(reply["clamped"], true);
  // Paused: no create even though the pin asks for one more.
  ASSERT_TRUE(ctl({{"cmd", "pause"}}).value("ok", false));
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
  ASSERT_TRUE(eventually([&] {
    const json now = status();
    for (const auto& bridge : now.value("bridges", json::array())) {
      if (bridge["name"] == "jvb-as-1" && bridge["managed"] == true) return true;
    }
    return false;
  }, 20)) << agent_log();
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
  Process second({JVB_AUTOSCALER_BINARY, "run", "--config", (dir_->path() / "config2.json").string()},
                 dir_->path() / "agent2.log");
  EXPECT_EQ(second.wait(10), 1);
  EXPECT_NE(read_file(dir_->path() / "agent2.log").find("state.json.lock"), std::string::npos)
      << read_file(dir_->path() / "agent2.log");
  EXPECT_TRUE(status().value("ok", false));  // the first one is unharmed
}

TEST_F(Cluster, DryRunDecidesButNeverCreates) {
  start_static_bridge(95);
  start_daemon(config(), {"--dry-run"});
  ASSERT_TRUE(eventually([&] {
    return read_file(dir_->path() / "agent.log").find("dry run: would create") != std::string::npos;
  }, 20)) << agent_log();
  EXPECT_TRUE(instances().empty());
}

TEST_F(Cluster, SecretsNeverReachLogsStatusOrMetrics) {
  start_static_bridge(90);
  start_daemon(config());
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 30)) << agent_log();
  const std::string everything = read_file(dir_->path() / "agent.log") + status().dump() +
                                 read_file(dir_->path() / "state.json");
  for (const char* secret : {"e2e-agent-secret", "e2e-token-secret"}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
