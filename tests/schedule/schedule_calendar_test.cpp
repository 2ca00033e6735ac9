// Calendar behaviour: time zones, DST edges, midnight crossing, overlap priorities, prewarm.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "schedule/schedule.h"
#include "test_support/classic_profile.h"

namespace {

using nlohmann::json;
using schedule::TimePoint;
using namespace std::chrono_literals;

TimePoint at(const char* iso) {
  std::string error;
  auto instant = schedule::parse_instant(iso, &error);
  if (!instant) throw std::invalid_argument(error);
  return *instant;
}

schedule::Event make_event(std::string name, TimePoint start, TimePoint end) {
  schedule::Event event;
  event.name = std::move(name);
  event.start = start;
  event.end = end;
  return event;
}

// The base scaling keys are the old contract profile (0.7/0.3, levers off), pinned so that the
// values asserted below do not move with the measured defaults (test_support/classic_profile.h).
scaling::ScalingConfig classic() { return test_support::classic_scaling_profile(); }

schedule::Schedule make_schedule(const json& section, scaling::ScalingConfig base = classic()) {
  std::vector<std::string> errors;
  auto config = schedule::parse_schedule(section, base, errors);
  if (!errors.empty()) throw std::invalid_argument(errors.front());
  return schedule::Schedule(std::move(config));
}

json period(const char* name, json days, const char* from, const char* to, int min_bridges,
            int priority = 0) {
  return {{"name", name}, {"days", std::move(days)}, {"from", from},
          {"to", to},     {"priority", priority},    {"min_bridges", min_bridges}};
}

const json kEveryDay = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// Counts inactive -> active transitions of `name` sampled every minute over [from, to).
int activations(const schedule::Schedule& schedule, TimePoint from, TimePoint to) {
  int count = 0;
  bool was_active = false;
  for (TimePoint t = from; t < to; t += 1min) {
    const bool active = schedule.effective(classic(), t).window != "";
    if (active && !was_active) ++count;
    was_active = active;
  }
  return count;
}

TEST(ScheduleCalendar, BerlinPeriodStaysAtLocalTimeAcrossSpringForward) {
  const auto berlin =
      make_schedule({{"timezone", "Europe/Berlin"},
                     {"prewarm_seconds", 0},
                     {"periods", {period("peak", kEveryDay, "08:30", "18:00", 4)}}});
  // Before DST (CET, +01:00): 08:30 local is 07:30Z.
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-27T07:29:59Z")).config.min_bridges, 1);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-27T07:30:00Z")).config.min_bridges, 4);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-27T16:59:59Z")).config.min_bridges, 4);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-27T17:00:00Z")).config.min_bridges, 1);
  // After the 2026-03-29 change (CEST, +02:00): still 08:30 local, now 06:30Z.
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-30T06:29:59Z")).config.min_bridges, 1);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-30T06:30:00Z")).config.min_bridges, 4);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-30T16:00:00Z")).config.min_bridges, 1);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-30T06:30:00Z")).window, "peak");
  // Every listed occurrence over the DST week starts at 08:30 local.
  const auto week = berlin.upcoming(at("2026-03-26T00:00:00Z"), 7);
  ASSERT_EQ(week.size(), 7u);
  for (const auto& occurrence : week) {
    EXPECT_EQ(occurrence.start_local.substr(10), "T08:30:00" + occurrence.start_local.substr(19))
        << occurrence.start_local;
  }
  EXPECT_EQ(week[0].start_local, "2026-03-26T08:30:00+01:00");
  EXPECT_EQ(week[0].start_utc, "2026-03-26T07:30:00Z");
  EXPECT_EQ(week[4].start_local, "2026-03-30T08:30:00+02:00");
  EXPECT_EQ(week[4].start_utc, "2026-03-30T06:30:00Z");
}

TEST(ScheduleCalendar, NewYorkPeriodStaysAtLocalTimeAcrossFallBack) {
  const auto new_york =
      make_schedule({{"timezone", "America/New_York"},
                     {"prewarm_seconds", 0},
                     {"periods", {period("peak", {"fri", "mon"}, "08:30", "18:00", 4)}}});
  // Friday 2026-10-30, EDT (-04:00): 12:30Z. Monday 2026-11-02, EST (-05:00): 13:30Z.
  EXPECT_EQ(new_york.effective(classic(), at("2026-10-30T12:30:00Z")).config.min_bridges, 4);
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-02T13:29:59Z")).config.min_bridges, 1);
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-02T13:30:00Z")).config.min_bridges, 4);
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-02T22:59:59Z")).config.min_bridges, 4);
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-02T23:00:00Z")).config.min_bridges, 1);
}

TEST(ScheduleCalendar, BerlinSpringForwardStartInTheGapBeginsWhenClocksJump) {
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
  const auto berlin = make_schedule({{"timezone", "Europe/Berlin"},
                                     {"prewarm_seconds", 0},
                                     {"periods", {period("night", {"sun"}, "02:30", "04:00", 3)}}});
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-29T00:59:59Z")).config.min_bridges, 1);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-29T01:00:00Z")).config.min_bridges,
            3);  // 03:00 CEST
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-29T01:59:59Z")).config.min_bridges, 3);
  EXPECT_EQ(berlin.effective(classic(), at("2026-03-29T02:00:00Z")).config.min_bridges,
            1);  // 04:00 CEST
  const auto listed = berlin.upcoming(at("2026-03-28T12:00:00Z"), 2);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].start_local, "2026-03-29T03:00:00+02:00");
  EXPECT_EQ(listed[0].end_local, "2026-03-29T04:00:00+02:00");
  // A week later the same period is back at 02:30 local.
  EXPECT_EQ(listed[1].start_local, "2026-04-05T02:30:00+02:00");
}

TEST(ScheduleCalendar, NewYorkSpringForwardPeriodAt0230) {
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
  const auto new_york =
      make_schedule({{"timezone", "America/New_York"},
                     {"prewarm_seconds", 0},
                     {"periods", {period("early", kEveryDay, "02:30", "03:30", 2)}}});
  EXPECT_EQ(new_york.effective(classic(), at("2026-03-08T06:59:59Z")).config.min_bridges, 1);
  EXPECT_EQ(new_york.effective(classic(), at("2026-03-08T07:00:00Z")).config.min_bridges,
            2);  // 03:00
  EXPECT_EQ(new_york.effective(classic(), at("2026-03-08T07:30:00Z")).config.min_bridges,
            1);  // 03:30
  EXPECT_EQ(activations(new_york, at("2026-03-08T04:00:00Z"), at("2026-03-09T04:00:00Z")), 1);
  // The day before and after it lasts one hour at 02:30 local.
  EXPECT_EQ(new_york.effective(classic(), at("2026-03-07T07:30:00Z")).config.min_bridges,
            2);  // EST
  EXPECT_EQ(new_york.effective(classic(), at("2026-03-09T06:30:00Z")).config.min_bridges,
            2);  // EDT
}

TEST(ScheduleCalendar, PeriodWhollyInsideTheSpringForwardGapIsSkippedThatDay) {
  const auto berlin = make_schedule({{"timezone", "Europe/Berlin"},
                                     {"prewarm_seconds", 0},
                                     {"periods", {period("gap", kEveryDay, "02:10", "02:50", 2)}}});
  EXPECT_EQ(activations(berlin, at("2026-03-28T22:00:00Z"), at("2026-03-29T22:00:00Z")), 0);
  EXPECT_EQ(activations(berlin, at("2026-03-29T22:00:00Z"), at("2026-03-30T22:00:00Z")), 1);
}

TEST(ScheduleCalendar, FallBackActivatesOnceAcrossTheRepeatedHour) {
  // 2026-10-25 in Berlin: 03:00 CEST falls back to 02:00 CET, 02:00-03:00 happens twice.
  const auto berlin =
      make_schedule({{"timezone", "Europe/Berlin"},
                     {"prewarm_seconds", 0},
                     {"periods", {period("twice?", kEveryDay, "02:15", "02:45", 2)}}});
  EXPECT_EQ(activations(berlin, at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z")), 1);
  // It starts at the first 02:15 (CEST, 00:15Z) and ends at the last 02:45 (CET, 01:45Z).
  EXPECT_EQ(berlin.effective(classic(), at("2026-10-25T00:14:59Z")).config.min_bridges, 1);
  EXPECT_EQ(berlin.effective(classic(), at("2026-10-25T00:15:00Z")).config.min_bridges, 2);
  EXPECT_EQ(berlin.effective(classic(), at("2026-10-25T01:00:00Z")).config.min_bridges, 2);
  EXPECT_EQ(berlin.effective(classic(), at("2026-10-25T01:45:00Z")).config.min_bridges, 1);
  const auto listed = berlin.upcoming(at("2026-10-24T22:00:00Z"), 1);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].start_local, "2026-10-25T02:15:00+02:00");
  EXPECT_EQ(listed[0].end_local, "2026-10-25T02:45:00+01:00");

  // New York, 2026-11-01: 01:00-02:00 happens twice.
  const auto new_york =
      make_schedule({{"timezone", "America/New_York"},
                     {"prewarm_seconds", 0},
                     {"periods", {period("late", kEveryDay, "01:30", "02:00", 2)}}});
  EXPECT_EQ(activations(new_york, at("2026-11-01T04:00:00Z"), at("2026-11-02T04:00:00Z")), 1);
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-01T05:30:00Z")).config.min_bridges,
            2);  // EDT
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-01T06:45:00Z")).config.min_bridges,
            2);  // EST
  EXPECT_EQ(new_york.effective(classic(), at("2026-11-01T07:00:00Z")).config.min_bridges, 1);
}

TEST(ScheduleCalendar, PeriodCrossingMidnightBelongsToItsStartDay) {
  // 2026-01-09 is a Friday.
  const auto utc = make_schedule(
      {{"prewarm_seconds", 0}, {"periods", {period("night-batch", {"fri"}, "22:00", "06:00", 5)}}});
  EXPECT_EQ(utc.effective(classic(), at("2026-01-08T23:00:00Z")).config.min_bridges,
            1);  // thu night
  EXPECT_EQ(utc.effective(classic(), at("2026-01-09T21:59:59Z")).config.min_bridges, 1);
  EXPECT_EQ(utc.effective(classic(), at("2026-01-09T22:00:00Z")).config.min_bridges, 5);
  EXPECT_EQ(utc.effective(classic(), at("2026-01-10T05:59:59Z")).config.min_bridges,
            5);  // saturday
  EXPECT_EQ(utc.effective(classic(), at("2026-01-10T06:00:00Z")).config.min_bridges, 1);
  EXPECT_EQ(utc.effective(classic(), at("2026-01-10T23:00:00Z")).config.min_bridges,
            1);  // sat night
  const auto listed = utc.upcoming(at("2026-01-10T05:00:00Z"), 2);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].active);
  EXPECT_EQ(listed[0].start_utc, "2026-01-09T22:00:00Z");
  EXPECT_EQ(listed[0].end_utc, "2026-01-10T06:00:00Z");
  EXPECT_EQ(listed[1].start_utc, "2026-01-16T22:00:00Z");
  EXPECT_FALSE(listed[1].active);
}

TEST(ScheduleCalendar, HigherPriorityWinsEvenWithALowerMinimum) {
  json lunch = period("lunch", kEveryDay, "12:00", "13:00", 2, 5);
  lunch["scale_up_threshold"] = 0.9;
  const auto utc =
      make_schedule({{"prewarm_seconds", 0},
                     {"periods", {period("peak", kEveryDay, "08:00", "18:00", 8), lunch}}});
  const auto at_noon = utc.effective(classic(), at("2026-01-05T12:30:00Z"));
  EXPECT_EQ(at_noon.window, "lunch");
  EXPECT_EQ(at_noon.config.min_bridges, 2);
  EXPECT_EQ(at_noon.config.scale_up_threshold, 0.9);
  const auto after = utc.effective(classic(), at("2026-01-05T13:00:00Z"));
  EXPECT_EQ(after.window, "peak");
  EXPECT_EQ(after.config.min_bridges, 8);
  EXPECT_EQ(after.config.scale_up_threshold, 0.7);
}

TEST(ScheduleCalendar, EqualPriorityLaterStartSuppliesKeysButMinimumNeverDrops) {
  json training = period("training", kEveryDay, "10:00", "11:00", 2);
  training["scale_up_threshold"] = 0.5;
  training["inhibit_scale_down"] = true;
  const auto utc =
      make_schedule({{"prewarm_seconds", 0},
                     {"periods", {period("peak", kEveryDay, "08:00", "18:00", 6), training}}});
  const auto in_training = utc.effective(classic(), at("2026-01-05T10:30:00Z"));
  EXPECT_EQ(in_training.window, "training");              // later start wins the tie
  EXPECT_EQ(in_training.config.scale_up_threshold, 0.5);  // its keys apply
  EXPECT_EQ(in_training.config.min_bridges, 6);           // but never below peak's minimum
  EXPECT_TRUE(in_training.inhibit_scale_down);
  EXPECT_FALSE(utc.effective(classic(), at("2026-01-05T11:00:00Z")).inhibit_scale_down);
}

TEST(ScheduleCalendar, EqualPriorityAndStartFallsBackToName) {
  json beta = period("beta", kEveryDay, "10:00", "11:00", 3);
  beta["scale_down_step"] = 2;
  json alpha = period("alpha", kEveryDay, "10:00", "11:00", 4);
  alpha["scale_down_step"] = 3;
  const auto utc = make_schedule({{"prewarm_seconds", 0}, {"periods", {beta, alpha}}});
  const auto now = utc.effective(classic(), at("2026-01-05T10:30:00Z"));
  EXPECT_EQ(now.window, "alpha");
  EXPECT_EQ(now.config.scale_down_step, 3);
  EXPECT_EQ(now.config.min_bridges, 4);
}

TEST(ScheduleCalendar, EventOverridesAPeriodOfEqualPriorityByLaterStart) {
  const auto utc = make_schedule({{"prewarm_seconds", 0},
                                  {"periods", {period("peak", kEveryDay, "08:00", "18:00", 4)}},
                                  {"events",
                                   {{{"name", "webinar"},
                                     {"start", "2026-01-05T15:00:00+01:00"},
                                     {"end", "2026-01-05T16:30:00+01:00"},
                                     {"min_bridges", 9}}}}});
  EXPECT_EQ(utc.effective(classic(), at("2026-01-05T13:59:00Z")).config.min_bridges, 4);
  const auto during = utc.effective(classic(), at("2026-01-05T14:00:00Z"));
  EXPECT_EQ(during.window, "webinar");
  EXPECT_EQ(during.config.min_bridges, 9);
  EXPECT_EQ(utc.effective(classic(), at("2026-01-05T15:30:00Z")).config.min_bridges, 4);
}

TEST(ScheduleCalendar, PrewarmRaisesBoundsExactlyPrewarmSecondsEarly) {
  scaling::ScalingConfig base = classic();
  base.max_bridges = 10;
  const auto utc = make_schedule({{"prewarm_seconds", 300},
                                  {"events",
                                   {{{"name", "all-hands"},
                                     {"start", "2026-12-01T14:00:00Z"},
                                     {"end", "2026-12-01T15:00:00Z"},
                                     {"min_bridges", 14},
                                     {"max_bridges", 20},
                                     {"scale_up_threshold", 0.5},
                                     {"inhibit_scale_down", true}}}}},
                                 base);
  const auto before = utc.effective(base, at("2026-12-01T13:54:59Z"));
  EXPECT_EQ(before.config.min_bridges, 1);
  EXPECT_EQ(before.window, "");
  EXPECT_FALSE(before.inhibit_scale_down);
  const auto prewarm = utc.effective(base, at("2026-12-01T13:55:00Z"));
  EXPECT_EQ(prewarm.config.min_bridges, 14);
  EXPECT_EQ(prewarm.config.max_bridges, 20);
  EXPECT_TRUE(prewarm.inhibit_scale_down);
  EXPECT_EQ(prewarm.window, "all-hands");
  EXPECT_EQ(prewarm.config.scale_up_threshold, 0.7);  // other keys change at the nominal start
  const auto started = utc.effective(base, at("2026-12-01T14:00:00Z"));
  EXPECT_EQ(started.config.scale_up_threshold, 0.5);
  EXPECT_EQ(started.config.min_bridges, 14);
  // The end is not pre-announced: the minimum holds until the event ends.
  EXPECT_EQ(utc.effective(base, at("2026-12-01T14:59:59Z")).config.min_bridges, 14);
  EXPECT_EQ(utc.effective(base, at("2026-12-01T15:00:00Z")).config.min_bridges, 1);
  const auto listed = utc.upcoming(at("2026-12-01T13:57:00Z"), 3);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].active);
  EXPECT_TRUE(listed[0].prewarming);
}

TEST(ScheduleCalendar, PrewarmAlsoCoversTheEndOfAHigherPriorityLowWindow) {
  // lunch (priority 5, min 2) sits inside peak (min 8): peak's minimum must be back, booted,
  // at 13:00, so it applies from 12:55.
  const auto utc = make_schedule({{"prewarm_seconds", 300},
                                  {"periods",
                                   {period("peak", kEveryDay, "08:00", "18:00", 8),
                                    period("lunch", kEveryDay, "12:00", "13:00", 2, 5)}}});
  EXPECT_EQ(utc.effective(classic(), at("2026-01-05T12:54:59Z")).config.min_bridges, 2);
  const auto prewarm = utc.effective(classic(), at("2026-01-05T12:55:00Z"));
  EXPECT_EQ(prewarm.config.min_bridges, 8);
  EXPECT_EQ(prewarm.window, "lunch");
  // And peak itself is pre-warmed before 08:00.
  EXPECT_EQ(utc.effective(classic(), at("2026-01-05T07:54:59Z")).config.min_bridges, 1);
  EXPECT_EQ(utc.effective(classic(), at("2026-01-05T07:55:00Z")).config.min_bridges, 8);
}

TEST(ScheduleCalendar, MinimumIsCappedByMaximum) {
  // Two equal-priority windows: one raises min to 9, the base max stays 10 -> fine; a runtime
  // event could still combine badly with a lower max, the cost ceiling wins.
  scaling::ScalingConfig base = classic();
  base.max_bridges = 6;
  auto utc = make_schedule({{"prewarm_seconds", 0}}, base);
  schedule::Event event =
      make_event("burst", at("2026-01-05T10:00:00Z"), at("2026-01-05T11:00:00Z"));
  event.overrides.min_bridges = 5;
  ASSERT_EQ(utc.add_event(event, base), std::nullopt);
  scaling::ScalingConfig lower = base;
  lower.max_bridges = 3;  // e.g. ctl set max 3 after the event was added
  const auto now = utc.effective(lower, at("2026-01-05T10:30:00Z"));
  EXPECT_EQ(now.config.max_bridges, 3);
  EXPECT_EQ(now.config.min_bridges, 3);
}

TEST(ScheduleCalendar, NoWindowMeansBaseUnchanged) {
  scaling::ScalingConfig base = classic();
  base.min_bridges = 2;
  base.scale_up_threshold = 0.65;
  const auto utc = make_schedule({{"periods", {period("peak", {"sat"}, "08:00", "18:00", 8)}}});
  const auto now = utc.effective(base, at("2026-01-05T12:00:00Z"));  // monday
  EXPECT_EQ(now.window, "");
  EXPECT_EQ(now.config.min_bridges, 2);
  EXPECT_EQ(now.config.scale_up_threshold, 0.65);
  EXPECT_FALSE(now.inhibit_scale_down);
}

TEST(ScheduleCalendar, StatusJsonNamesTheWindowAndUpcomingOnes) {
  const auto berlin =
      make_schedule({{"timezone", "Europe/Berlin"},
                     {"periods", {period("peak", kEveryDay, "08:30", "18:00", 4)}}});
  const json status = berlin.status_json(classic(), at("2026-01-05T10:00:00Z"), 2);
  EXPECT_EQ(status["timezone"], "Europe/Berlin");
  EXPECT_EQ(status["window"], "peak");
  EXPECT_EQ(status["min_bridges"], 4);
  EXPECT_EQ(status["active"], json({"peak"}));
  ASSERT_EQ(status["upcoming"].size(), 2u);
  EXPECT_EQ(status["upcoming"][0]["start_local"], "2026-01-05T08:30:00+01:00");
  EXPECT_EQ(status["upcoming"][0]["overrides"], json({{"min_bridges", 4}}));
  EXPECT_EQ(status["upcoming"][1]["start_utc"], "2026-01-06T07:30:00Z");
  const json quiet = berlin.status_json(classic(), at("2026-01-05T20:00:00Z"));
  EXPECT_TRUE(quiet["window"].is_null());
  EXPECT_EQ(quiet["min_bridges"], 1);
}

TEST(ScheduleSimulation, TraceSecondsMapOntoTheCalendar) {
  EXPECT_EQ(schedule::simulation_instant("2026-01-05T00:00:00Z", 3600.5),
            at("2026-01-05T01:00:00Z") + 500ms);
  EXPECT_EQ(schedule::simulation_instant("2026-01-05T09:00:00+01:00", 0),
            at("2026-01-05T08:00:00Z"));
  try {
    (void)schedule::simulation_instant("monday", 0);
    FAIL() << "a bad start must throw";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), ::testing::StartsWith("simulation.start: \"monday\" is not"));
  }
}

TEST(ScheduleSimulation, ProviderReplaysTheScheduleAtTraceTime) {
  scaling::SimulationConfig simulation;
  simulation.start = "2026-01-05T00:00:00Z";  // a Monday
  scaling::ScalingConfig base = classic();
  base.min_bridges = 2;
  const auto provider = schedule::make_simulation_provider(
      make_schedule(
          {{"prewarm_seconds", 300}, {"periods", {period("peak", {"mon"}, "08:00", "18:00", 6)}}}),
      base, simulation);
  EXPECT_EQ(provider(8 * 3600 - 301).config.min_bridges, 2);
  EXPECT_EQ(provider(8 * 3600 - 300).config.min_bridges, 6);
  EXPECT_EQ(provider(12 * 3600).window, "peak");
  EXPECT_EQ(provider(18 * 3600).config.min_bridges, 2);
  EXPECT_EQ(provider(24 * 3600 + 12 * 3600).config.min_bridges, 2);  // tuesday
}

}  // namespace

namespace {

// Random sections, valid and not, from a fixed seed: parsing never throws; every accepted one
// builds a Schedule whose effective config keeps min <= max and whose listing is ordered.
TEST(ScheduleProperty, RandomSectionsNeverCrashAndKeepBoundsOrdered) {
  std::mt19937 random(20260105);
  const auto pick = [&](auto... options) {
    const std::array<json, sizeof...(options)> values{json(options)...};
    return values[std::uniform_int_distribution<std::size_t>(0, values.size() - 1)(random)];
  };
  // Mostly valid values, and now and then a bad one, so both paths are exercised.
  const auto or_bad = [&](json good, json bad) { return random() % 16 == 0 ? bad : good; };
  int accepted = 0;
  for (int round = 0; round < 300; ++round) {
    json periods = json::array();
    for (int i = 0; i < 3; ++i) {
      json item = {{"name", "p" + std::to_string(i)},
                   {"days", {or_bad(pick("mon", "sun", "fri"), "xyz")}},
                   {"from", or_bad(pick("00:00", "02:30", "08:30", "23:59"), "24:00")},
                   {"to", or_bad(pick("00:15", "02:45", "18:00", "06:00"), 5)},
                   {"priority", or_bad(pick(0, 1, 5, -3), "x")},
                   {"min_bridges", or_bad(pick(0, 3, 12, 30), 2.5)}};
      if (random() % 4 == 0) item["max_bridges"] = or_bad(pick(20, 30), 0);
      if (random() % 5 == 0) item["inhibit_scale_down"] = or_bad(pick(true, false), "yes");
      periods.push_back(item);
    }
    json events = {{{"name", "e"},
                    {"start", or_bad(pick("2026-03-29T01:30:00+01:00", "2026-10-25T02:30:00+02:00",
                                          "2026-03-08T02:30:00-05:00"),
                                     "not a time")},
                    {"end", or_bad(pick("2026-03-29T05:00:00+02:00", "2026-10-25T02:30:00+01:00",
                                        "2026-11-07T00:00:00Z"),
                                   "2026-01-01T00:00:00Z")},
                    {"min_bridges", pick(2, 9)}}};
    const json section = {
        {"timezone",
         or_bad(pick("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"), "No/Where")},
        {"prewarm_seconds", or_bad(pick(0, 300, 3600, 86400), -1)},
        {"periods", periods},
        {"events", events}};
    scaling::ScalingConfig base = classic();
    base.max_bridges = 30;
    std::vector<std::string> errors;
    schedule::ScheduleConfig config;
    ASSERT_NO_THROW(config = schedule::parse_schedule(section, base, errors)) << section.dump();
    for (const auto& error : errors) ASSERT_EQ(error.rfind("schedule.", 0), 0u) << error;
    if (!errors.empty()) continue;
    ++accepted;
    const schedule::Schedule calendar(config);
    TimePoint t = at("2026-03-07T00:00:00Z") + std::chrono::minutes(random() % (60 * 24 * 250));
    for (int step = 0; step < 20; ++step, t += std::chrono::minutes(37)) {
      const auto now = calendar.effective(base, t);
      ASSERT_LE(now.config.min_bridges, now.config.max_bridges) << section.dump();
      ASSERT_GE(now.config.min_bridges, 0);
    }
    const auto listed = calendar.upcoming(t, 10);
    for (std::size_t i = 1; i < listed.size(); ++i) {
      ASSERT_LE(listed[i - 1].start, listed[i].start);
      ASSERT_LT(listed[i].start, listed[i].end);
    }
  }
  EXPECT_GT(accepted, 10);  // the generator must exercise the accepted path too
}

}  // namespace
