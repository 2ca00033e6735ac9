// What the scaling policy learns (issue 17), in process: JVB's largest_conference reaches the
// policy, what it learnt is kept in the state file (with every save, at most every 5 minutes on
// its own, at shutdown) and restored at start-up, and a broken `learned` value never costs the
// rest of the state file.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "agent/reconciler.h"
#include "agent/state_store.h"
#include "reconciler_harness.h"

namespace agent {
namespace {

using harness::kTags;
using harness::ReconcilerTest;
using namespace std::chrono_literals;

// Captures what spdlog's default logger writes while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return text_.str(); }
  int count(const std::string& needle) const {
    const std::string all = text();
    int found = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) {
      ++found;
    }
    return found;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

nlohmann::json read_json(const std::string& file) {
  std::ifstream input(file);
  return nlohmann::json::parse(input);
}

std::string read_text(const std::string& file) {
  std::ifstream input(file);
  std::ostringstream text;
  text << input.rdbuf();
  return text.str();
}

class LearnedStateTest : public ReconcilerTest {
 protected:
  LearnedStateTest() { config.scaling.learn_largest_conference = true; }

  // One managed bridge with 30 participants at stress 0.3, its largest conference `largest`
  // participants (nullopt: the stat is not published).
  void publish(std::optional<int64_t> largest) {
    xmpp::Event event{xmpp::Event::Type::kStats, "jvb-as-1", {}, "", clock.wall_now()};
    event.stats.stress_level = 0.3;
    event.stats.participants = 30;
    event.stats.conferences = 3;
    event.stats.drain = false;
    event.stats.largest_conference = largest;
    reconciler->on_brewery_event(event);
  }
  nlohmann::json learnt_hours() const {
    return reconciler->policy().learned_state()["largest_conference"]["hours"];
  }
  static double hour_of(WallTime time) { return std::floor(unix_seconds(time) / 3600) * 3600; }
};

// (a) JVB's largest_conference stat, fresh, ends up in what the policy learnt.
TEST_F(LearnedStateTest, LargestConferenceFromThePresenceIsLearnt) {
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  publish(std::nullopt);  // not published: nothing to learn
  period();
  EXPECT_TRUE(learnt_hours().empty()) << learnt_hours();

  clock.advance(10s);
  publish(12);  // 12 of its 30 participants at stress 0.3: 0.12 of a bridge
  period();
  const nlohmann::json hours = learnt_hours();
  ASSERT_EQ(hours.size(), 1u) << hours;
  EXPECT_DOUBLE_EQ(hours[0][0].get<double>(), hour_of(clock.wall_now()))
      << "the policy's epoch is anchored on the wall clock";
  EXPECT_NEAR(hours[0][1].get<double>(), 0.12, 1e-9);
}

TEST_F(LearnedStateTest, AStaleLargestConferenceIsNotLearnt) {
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  publish(25);
  clock.advance(2min);  // silent past the stats timeout (60 s): unknown
  period();
  EXPECT_TRUE(learnt_hours().empty()) << learnt_hours();
}

// (b) What was learnt is written at most every 5 minutes on its own (not every period) and
// restored after a restart, even one where the monotonic clock started again (a reboot).
TEST_F(LearnedStateTest, LearnedStateSurvivesARestartThroughTheStateFile) {
  linode.add_instance("jvb-as-1", kTags);
  // A state file of the previous version (no "learned"): it loads as before.
  {
    std::ofstream old(config.state_file);
    old << R"({"version": 1, "next_label_number": 4, "paused": false, "pinned": null,
               "min_override": null, "max_override": null, "creates": [], "drains": [],
               "schedule_events": [], "last_scale_action_at": 0, "failed_boots": null})";
  }
  const std::string before = read_text(config.state_file);
  start();
  EXPECT_EQ(reconciler->state().data().next_label_number, 4);
  EXPECT_TRUE(reconciler->state().data().learned.is_null());
  connect();
  publish(12);
  period();
  const WallTime learnt_at = clock.wall_now();
  ASSERT_EQ(learnt_hours().size(), 1u);
  // It changes every period but is not written every period.
  for (int i = 0; i < 29; ++i) {
    clock.advance(10s);
    publish(12);
    period();
  }
  EXPECT_EQ(read_text(config.state_file), before) << "rewritten within 5 minutes (290 s)";
  clock.advance(10s);
  publish(12);
  period();  // 300 s after the start
  const nlohmann::json saved = read_json(config.state_file);
  ASSERT_TRUE(saved.contains("learned")) << saved.dump();
  EXPECT_EQ(saved["learned"], reconciler->policy().learned_state());
  EXPECT_EQ(saved["next_label_number"], 4) << "the other keys keep their meaning";
  EXPECT_EQ(saved["drains"], nlohmann::json::array());
  const nlohmann::json hours_before = learnt_hours();
  crash();

  // A reboot two hours later: the monotonic clock starts again, the wall clock went on.
  clock = FakeTimeSource(learnt_at + 2h);
  start();
  EXPECT_EQ(learnt_hours(), hours_before) << "restored from the state file";
  connect();
  publish(20);
  period();
  const nlohmann::json hours = learnt_hours();
  ASSERT_EQ(hours.size(), 2u) << "a new hour, two hours after the first: " << hours;
  EXPECT_DOUBLE_EQ(hours[1][0].get<double>() - hours[0][0].get<double>(), 7200);
  EXPECT_NEAR(hours[1][1].get<double>(), 0.2, 1e-9);
}

TEST_F(LearnedStateTest, EverySaveAndTheShutdownCarryWhatWasLearnt) {
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  publish(12);
  period();
  ASSERT_TRUE(ctl({{"cmd", "pause"}})["ok"]);  // a save that happens anyway
  EXPECT_EQ(read_json(config.state_file)["learned"], reconciler->policy().learned_state());
  clock.advance(20min);  // a new hour
  publish(15);
  period();
  ASSERT_TRUE(reconciler->save());  // what the daemon does at a clean shutdown
  const nlohmann::json saved = read_json(config.state_file);
  EXPECT_EQ(saved["learned"], reconciler->policy().learned_state());
  EXPECT_EQ(saved["paused"], true);
}

// (c) A malformed, useless or absurdly large `learned` is ignored with one warning; the rest of
// the state file (drains, label counter, overrides) is used as before.
TEST_F(LearnedStateTest, ABrokenLearnedValueLeavesTheRestOfTheStateIntact) {
  const std::string big(kMaxLearnedStateBytes + 1, 'x');
  for (const nlohmann::json& broken :
       {nlohmann::json("garbage"), nlohmann::json::array({1, 2}), nlohmann::json(42),
        nlohmann::json{{"arrivals", 5}, {"largest_conference", "x"}},
        nlohmann::json{{"largest_conference", {{"version", 1}, {"pad", big}}}}}) {
    SCOPED_TRACE(broken.dump().substr(0, 80));
    linode.instances.clear();
    linode.add_instance("jvb-as-1", kTags);
    const int64_t second_id = linode.add_instance("jvb-as-2", kTags).id;
    const auto started_at = static_cast<int64_t>(unix_seconds(clock.wall_now())) - 60;
    {
      std::ofstream file(config.state_file, std::ios::trunc);
      file << nlohmann::json{
          {"version", 1},
          {"next_label_number", 9},
          {"paused", true},
          {"min_override", 2},
          {"drains",
           nlohmann::json::array({nlohmann::json{
               {"bridge", "jvb-as-2"}, {"linode_id", second_id}, {"started_at", started_at}}})},
          {"learned", broken}};
    }
    LogCapture log;
    start();
    const PersistentState& state = reconciler->state().data();
    EXPECT_EQ(state.next_label_number, 9);
    EXPECT_TRUE(state.paused);
    EXPECT_EQ(state.min_override, 2);
    ASSERT_EQ(state.drains.size(), 1u);
    EXPECT_EQ(state.drains[0].bridge, "jvb-as-2");
    EXPECT_EQ(state_of("jvb-as-2"), "draining") << "the drain is resumed";
    EXPECT_EQ(reconciler->policy().learned_state(), scaling::Policy{}.learned_state())
        << "starts with an empty learnt state";
    EXPECT_EQ(log.count("\"learned\" in " + config.state_file), 1) << log.text();
    EXPECT_EQ(log.count("corrupt"), 0) << "the file is not moved aside: " << log.text();
    connect();
    publish(12);
    period();
    EXPECT_EQ(log.count("\"learned\""), 1) << "warned once: " << log.text();
    ASSERT_TRUE(reconciler->save());
    EXPECT_EQ(read_json(config.state_file)["learned"], reconciler->policy().learned_state())
        << "replaced by what is learnt now";
    stop();
    std::filesystem::remove(config.state_file);
  }
}

TEST_F(LearnedStateTest, ALearnedValueIsAdvisoryAndSilentWhenUsable) {
  // What an earlier run saved: restored without a warning, and nothing acts on it at start-up.
  linode.add_instance("jvb-as-1", kTags);
  start();
  connect();
  publish(12);
  period();
  ASSERT_TRUE(reconciler->save());
  const nlohmann::json learned = reconciler->policy().learned_state();
  stop();
  LogCapture log;
  start();
  EXPECT_EQ(reconciler->policy().learned_state(), learned);
  EXPECT_EQ(log.count("\"learned\""), 0) << log.text();
  EXPECT_EQ(linode.creates_sent, 0);
  EXPECT_TRUE(drains.urls.empty());
}

}  // namespace
}  // namespace agent
