// Metrics: scraped over real HTTP, checked with promtool, values after setter calls, secrets.
#include "agent/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include "test_util.h"

namespace agent {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using agent_infra_test::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// GET http://127.0.0.1:<port><target>; returns the body (empty on failure, with a test failure).
std::string http_get(uint16_t port, const std::string& target = "/metrics") {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "127.0.0.1");
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 200u);
  beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  return response.body();
}

// The value of the sample line `series` (exact name+labels), or nullopt if absent.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

MetricsOptions test_options() {
  MetricsOptions options;
  options.listen = "127.0.0.1:0";
  options.version = "0.1.0-test";
  return options;
}

// Drives every setter once so that every family has samples.
void exercise_all_setters(Metrics& metrics) {
  metrics.set_bridges({{"jvb-as-3", "ready", 0.52, 31},
                       {"jvb-as-4", "provisioning", std::nullopt, std::nullopt},
                       {"jvb1", "unmanaged", 0.1, 5},
                       {"jvb-as-2", "draining", 0.05, 2}});
  metrics.set_cluster_stress(0.41);
  metrics.set_desired(3);
  metrics.set_bounds(1, 10);
  metrics.set_paused(false);
  metrics.set_override(std::nullopt);
  metrics.set_blind(false);
  metrics.set_xmpp_connected(true);
  metrics.count_xmpp_reconnect();
  metrics.count_scaling_action(ScalingAction::kCreate, scaling::Reason::kStressHigh);
  metrics.count_adoption(AdoptReason::kAmbiguousCreate);
  metrics.count_drain_timeout();
  metrics.set_failed_boots(2, false);
  metrics.observe_linode_request("GET", 200, 0.12);
  metrics.observe_linode_request("POST", 400, 0.3);
  metrics.observe_linode_request("DELETE", 0, 10.0);
  metrics.observe_decision_duration(0.0007);
  metrics.set_schedule(4, "office-hours");
}

TEST(Metrics, ScrapeOverHttpHasEveryFamilyWithHelpAndPassesPromtool) {
  Metrics metrics(test_options());
  ASSERT_NE(metrics.port(), 0);
  exercise_all_setters(metrics);
  const std::string body = http_get(metrics.port());
  for (const char* family :
       {"bridges", "bridge_stress", "bridge_participants", "cluster_stress", "desired_bridges",
        "min_bridges", "max_bridges", "paused", "override_active", "scaling_actions_total",
        "linode_requests_total", "linode_request_duration_seconds", "xmpp_connected",
        "xmpp_reconnects_total", "decision_duration_seconds", "build_info", "schedule_min_bridges",
        "schedule_active", "blind"}) {
    EXPECT_THAT(body, HasSubstr(std::string("# HELP jvb_autoscaler_") + family + " ")) << family;
    EXPECT_THAT(body, HasSubstr(std::string("# TYPE jvb_autoscaler_") + family + " ")) << family;
  }
  EXPECT_THAT(body, HasSubstr("# TYPE jvb_autoscaler_linode_request_duration_seconds histogram"));
  EXPECT_THAT(body, HasSubstr("# TYPE jvb_autoscaler_decision_duration_seconds histogram"));

  const std::string promtool = JVB_PROMTOOL;
  if (promtool.empty())
    GTEST_SKIP() << "promtool is not installed: skipping promtool check metrics";
  TempDir dir;
  const auto scrape = dir / "scrape.txt";
  std::ofstream(scrape) << body;
  const std::string command = promtool + " check metrics < " + scrape.string() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe)) output += buffer;
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "promtool check metrics failed:\n"
                                                             << output << "\n--- scrape ---\n"
                                                             << body;
}

TEST(Metrics, ValuesFollowTheSetters) {
  Metrics metrics(test_options());
  exercise_all_setters(metrics);
  std::string text = metrics.text();
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="ready"})"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="provisioning"})"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="unmanaged"})"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="draining"})"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="deleting"})"), 0);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="failed"})"), 0);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridge_stress{bridge="jvb-as-3"})"), 0.52);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridge_participants{bridge="jvb-as-3"})"), 31);
  // Unknown stats: no series rather than a made-up 0.
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridge_stress{bridge="jvb-as-4"})"), std::nullopt);
  EXPECT_EQ(sample(text, "jvb_autoscaler_cluster_stress"), 0.41);
  EXPECT_EQ(sample(text, "jvb_autoscaler_desired_bridges"), 3);
  EXPECT_EQ(sample(text, "jvb_autoscaler_min_bridges"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_max_bridges"), 10);
  EXPECT_EQ(sample(text, "jvb_autoscaler_xmpp_connected"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_xmpp_reconnects_total"), 1);
  EXPECT_EQ(
      sample(text, R"(jvb_autoscaler_scaling_actions_total{action="create",reason="stress_high"})"),
      1);
  EXPECT_EQ(
      sample(text, R"(jvb_autoscaler_scaling_actions_total{action="delete",reason="drained"})"), 0);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_linode_requests_total{method="GET",status="200"})"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_linode_requests_total{method="DELETE",status="error"})"),
            1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_linode_request_duration_seconds_count"), 3);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_linode_request_duration_seconds_bucket{le="0.25"})"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_decision_duration_seconds_count"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_build_info{version="0.1.0-test"})"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_schedule_min_bridges"), 4);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_schedule_active{window="office-hours"})"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_paused"), 0);
  EXPECT_EQ(sample(text, "jvb_autoscaler_blind"), 0);

  // The operator pauses and pins, the brewery drops, a bridge goes away, the window ends.
  metrics.set_paused(true);
  metrics.set_override(5);
  metrics.set_blind(true);
  metrics.set_xmpp_connected(false);
  metrics.set_cluster_stress(std::nullopt);
  metrics.set_bridges({{"jvb-as-3", "draining", 0.2, 9}});
  metrics.set_schedule(std::nullopt, "");
  text = metrics.text();
  EXPECT_EQ(sample(text, "jvb_autoscaler_paused"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_override_active"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_blind"), 1);
  EXPECT_EQ(sample(text, "jvb_autoscaler_xmpp_connected"), 0);
  EXPECT_EQ(sample(text, "jvb_autoscaler_cluster_stress"), std::nullopt);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="ready"})"), 0);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridges{state="draining"})"), 1);
  EXPECT_EQ(sample(text, R"(jvb_autoscaler_bridge_stress{bridge="jvb-as-3"})"), 0.2);
  EXPECT_THAT(text, Not(HasSubstr("jvb1")));
  EXPECT_THAT(text, Not(HasSubstr("jvb-as-4")));
  EXPECT_THAT(text, Not(HasSubstr("office-hours")));
  EXPECT_EQ(sample(text, "jvb_autoscaler_schedule_min_bridges"), std::nullopt);
  // What HTTP serves is what text() renders.
  EXPECT_EQ(sample(http_get(metrics.port()), "jvb_autoscaler_paused"), 1);
}

TEST(Metrics, NoLabelValueEverContainsAConfiguredSecret) {
  const std::string token = "f3c1b0a9d8e7-linode-token-5566";
  const std::string password = "xmpp-Pa55word!";
  MetricsOptions options = test_options();
  options.secrets = {token, password, ""};
  options.version = "build-" + token;
  Metrics metrics(options);
  // Every free-form label source fed with a secret (a hostile or mistaken nickname/window).
  metrics.set_bridges({{"jvb-" + token, "ready", 0.5, 3}, {password, "ready", 0.1, 1}});
  metrics.set_schedule(2, "window " + password);
  metrics.observe_linode_request(token, 200, 0.1);
  exercise_all_setters(metrics);
  metrics.set_bridges({{"jvb-" + token, "ready", 0.5, 3}, {password, "ready", 0.1, 1}});
  for (const std::string& text : {metrics.text(), http_get(metrics.port())}) {
    EXPECT_THAT(text, Not(HasSubstr(token)));
    EXPECT_THAT(text, Not(HasSubstr(password)));
    EXPECT_THAT(text, HasSubstr("redacted"));
  }
}

TEST(Metrics, ConcurrentSettersFromSeveralThreadsAreSafe) {
  Metrics metrics(test_options());
  constexpr int kRounds = 2000;
  std::thread linode_worker([&] {
    for (int i = 0; i < kRounds; ++i) metrics.observe_linode_request("GET", 200, 0.01);
  });
  std::thread scraper([&] {
    for (int i = 0; i < 20; ++i) (void)metrics.text();
  });
  for (int i = 0; i < kRounds; ++i) {
    metrics.set_bridges({{"jvb-as-" + std::to_string(i % 7), "ready", 0.3, i % 50}});
  }
  linode_worker.join();
  scraper.join();
  EXPECT_EQ(
      sample(metrics.text(), R"(jvb_autoscaler_linode_requests_total{method="GET",status="200"})"),
      kRounds);
}

TEST(Metrics, BadListenAddressOrBusyPortGiveOneSentence) {
  MetricsOptions options = test_options();
  options.listen = "localhost";
  try {
    Metrics metrics(options);
    FAIL() << "accepted a listen address without a port";
  } catch (const MetricsError& e) {
    EXPECT_EQ(std::string(e.what()),
              "metrics.listen \"localhost\" is not host:port (e.g. 127.0.0.1:9464)");
  }
  Metrics first(test_options());
  options.listen = "127.0.0.1:" + std::to_string(first.port());
  try {
    Metrics second(options);
    FAIL() << "two exposers bound the same port";
  } catch (const MetricsError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("cannot serve metrics on " + options.listen));
  }
}

}  // namespace
}  // namespace agent
