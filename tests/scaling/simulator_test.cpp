// Simulator (DESIGN section 8): the static fleet against hand arithmetic, then the dynamic parts
// (boot delay, drain timeout, time-dependent configuration, determinism).
#include "scaling/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "test_support/classic_profile.h"

namespace scaling {
namespace {

// The old contract profile (0.7/0.3, prompt drains, every lever off), pinned so that the hand
// arithmetic below does not move with the measured defaults (test_support/classic_profile.h).
EffectiveConfig classic() { return test_support::classic_effective_config(); }

EffectiveConfig fixed_fleet(int bridges) {
  EffectiveConfig effective = classic();
  effective.config.min_bridges = bridges;
  effective.config.max_bridges = bridges;
  return effective;
}

TEST(Simulator, StaticFleetMatchesHandArithmetic) {
  // Two bridges of capacity 100 for the whole run (min = max = 2).
  //   A: 0..3600 s, 60 participants  -> sim-1 (tie: oldest)
  //   B: 0..1800 s, 50 participants  -> sim-2 (0 < 60)
  //   C: 600..6000 s, 70 participants -> sim-2 (50 < 60): 120 until B ends at 1800
  // overload: 120 participants x 1200 s = 2400 participant-minutes
  // bridge hours: 2 x 6000 s = 3.333 h; billed: 2 x ceil(1.667) = 4 h
  // oracle: 2 bridges for 3600 s (110, 180, 130 participants) + 1 for 2400 s (70) = 2.667 h
  // participant-minutes: 60x60 + 50x30 + 70x90 = 11400
  const std::vector<Conference> trace = {{0, 3600, 60}, {0, 1800, 50}, {600, 5400, 70}};
  int actions = 0;
  const auto report = simulate(
      trace, SimulationConfig{}, fixed_fleet(2), [&](const Snapshot&, const Decision& decision) {
        actions +=
            decision.create + static_cast<int>(decision.drain.size() + decision.remove.size());
      });
  EXPECT_EQ(actions, 0);
  EXPECT_DOUBLE_EQ(report.duration_seconds, 6000);
  EXPECT_NEAR(report.bridge_hours, 2 * 6000 / 3600.0, 1e-9);
  EXPECT_DOUBLE_EQ(report.billed_hours, 4);
  EXPECT_NEAR(report.oracle_bridge_hours, 9600 / 3600.0, 1e-9);
  EXPECT_NEAR(report.participant_minutes, 11400, 1e-9);
  EXPECT_NEAR(report.overload_participant_minutes, 2400, 1e-9);
  EXPECT_EQ(report.peak_bridges, 2);
  EXPECT_EQ(report.scale_ups, 0);
  EXPECT_EQ(report.scale_downs, 0);
  EXPECT_EQ(report.dropped_participants, 0);
  EXPECT_EQ(report.decisions, 600);  // every 10 s in [0, 6000)
}

TEST(Simulator, ShortRunStillBillsOneHourPerBridge) {
  const auto report = simulate({{0, 60, 5}}, SimulationConfig{}, fixed_fleet(3));
  EXPECT_NEAR(report.bridge_hours, 3 * 60 / 3600.0, 1e-9);
  EXPECT_DOUBLE_EQ(report.billed_hours, 3);
}

TEST(Simulator, NewBridgeTakesConferencesOnlyAfterBootDelay) {
  EffectiveConfig effective = classic();
  effective.config.min_bridges = 1;
  effective.config.max_bridges = 2;
  effective.config.scale_up_periods = 1;
  effective.config.scale_up_threshold = 0.7;
  SimulationConfig simulation;
  simulation.boot_seconds = 180;
  // 80 participants at t=0 -> mean 0.8 > 0.7: create at t=0, ready at t=180.
  // A 30-participant conference at t=100 lands on sim-1 (110: overloaded for 100 s until 200),
  // one at t=190 lands on the new, empty sim-2.
  std::vector<Conference> trace = {{0, 200, 80}, {100, 100, 30}, {190, 500, 30}};
  std::vector<double> create_times;
  const auto report = simulate(trace, simulation, effective,
                               [&](const Snapshot& snapshot, const Decision& decision) {
                                 if (decision.create > 0) create_times.push_back(snapshot.now);
                               });
  ASSERT_FALSE(create_times.empty());
  EXPECT_DOUBLE_EQ(create_times[0], 0);
  EXPECT_EQ(report.scale_ups, 1);
  EXPECT_NEAR(report.overload_participant_minutes, 110 * 100 / 60.0, 1e-9);
}

TEST(Simulator, DrainTimeoutMigratesTheConferencesLeft) {
  // Two bridges until t=100, then max 1: the emptier one (sim-2, 20 participants) drains at the
  // tick t=100; its conference outlives the 600 s drain timeout, so at t=700 the bridge shuts
  // down and its conference moves whole to sim-1 (90 + 20 = 110: overloaded until 5000).
  const ConfigProvider config = [](double t) {
    EffectiveConfig effective = classic();
    effective.config.min_bridges = t < 100 ? 2 : 1;
    effective.config.max_bridges = t < 100 ? 2 : 1;
    effective.config.drain_timeout_seconds = 600;
    return effective;
  };
  const std::vector<Conference> trace = {{0, 5000, 90}, {0, 5000, 20}};
  const auto report = simulate(trace, SimulationConfig{}, config);
  EXPECT_EQ(report.scale_downs, 1);
  EXPECT_EQ(report.migrated_participants, 20);
  EXPECT_EQ(report.dropped_participants, 0);
  EXPECT_EQ(report.peak_bridges, 2);
  // sim-2: 0..700 s -> 1 h; sim-1: 0..5000 s -> 2 h.
  EXPECT_DOUBLE_EQ(report.billed_hours, 3);
  EXPECT_NEAR(report.bridge_hours, 5700 / 3600.0, 1e-9);
  EXPECT_NEAR(report.overload_participant_minutes, 110 * 4300 / 60.0, 1e-9);
  const auto json = report_to_json(report);
  EXPECT_EQ(json["migrated_participants"], 20);
  EXPECT_NE(report_to_table(report).find("migrated participants           20"), std::string::npos)
      << report_to_table(report);
}

TEST(Simulator, PlanReplayHoldsSteerPlacementAndDeletesMigrate) {
  // Two bridges ready at t=0; bridge 0 is held at t=0 and released at t=300; bridge 1 is
  // deleted at t=400.
  //   c1 0..600 (60)   -> bridge 1 (bridge 0 is held although emptier)
  //   c2 10..610 (50)  -> bridge 1: 110, overloaded 10..400
  //   c3 300..900 (5)  -> bridge 0 (released; 0 < 110)
  //   t=400: bridge 1 shuts down, c1 and c2 move to bridge 0 (the only one left): 115,
  //          overloaded 400..600 (c1 ends), then 55.
  // overload: 110 x 390 s + 115 x 200 s = 65900 participant-seconds.
  const std::vector<Conference> trace = {{0, 600, 60}, {10, 600, 50}, {300, 600, 5}};
  FleetPlan plan;
  plan.initial_bridges = 2;
  plan.actions = {
      {0, PlanStep::kHold, 0}, {300, PlanStep::kRelease, 0}, {400, PlanStep::kDelete, 1}};
  std::vector<TimelineRow> timeline;
  ReplayHooks hooks;
  hooks.timeline = &timeline;
  hooks.timeline_period_seconds = 60;
  const auto report = replay_plan(trace, SimulationConfig{}, plan, hooks);
  EXPECT_EQ(report.migrated_participants, 110);
  EXPECT_EQ(report.dropped_participants, 0);
  EXPECT_NEAR(report.overload_participant_minutes, 65900 / 60.0, 1e-9);
  EXPECT_EQ(report.holds, 1);
  EXPECT_EQ(report.releases, 1);
  EXPECT_DOUBLE_EQ(report.billed_hours, 2);  // 0..900 and 0..400 s
  EXPECT_NEAR(report.bridge_hours, 1300 / 3600.0, 1e-9);
  ASSERT_EQ(timeline.size(), 15u);  // t = 0, 60, ..., 840 (the run ends at 900)
  EXPECT_EQ(timeline[0].held, 1);
  EXPECT_EQ(timeline[0].ready, 1);
  EXPECT_EQ(timeline[0].participants, 60);
  EXPECT_EQ(timeline[6].t, 360);
  EXPECT_EQ(timeline[6].held, 0);
  EXPECT_EQ(timeline[6].ready, 2);
  EXPECT_EQ(timeline[6].overload_participants, 110);
  EXPECT_EQ(timeline[7].ready, 1);
  EXPECT_EQ(timeline[7].participants, 115);
  EXPECT_EQ(timeline[7].overload_participants, 115);
  const std::string csv = timeline_to_csv(timeline);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "t,participants,provisioning,ready,held,draining,desired,overload_participants");
  EXPECT_NE(csv.find("\n420,115,0,1,0,0,1,115\n"), std::string::npos) << csv;
}

TEST(Simulator, ParticipantsAreDroppedOnlyWhenNoBridgeIsLeft) {
  FleetPlan plan;
  plan.initial_bridges = 1;
  plan.actions = {{100, PlanStep::kDelete, 0}};
  // The only bridge goes at t=100 with 10 participants on it; the conference at t=200 finds no
  // bridge at all.
  const auto report = replay_plan({{0, 1000, 10}, {200, 100, 4}}, SimulationConfig{}, plan);
  EXPECT_EQ(report.migrated_participants, 0);
  EXPECT_EQ(report.dropped_participants, 14);
  EXPECT_THROW(replay_plan({{0, 10, 1}}, SimulationConfig{}, {1, {{5, PlanStep::kHold, 3}}}),
               std::invalid_argument);
}

TEST(Simulator, PlannedBridgeIsReadyAfterBootSeconds) {
  // A bridge created at t=20 is ready at t=200: the conference at t=199 still goes to the
  // (held-free) bridge 0, the one at t=200 to the new, empty bridge 1.
  FleetPlan plan;
  plan.initial_bridges = 1;
  plan.actions = {{20, PlanStep::kCreate, 1}};
  const auto report =
      replay_plan({{0, 1000, 60}, {199, 500, 50}, {200, 500, 30}}, SimulationConfig{}, plan);
  // Bridge 0: 110 from 199 to 699 (conference 2 ends) -> 110 x 500 s overloaded.
  EXPECT_NEAR(report.overload_participant_minutes, 110 * 500 / 60.0, 1e-9);
  EXPECT_EQ(report.scale_ups, 1);
  EXPECT_DOUBLE_EQ(report.billed_hours, 2);
}

TEST(Simulator, HourlyLowerBoundCoversDemandWithHourBlocks) {
  // 50 participants 0..5400 s, 60 more 1800..3600 s: demand 1, 2, 1 bridges by half hour.
  // One block [0, 3600) and one [1800, 5400) cover it: 2 h, although each demand layer alone
  // (1 bridge for 1.5 h, 1 for 0.5 h) would bill 3.
  const std::vector<Conference> trace = {{0, 5400, 50}, {1800, 1800, 60}};
  EXPECT_NEAR(hourly_lower_bound(trace, 100, 0), 2, 1e-9);
  // A floor of 3 bridges over 5400 s: 3 blocks from 0, 3 more from 3600.
  EXPECT_NEAR(hourly_lower_bound(trace, 100, 3), 6, 1e-9);
  // Nothing before t = 4000 and min 0: one block for the 100 s meeting.
  EXPECT_NEAR(hourly_lower_bound({{4000, 100, 10}}, 100, 0), 1, 1e-9);
  EXPECT_LE(oracle_bridge_hours(trace, 100), hourly_lower_bound(trace, 100, 0));
}

TEST(Simulator, DrainedBridgeIsDeletedOnceEmpty) {
  EffectiveConfig effective = classic();
  effective.config.min_bridges = 1;
  effective.config.max_bridges = 3;
  effective.config.scale_up_threshold = 0.7;
  effective.config.scale_down_threshold = 0.3;
  effective.config.scale_down_periods = 2;
  effective.config.cooldown_seconds = 0;
  effective.config.lookahead_seconds = 0;
  // Start with 1 bridge; load forces 1 more, then load vanishes and the extra one goes.
  std::vector<Conference> trace = {{0, 600, 90}, {0, 20000, 5}};
  std::vector<std::string> removed;
  const auto report = simulate(
      trace, SimulationConfig{}, effective, [&](const Snapshot&, const Decision& decision) {
        removed.insert(removed.end(), decision.remove.begin(), decision.remove.end());
      });
  EXPECT_EQ(report.scale_ups, 1);
  EXPECT_EQ(report.scale_downs, 1);
  EXPECT_EQ(removed.size(), 1u);
  EXPECT_EQ(report.dropped_participants, 0);
  // sim-1 bills ceil(20000 s) = 6 h; sim-2 is drained in the last 10 minutes of its paid
  // hour (billing-aware scale-down) and deleted empty before the hour ends: 1 h.
  EXPECT_DOUBLE_EQ(report.billed_hours, 7);
}

std::vector<Conference> random_trace(unsigned seed, int count) {
  std::mt19937 random(seed);
  std::vector<Conference> trace;
  for (int i = 0; i < count; ++i) {
    trace.push_back({static_cast<double>(std::uniform_int_distribution<int>(0, 20000)(random)),
                     static_cast<double>(std::uniform_int_distribution<int>(60, 5400)(random)),
                     std::uniform_int_distribution<int>(2, 30)(random)});
  }
  return trace;
}

TEST(Simulator, SameInputGivesByteIdenticalJsonWhateverTheLineOrder) {
  auto trace = random_trace(5, 400);
  EffectiveConfig effective = classic();
  effective.config.max_bridges = 30;
  for (PolicyKind kind : {PolicyKind::kThreshold, PolicyKind::kTarget}) {
    effective.config.policy = kind;
    const std::string first = report_to_json(simulate(trace, {}, effective)).dump();
    const std::string again = report_to_json(simulate(trace, {}, effective)).dump();
    EXPECT_EQ(first, again);
    auto shuffled = trace;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(9));
    // Conferences starting at the same second may be placed in another order; the trace has
    // distinct start times often enough that the summary must agree on the bounds.
    const auto report = simulate(shuffled, {}, effective);
    EXPECT_NEAR(report.oracle_bridge_hours, simulate(trace, {}, effective).oracle_bridge_hours,
                1e-9);
  }
}

TEST(Simulator, ReportJsonHasTheContractKeys) {
  const auto json = report_to_json(simulate({{0, 600, 10}}, {}, fixed_fleet(1)));
  for (const char* key :
       {"bridge_hours", "billed_hours", "overload_participant_minutes", "peak_bridges", "scale_ups",
        "scale_downs", "dropped_participants", "oracle_bridge_hours"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_NE(report_to_table(simulate({{0, 600, 10}}, {}, fixed_fleet(1))).find("billed hours"),
            std::string::npos);
}

TEST(Simulator, RejectsNonPositivePeriodAndCapacity) {
  EffectiveConfig effective = classic();
  effective.config.period_seconds = 0;
  EXPECT_THROW(simulate({{0, 60, 1}}, {}, effective), std::invalid_argument);
  SimulationConfig simulation;
  simulation.capacity_participants = 0;
  EXPECT_THROW(simulate({{0, 60, 1}}, simulation, EffectiveConfig{}), std::invalid_argument);
  EXPECT_THROW(simulate({}, {}, EffectiveConfig{}), std::invalid_argument);
}

TEST(Simulator, OracleAndPeakOfBackToBackMeetings) {
  // Back-to-back meetings do not overlap: the peak is 60, not 120.
  const std::vector<Conference> trace = {{0, 1800, 60}, {1800, 1800, 60}, {0, 3600, 50}};
  EXPECT_EQ(peak_participants(trace), 110);
  EXPECT_NEAR(oracle_bridge_hours(trace, 100), 2.0, 1e-9);
}

}  // namespace
}  // namespace scaling

namespace scaling {
namespace {

// Issue 16: every boot fails (wrong image, region without Metadata...). Two ready bridges carry
// 150 participants for `hours` (mean stress 0.75 > 0.7), so the policy keeps asking for a third.
SimulationReport every_boot_fails(int max_failed_boots, double hours,
                                  std::vector<double>* create_times = nullptr) {
  EffectiveConfig effective = classic();
  effective.config.min_bridges = 2;
  effective.config.max_bridges = 10;
  effective.config.boot_timeout_seconds = 900;
  effective.config.max_failed_boots = max_failed_boots;
  SimulationConfig simulation;
  simulation.failed_boots = -1;  // no create ever joins
  const double end = hours * 3600;
  const std::vector<Conference> trace = {{0, end, 75}, {0, end, 75}};
  return simulate(trace, simulation, effective,
                  [&](const Snapshot& snapshot, const Decision& decision) {
                    if (create_times && decision.create > 0) create_times->push_back(snapshot.now);
                  });
}

TEST(Simulator, FailedBootBreakerBoundsTheBilledFailedBoots) {
  std::vector<double> create_times;
  const auto report = every_boot_fails(3, 10, &create_times);
  EXPECT_EQ(report.failed_boots, 3);
  EXPECT_EQ(report.failed_bridges, 3);
  EXPECT_DOUBLE_EQ(report.failed_boot_billed_hours, 3);  // 900 s each, billed a whole hour
  EXPECT_EQ(report.scale_ups, 3);
  ASSERT_FALSE(create_times.empty());
  EXPECT_LT(create_times.back(), 3 * 3600);  // nothing created for the last 7 hours
  // The same trace 10 times longer: still 3 (bounded, not proportional to time).
  EXPECT_EQ(every_boot_fails(3, 100).failed_boots, 3);
}

TEST(Simulator, WithoutTheBreakerFailedBootsGrowWithTheTrace) {
  const auto ten = every_boot_fails(0, 10);
  const auto twenty = every_boot_fails(0, 20);
  EXPECT_GT(ten.failed_boots, 10);
  EXPECT_GT(twenty.failed_boots, ten.failed_boots + 9);
  EXPECT_DOUBLE_EQ(ten.failed_boot_billed_hours, ten.failed_boots);
}

TEST(Simulator, ABridgeThatJoinsResetsTheFailedBootCount) {
  // The first 2 creates fail, the third joins: below the breaker, the fleet reaches 3 bridges.
  EffectiveConfig effective = classic();
  effective.config.min_bridges = 2;
  effective.config.max_bridges = 3;
  effective.config.max_failed_boots = 3;
  SimulationConfig simulation;
  simulation.failed_boots = 2;
  std::vector<int> counts;
  const auto report = simulate(
      {{0, 36000, 75}, {0, 36000, 75}}, simulation, effective,
      [&](const Snapshot& snapshot, const Decision&) { counts.push_back(snapshot.failed_boots); });
  EXPECT_EQ(report.failed_boots, 2);
  EXPECT_DOUBLE_EQ(report.failed_boot_billed_hours, 2);
  EXPECT_EQ(report.scale_ups, 3);
  ASSERT_FALSE(counts.empty());
  EXPECT_EQ(*std::max_element(counts.begin(), counts.end()), 2);
  EXPECT_EQ(counts.back(), 0);  // reset when the third bridge joined
  const auto json = report_to_json(report);
  EXPECT_EQ(json.at("failed_boots").get<int>(), 2);
  EXPECT_DOUBLE_EQ(json.at("failed_boot_billed_hours").get<double>(), 2);
}

}  // namespace
}  // namespace scaling
