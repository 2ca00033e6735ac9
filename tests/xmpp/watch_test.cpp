// `jvb-autoscaler watch` end to end: real Prosody, a jvb-sim bridge, the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_support/prosody_fixture.h"

namespace {

using namespace std::chrono_literals;
using test_support::ChildProcess;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first JSON line of `path` for which `match` holds, polling until `timeout`.
std::optional<nlohmann::json> wait_for_line(const std::string& path,
                                            const std::function<bool(const nlohmann::json&)>& match,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(read_file(path));
    std::string line;
    while (std::getline(lines, line)) {
      const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!json.is_discarded() && match(json)) return json;
    }
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PROSODY();
    prosody_ = std::make_unique<test_support::ProsodyFixture>(
        test_support::ProsodyOptions{.domain = "meet.test",
                                     .accounts = {{"autoscaler", "agent-pw"}, {"jvb", "jvb-pw"}},
                                     .tls = false,
                                     .log_level = "warn"});
    prosody_->start();
    dir_ = prosody_->directory();
    std::ofstream(dir_ + "/xmpp.pass") << "agent-pw\n";
  }

  std::string write_config(const nlohmann::json& xmpp) {
    const std::string path = dir_ + "/config.json";
    std::ofstream(path) << nlohmann::json{{"xmpp", xmpp}}.dump(2);
    return path;
  }

  nlohmann::json good_xmpp() const {
    return {{"host", "127.0.0.1"},
            {"port", prosody_->port()},
            {"domain", prosody_->auth_domain()},
            {"username", "autoscaler"},
            {"password_file", dir_ + "/xmpp.pass"},
            {"brewery", prosody_->room_jid()},
            {"nickname", "jvb-autoscaler"},
            {"tls", "disabled"}};
  }

  std::unique_ptr<test_support::ProsodyFixture> prosody_;
  std::string dir_;
};

TEST_F(WatchTest, PrintsJsonLinesForBridgesAndExitsZeroOnSigint) {
  const std::string config = write_config(good_xmpp());
  ChildProcess::Options out;
  out.log_file = dir_ + "/watch.out";
  ChildProcess watch({JVB_AUTOSCALER_PATH, "watch", "--config", config, "--json"}, out);
  ChildProcess::Options sim_out;
  sim_out.log_file = dir_ + "/sim.log";
  ChildProcess sim({JVB_SIM_PATH, "--port", std::to_string(prosody_->port()), "--domain",
                    prosody_->auth_domain(), "--password", "jvb-pw", "--brewery",
                    prosody_->room_jid(), "--nickname", "jvb-as-3", "--tls", "disabled",
                    "--participants", "42", "--conferences", "9", "--interval", "0.2"},
                   sim_out);
  const auto joined = wait_for_line(
      out.log_file, [](const auto& j) { return j.value("event", "") == "joined"; }, 20s);
  ASSERT_TRUE(joined) << read_file(out.log_file);
  EXPECT_EQ((*joined)["bridge"], "jvb-as-3");
  EXPECT_EQ((*joined)["participants"], 42);
  EXPECT_EQ((*joined)["conferences"], 9);
  EXPECT_DOUBLE_EQ((*joined)["stress"].get<double>(), 0.42);
  EXPECT_EQ((*joined)["drain"], false);
  EXPECT_EQ((*joined)["healthy"], true);
  EXPECT_EQ((*joined)["shutting_down"], false);
  EXPECT_EQ((*joined)["graceful_shutdown"], false);
  EXPECT_EQ((*joined)["local_endpoints"], 42);
  EXPECT_EQ((*joined)["relayed_endpoints"], 0);
  EXPECT_TRUE((*joined)["time"].get<std::string>().ends_with("Z"));
  EXPECT_TRUE(wait_for_line(
      out.log_file, [](const auto& j) { return j.value("event", "") == "stats"; }, 10s));
  sim.send_signal(SIGTERM);
  EXPECT_TRUE(wait_for_line(
      out.log_file, [](const auto& j) { return j.value("event", "") == "left"; }, 10s));
  watch.send_signal(SIGINT);
  EXPECT_EQ(watch.wait(5s), 0);
  EXPECT_EQ(read_file(out.log_file).find("agent-pw"), std::string::npos);
}

// JVB's stats filter on: no `participants`. watch says so once per bridge, on stderr, and
// prints the unknown stats as null.
TEST_F(WatchTest, StatsFilterGetsOneWarningPerBridge) {
  const std::string config = write_config(good_xmpp());
  ChildProcess::Options out;
  out.log_file = dir_ + "/watch.out";  // stdout and stderr
  ChildProcess watch({JVB_AUTOSCALER_PATH, "watch", "--config", config, "--json"}, out);
  ChildProcess::Options sim_out;
  sim_out.log_file = dir_ + "/sim.log";
  ChildProcess sim({JVB_SIM_PATH, "--port", std::to_string(prosody_->port()), "--domain",
                    prosody_->auth_domain(), "--password", "jvb-pw", "--brewery",
                    prosody_->room_jid(), "--nickname", "jvb-filtered", "--tls", "disabled",
                    "--participants", "42", "--stats-interval", "0.2", "--stats-filter"},
                   sim_out);
  const auto joined = wait_for_line(
      out.log_file, [](const auto& j) { return j.value("event", "") == "joined"; }, 20s);
  ASSERT_TRUE(joined) << read_file(out.log_file);
  EXPECT_TRUE((*joined)["participants"].is_null());
  EXPECT_TRUE((*joined)["conferences"].is_null());
  EXPECT_TRUE((*joined)["local_endpoints"].is_null());
  EXPECT_EQ((*joined)["healthy"], true);
  EXPECT_DOUBLE_EQ((*joined)["stress"].get<double>(), 0.42);
  // Ten more presences: still one warning.
  std::this_thread::sleep_for(2s);
  const std::string text = read_file(out.log_file);
  const std::string warning = "bridge jvb-filtered publishes no 'participants' stat";
  const size_t first = text.find(warning);
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find(warning, first + 1), std::string::npos) << "warned twice:\n" << text;
  EXPECT_NE(text.find("stats-filter"), std::string::npos);
  watch.send_signal(SIGINT);
  EXPECT_EQ(watch.wait(5s), 0);
}

TEST_F(WatchTest, ConfigErrorExitsTwoNamingTheKey) {
  nlohmann::json xmpp = good_xmpp();
  xmpp.erase("domain");
  const std::string config = write_config(xmpp);
  const auto result =
      test_support::run_command({JVB_AUTOSCALER_PATH, "watch", "--config", config}, 10s);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("xmpp.domain"), std::string::npos) << result.output;
}

TEST_F(WatchTest, WrongPasswordIsReportedOnStderrWithoutThePassword) {
  std::ofstream(dir_ + "/xmpp.pass") << "wrong-pw-xyz\n";
  const std::string config = write_config(good_xmpp());
  ChildProcess::Options out;
  out.log_file = dir_ + "/watch.out";
  ChildProcess watch({JVB_AUTOSCALER_PATH, "watch", "--config", config, "--json"}, out);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (read_file(out.log_file).find("authentication failed") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(read_file(out.log_file).find("authentication failed for autoscaler@auth.meet.test"),
            std::string::npos)
      << read_file(out.log_file);
  EXPECT_EQ(read_file(out.log_file).find("wrong-pw-xyz"), std::string::npos);
  watch.send_signal(SIGTERM);
  EXPECT_EQ(watch.wait(5s), 0);
}

}  // namespace
