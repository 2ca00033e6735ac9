// Learnt room for the largest conference (ScalingConfig::learn_largest_conference, issue 17):
// the scale-up line rises only after a whole day of small conferences, and falls back as soon as
// a large one is seen. Hand arithmetic and one replay.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "bridge_view_builder.h"
#include "scaling/policy.h"
#include "scaling/predictor.h"
#include "scaling/simulator.h"
#include "test_support/classic_profile.h"

namespace scaling {
namespace {

constexpr double kHour = 3600;
constexpr double kDay = 24 * kHour;

TEST(LargestConference, CapUntilADayIsKnownThenTwiceTheLargestOfTheWeek) {
  constexpr double kWeek = 7 * kDay;
  LargestConference largest;
  EXPECT_DOUBLE_EQ(largest.room(0, 0.6), 0.6);  // nothing seen
  largest.observe(0, 0.08);
  largest.observe(10 * kHour, 0.05);
  EXPECT_DOUBLE_EQ(largest.room(23 * kHour, 0.6), 0.6);  // less than a day of history
  largest.observe(kDay + 60, 0.04);
  EXPECT_NEAR(largest.room(kDay + 60, 0.6), 0.16, 1e-12);  // 2 x 0.08
  largest.observe(kWeek + 2 * kHour, 0.02);
  EXPECT_NEAR(largest.room(kWeek + 2 * kHour, 0.6), 0.10, 1e-12);  // hour 0 left the week
  largest.observe(kWeek + 3 * kHour, 0.45);                        // an all-hands
  EXPECT_DOUBLE_EQ(largest.room(kWeek + 3 * kHour, 0.6), 0.6);     // 0.9, capped
  largest.observe(kWeek + 4 * kHour, 0.01);
  EXPECT_NEAR(largest.room(kWeek + 4 * kHour, 1.0), 0.9, 1e-12);
  // A quiet day later the all-hands is still remembered (a week, not a day).
  EXPECT_NEAR(largest.room(kWeek + 2 * kDay, 1.0), 0.9, 1e-12);
}

TEST(LargestConference, TinyMeetingsKeepTheFloorAndJunkIsIgnored) {
  LargestConference largest;
  largest.observe(0, 0.01);
  largest.observe(kDay, 0.02);
  largest.observe(kDay + 1, -1);
  largest.observe(kDay + 2, std::nan(""));
  EXPECT_DOUBLE_EQ(largest.room(kDay + 3, 0.6), LargestConference::kMinRoom);
  EXPECT_DOUBLE_EQ(largest.room(kDay + 3, 0.05), 0.05);  // the cap wins over the floor
}

TEST(LargestConference, StateRoundTripsAndMalformedStateIsEmpty) {
  LargestConference largest;
  for (int hour = 0; hour < 200; ++hour) largest.observe(hour * kHour, 0.01 * (hour % 5 + 1));
  const nlohmann::json state = largest.to_json();
  EXPECT_LE(state.at("hours").size(), LargestConference::kHours);  // bounded: a week of hours
  const LargestConference restored = LargestConference::from_json(state);
  EXPECT_DOUBLE_EQ(restored.room(199 * kHour, 0.6), largest.room(199 * kHour, 0.6));
  EXPECT_NEAR(restored.room(199 * kHour, 0.6), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(LargestConference::from_json({{"version", 1}, {"hours", "x"}}).room(kDay, 0.6),
                   0.6);
  EXPECT_DOUBLE_EQ(LargestConference::from_json(nlohmann::json::array()).room(kDay, 0.6), 0.6);
}

BridgeView ready(std::string name, int participants, int largest) {
  BridgeView bridge = scaling_test::ready_bridge(std::move(name), participants);
  bridge.largest_conference = largest;
  return bridge;
}

TEST(LearnLargestConference, ADayOfSmallMeetingsRaisesTheScaleUpLine) {
  // The classic profile (no trend, no billing wait) so that only the learnt line moves.
  EffectiveConfig effective = test_support::classic_effective_config();
  effective.config.scale_up_threshold = 0.45;
  effective.config.scale_down_threshold = 0.18;
  effective.config.scale_up_periods = 1;
  effective.config.learn_largest_conference = true;
  Policy policy;
  Snapshot snapshot;
  snapshot.bridges = {ready("jvb-1", 55, 8)};  // mean 0.55 > 0.45, meetings of at most 8
  snapshot.now = 0;
  EXPECT_EQ(policy.decide(snapshot, effective).create_count(), 1);  // no history: 0.45 holds
  Policy learnt;
  for (double t = 0; t <= kDay; t += 600) {
    snapshot.now = t;
    snapshot.bridges = {ready("jvb-1", 20, 8)};
    learnt.decide(snapshot, effective);
  }
  snapshot.now = kDay + 10;
  snapshot.bridges = {ready("jvb-1", 55, 8)};
  const Decision relaxed = learnt.decide(snapshot, effective);
  EXPECT_EQ(relaxed.create_count(), 0) << relaxed.reason;  // line 1 - 0.16 = 0.84
  EXPECT_NE(relaxed.reason.find("scale-up line 0.84"), std::string::npos) << relaxed.reason;
  // A large meeting shows up: the line falls back to the configured one at once.
  snapshot.now = kDay + 20;
  snapshot.bridges = {ready("jvb-1", 90, 40)};
  EXPECT_EQ(learnt.decide(snapshot, effective).create_count(), 1);
  // The learnt state survives a restart (Policy::learned_state).
  Policy restarted;
  restarted.restore_learned_state(learnt.learned_state());
  snapshot.now = kDay + 30;
  snapshot.bridges = {ready("jvb-1", 30, 5)};
  const Decision after = restarted.decide(snapshot, effective);
  EXPECT_EQ(after.reason.find("scale-up line"), std::string::npos) << after.reason;  // 2 x 0.4
}

TEST(LearnLargestConference, SmallMeetingsForTwoDaysCostLessAndNeverOverload) {
  // Two days of 5-person meetings, 30 at a time at the peak of each afternoon: day 2 runs with
  // the learnt line (fuller bridges), day 1 with the configured one.
  std::vector<Conference> trace;
  for (int day = 0; day < 2; ++day) {
    for (int slot = 0; slot < 48; ++slot) {
      const int meetings = slot >= 24 && slot < 36 ? 30 : 2;
      for (int i = 0; i < meetings; ++i) {
        trace.push_back({day * kDay + slot * 1800.0 + i * 55, 1790, 5});
      }
    }
  }
  EffectiveConfig effective;
  effective.config = recommended_scaling_config();
  effective.config.learn_largest_conference = false;
  const SimulationReport fixed = simulate(trace, SimulationConfig{}, effective);
  effective.config.learn_largest_conference = true;
  const SimulationReport learnt = simulate(trace, SimulationConfig{}, effective);
  EXPECT_EQ(fixed.overload_participant_minutes, 0);
  EXPECT_EQ(learnt.overload_participant_minutes, 0);
  EXPECT_LT(learnt.billed_hours, fixed.billed_hours);
  std::printf("billed hours: %.0f with the configured line, %.0f with the learnt one\n",
              fixed.billed_hours, learnt.billed_hours);
}

TEST(LearnLargestConference, AWarmRunStartsFromWhatThePreviousRunLearnt) {
  // One day of small meetings, replayed twice: cold, the first day uses the configured line;
  // warm (the learnt state of a previous day, the policy's clock a day later), the learnt one.
  std::vector<Conference> day;
  for (int slot = 0; slot < 48; ++slot) {
    const int meetings = slot >= 18 && slot < 36 ? 30 : 2;
    for (int i = 0; i < meetings; ++i) day.push_back({slot * 1800.0 + i * 55, 1790, 5});
  }
  EffectiveConfig effective;
  effective.config.learn_largest_conference = true;
  const ConfigProvider constant = [&effective](double) { return effective; };
  nlohmann::json learned;
  ReplayHooks first;
  first.learned_out = &learned;
  const SimulationReport cold = simulate(day, SimulationConfig{}, constant, first);
  ASSERT_TRUE(learned.contains("largest_conference"));
  ReplayHooks second;
  second.learned_in = &learned;
  second.policy_time_offset = kDay;
  const SimulationReport warm = simulate(day, SimulationConfig{}, constant, second);
  EXPECT_LT(warm.billed_hours, cold.billed_hours);
  EXPECT_EQ(warm.overload_participant_minutes, 0);
  // Without the offset the learnt hours lie in the policy's future: nothing is relaxed early.
  ReplayHooks same_clock;
  same_clock.learned_in = &learned;
  EXPECT_GE(simulate(day, SimulationConfig{}, constant, same_clock).billed_hours,
            warm.billed_hours);
}

}  // namespace
}  // namespace scaling
