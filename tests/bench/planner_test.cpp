// The clairvoyant planner: its plans replay through the simulator model exactly as it claims,
// never overload or move a conference, and cost no less than the lower bounds.
#include "planner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace bench {
namespace {

std::vector<scaling::Conference> shipped(const std::string& name) {
  std::ifstream in(std::string(JVB_TRACES_DIR) + "/" + name);
  return scaling::read_trace(in, name);
}

void expect_sound(const std::vector<scaling::Conference>& trace, int min_bridges) {
  const scaling::SimulationConfig simulation;
  PlannerOptions options;
  options.min_bridges = min_bridges;
  const PlannerResult planned = plan_fleet(trace, simulation, options);
  const auto replay = scaling::replay_plan(trace, simulation, planned.plan);
  EXPECT_DOUBLE_EQ(replay.billed_hours, planned.billed_hours);
  EXPECT_DOUBLE_EQ(replay.overload_participant_minutes, 0);
  EXPECT_EQ(replay.dropped_participants, 0);
  EXPECT_EQ(replay.migrated_participants, 0);
  EXPECT_GE(planned.billed_hours + 1e-9,
            scaling::hourly_lower_bound(trace, simulation.capacity_participants, min_bridges));
  EXPECT_GE(planned.billed_hours + 1e-9,
            scaling::oracle_bridge_hours(trace, simulation.capacity_participants, min_bridges));
}

TEST(Planner, OneMeetingNeedsOneBridgeForItsHours) {
  // 40 participants from t=0 to t=5400 on the one min bridge: 2 billed hours, nothing else.
  const PlannerResult planned = plan_fleet({{0, 5400, 40}}, {}, {});
  EXPECT_DOUBLE_EQ(planned.billed_hours, 2);
  EXPECT_EQ(planned.bridges, 1);
}

TEST(Planner, CreatesOneBootTimeBeforeTheArrivalThatNeedsIt) {
  // 80 on the min bridge from t=0; 50 more at t=1000 do not fit: a bridge created at t=820.
  const PlannerResult planned = plan_fleet({{0, 3000, 80}, {1000, 600, 50}}, {}, {});
  ASSERT_FALSE(planned.plan.actions.empty());
  EXPECT_EQ(planned.plan.actions.front().step, scaling::PlanStep::kCreate);
  EXPECT_DOUBLE_EQ(planned.plan.actions.front().time, 820);
  EXPECT_DOUBLE_EQ(planned.billed_hours, 2);  // 0..3000 and 820..3000 s
  expect_sound({{0, 3000, 80}, {1000, 600, 50}}, 1);
}

TEST(Planner, HoldsPackNewConferencesSoTheHeldBridgeEmpties) {
  // Two bridges are needed at t=0 (60 + 60). From t=600 small meetings arrive: without holds
  // they would spread over both bridges and keep both alive for 3 h; the planner holds the
  // bridge whose meeting ends first, so they pack onto the other and one bridge goes at 1 h.
  std::vector<scaling::Conference> trace = {{0, 1200, 60}, {0, 10000, 60}};
  for (int i = 0; i < 10; ++i) trace.push_back({600.0 + i * 900, 1800, 4});
  const PlannerResult planned = plan_fleet(trace, {}, {});
  EXPECT_DOUBLE_EQ(planned.billed_hours, 3 + 1);  // 0..10000 s (3 h) + 0..3600 s
  expect_sound(trace, 1);
}

TEST(Planner, SizeBlindLeavesRoomForTheLargestConferenceWhereverItPlaces) {
  // 50 on the min bridge; at t=1000 a 5-person meeting. Knowing its size, it fits (55). Blind
  // to sizes with room for 60, the bridge (50 + 60 > 100) cannot take it: a bridge is created
  // one boot time before, and the meeting goes there.
  const std::vector<scaling::Conference> trace = {{0, 3000, 50}, {1000, 600, 5}};
  EXPECT_DOUBLE_EQ(plan_fleet(trace, {}, {}).billed_hours, 1);
  PlannerOptions blind;
  blind.size_blind_room = 60;
  const PlannerResult planned = plan_fleet(trace, {}, blind);
  EXPECT_DOUBLE_EQ(planned.billed_hours, 2);
  ASSERT_FALSE(planned.plan.actions.empty());
  EXPECT_DOUBLE_EQ(planned.plan.actions.front().time, 820);
  const auto replay = scaling::replay_plan(trace, {}, planned.plan);
  EXPECT_DOUBLE_EQ(replay.billed_hours, planned.billed_hours);
  EXPECT_DOUBLE_EQ(replay.overload_participant_minutes, 0);
  // Blindness never makes a plan cheaper: the shipped workday costs more blind than sighted.
  const auto workday = shipped("workday.csv");
  EXPECT_GT(plan_fleet(workday, {}, blind).billed_hours, plan_fleet(workday, {}, {}).billed_hours);
}

TEST(Planner, ShippedTracesReplayExactly) {
  for (const char* name : {"workday.csv", "flash-crowd.csv", "weekend.csv", "webinar.csv"}) {
    SCOPED_TRACE(name);
    expect_sound(shipped(name), 1);
  }
}

TEST(Planner, RandomTracesReplayExactly) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    std::mt19937 random(seed);
    std::vector<scaling::Conference> trace;
    for (int i = 0; i < 150; ++i) {
      trace.push_back({static_cast<double>(std::uniform_int_distribution<int>(0, 30000)(random)),
                       static_cast<double>(std::uniform_int_distribution<int>(60, 7200)(random)),
                       std::uniform_int_distribution<int>(2, 60)(random)});
    }
    SCOPED_TRACE(seed);
    expect_sound(trace, static_cast<int>(seed % 3));
  }
}

}  // namespace
}  // namespace bench
