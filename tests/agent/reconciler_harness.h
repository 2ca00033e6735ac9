#pragma once
// The in-process harness of the agent tests: one Reconciler over the in-memory Linode client
// (fakes.h), a fake drain client and a fake clock, with helpers that feed brewery events and run
// periods. Shared by reconciler_test.cpp and guard_test.cpp.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/control_handler.h"
#include "agent/metrics.h"
#include "agent/reconciler.h"
#include "agent/time_source.h"
#include "fakes.h"
#include "test_support/classic_profile.h"

namespace agent {
namespace harness {

using agent_test::FakeDrains;
using agent_test::FakeLinode;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/jvb-agent-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline const std::vector<std::string> kTags = {"jitsi", "jvb-autoscaler"};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() {
    config.path = (dir.path() / "config.json").string();
    config.state_file = (dir.path() / "state.json").string();
    config.linode.region = "eu-central";
    config.linode.type = "g6-dedicated-4";
    config.linode.image = "linode/debian12";
    config.linode.user_data_template.reset();
    config.drain.url = "http://{private_ip}:8080/colibri/drain/enable";
    // The old contract profile (0.7/0.3, prompt drains, every lever off): these tests follow
    // drains and deletes period by period, so the measured defaults (billing waits, holds) are
    // pinned away (test_support/classic_profile.h).
    config.scaling = test_support::classic_scaling_profile();
    config.scaling.min_bridges = 1;
    config.scaling.max_bridges = 5;
    config.scaling.period_seconds = 10;
    config.scaling.scale_up_periods = 2;
    config.scaling.scale_down_periods = 3;
    config.scaling.cooldown_seconds = 60;
    config.scaling.boot_timeout_seconds = 900;
    config.scaling.drain_timeout_seconds = 3600;
    config.xmpp.stats_timeout_seconds = 60;
    MetricsOptions options;
    options.listen = "";  // no HTTP server
    metrics = std::make_unique<Metrics>(options);
  }
  ~ReconcilerTest() override { stop(); }

  void start() {
    reconciler = std::make_unique<Reconciler>(
        config, false, Reconciler::Deps{io, clock, linode, drains, metrics.get()});
    reconciler->set_tick_request([] {});  // the tests run periods themselves
    ASSERT_TRUE(reconciler->start());
  }
  // The agent dies: nothing more is saved. Every answer was delivered by the last pump(), so
  // no handler refers to it (a held create never answers).
  void crash() { reconciler.reset(); }
  void stop() {
    if (reconciler) reconciler->stop();
    pump();
    reconciler.reset();
  }
  void pump() {
    io.restart();
    io.poll();
  }
  // One period: the list, the decision, the actions, every answer.
  void period() {
    reconciler->tick();
    pump();
  }
  // `n` periods, the clock advancing one period before each.
  void periods(int n) {
    for (int i = 0; i < n; ++i) {
      clock.advance(10s);
      period();
    }
  }
  void event(xmpp::Event::Type type, const std::string& bridge = "",
             std::optional<double> stress = std::nullopt, int participants = 0,
             bool drain = false) {
    xmpp::Event event{
        type, bridge, {}, type == xmpp::Event::Type::kDisconnected ? "gone" : "", clock.wall_now()};
    if (stress) {
      event.stats.stress_level = *stress;
      event.stats.participants = participants;
      event.stats.conferences = (participants + 4) / 5;
      event.stats.drain = drain;
    }
    reconciler->on_brewery_event(event);
  }
  void connect() { event(xmpp::Event::Type::kConnected); }
  void disconnect() { event(xmpp::Event::Type::kDisconnected); }
  void presence(const std::string& bridge, double stress, int participants, bool drain = false) {
    event(xmpp::Event::Type::kStats, bridge, stress, participants, drain);
  }
  void left(const std::string& bridge) { event(xmpp::Event::Type::kLeft, bridge); }
  // Every instance of the fake publishes `stress` (the managed ones are in the brewery).
  void all_present(double stress, int participants) {
    for (const auto& [id, instance] : linode.instances) {
      presence(instance.label, stress, participants);
    }
  }
  std::string state_of(const std::string& bridge) {
    for (const auto& row : reconciler->status_view(false).bridges) {
      if (row.name == bridge) return row.state;
    }
    return "absent";
  }
  nlohmann::json ctl(const nlohmann::json& request) { return handle_control(*reconciler, request); }
  std::string metric(const std::string& line_start) {
    const std::string text = metrics->text();
    for (size_t at = 0; at < text.size();) {
      const size_t end = text.find('\n', at);
      const std::string line = text.substr(at, end - at);
      if (line.rfind(line_start + " ", 0) == 0) return line.substr(line_start.size() + 1);
      if (end == std::string::npos) break;
      at = end + 1;
    }
    return "absent";
  }

  TempDir dir;
  Config config;
  FakeTimeSource clock;
  boost::asio::io_context io;
  FakeLinode linode;
  FakeDrains drains;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Reconciler> reconciler;
};

}  // namespace harness
}  // namespace agent
