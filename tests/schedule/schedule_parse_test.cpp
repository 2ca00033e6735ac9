// Validation of the "schedule" config section: every error names its key path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schedule/schedule.h"
#include "test_support/classic_profile.h"

namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// The base scaling keys are the old contract profile (0.7/0.3, levers off), pinned so that the
// values asserted below do not move with the measured defaults (test_support/classic_profile.h).
scaling::ScalingConfig classic() { return test_support::classic_scaling_profile(); }

std::vector<std::string> errors_of(const json& section, scaling::ScalingConfig base = classic()) {
  std::vector<std::string> errors;
  (void)schedule::parse_schedule(section, base, errors);
  return errors;
}

json valid_period() {
  return {{"name", "weekday-peak"},
          {"days", {"mon", "tue", "wed", "thu", "fri"}},
          {"from", "08:30"},
          {"to", "18:00"},
          {"min_bridges", 4}};
}

json valid_event() {
  return {{"name", "all-hands"},
          {"start", "2026-12-01T14:00:00+01:00"},
          {"end", "2026-12-01T15:30:00+01:00"},
          {"min_bridges", 8}};
}

TEST(ScheduleParse, FullValidSectionIsReadIntoTypes) {
  const json section = {{"timezone", "Europe/Berlin"},
                        {"prewarm_seconds", 420},
                        {"periods",
                         {{{"name", "weekday-peak"},
                           {"days", {"mon", "Tue", "fri"}},
                           {"from", "08:30"},
                           {"to", "18:00"},
                           {"priority", 2},
                           {"inhibit_scale_down", true},
                           {"min_bridges", 4},
                           {"max_bridges", 20},
                           {"scale_up_threshold", 0.5},
                           {"policy", "target"}}}},
                        {"events", {valid_event()}}};
  std::vector<std::string> errors;
  const auto config = schedule::parse_schedule(section, {}, errors);
  ASSERT_THAT(errors, IsEmpty());
  EXPECT_EQ(config.timezone, "Europe/Berlin");
  EXPECT_EQ(config.prewarm_seconds, 420);
  ASSERT_EQ(config.periods.size(), 1u);
  const auto& period = config.periods[0];
  EXPECT_EQ(period.name, "weekday-peak");
  EXPECT_EQ(period.days, (std::array<bool, 7>{true, true, false, false, true, false, false}));
  EXPECT_EQ(period.from_minute, 8 * 60 + 30);
  EXPECT_EQ(period.to_minute, 18 * 60);
  EXPECT_EQ(period.priority, 2);
  EXPECT_TRUE(period.inhibit_scale_down);
  EXPECT_EQ(period.overrides.min_bridges, 4);
  EXPECT_EQ(period.overrides.max_bridges, 20);
  EXPECT_EQ(period.overrides.scale_up_threshold, 0.5);
  EXPECT_EQ(period.overrides.policy, scaling::PolicyKind::kTarget);
  EXPECT_FALSE(period.overrides.scale_down_step.has_value());
  ASSERT_EQ(config.events.size(), 1u);
  EXPECT_EQ(config.events[0].start, *schedule::parse_instant("2026-12-01T13:00:00Z"));
  EXPECT_EQ(config.events[0].end, *schedule::parse_instant("2026-12-01T14:30:00Z"));
}

TEST(ScheduleParse, AbsentSectionGivesDefaults) {
  std::vector<std::string> errors;
  const auto config = schedule::parse_schedule(json(), {}, errors);
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(config.timezone, "UTC");
  EXPECT_EQ(config.prewarm_seconds, 300);
  EXPECT_TRUE(config.periods.empty());
}

TEST(ScheduleParse, UnknownDayNamesItsIndex) {
  json first = valid_period();
  first["name"] = "other";
  json period = valid_period();
  period["days"] = {"mon", "tue", "mun"};
  EXPECT_THAT(errors_of({{"periods", {first, period}}}),
              ElementsAre("schedule.periods[1].days[2]: unknown day \"mun\" (use mon, tue, wed, "
                          "thu, fri, sat, sun)"));
}

TEST(ScheduleParse, UnknownTopLevelKeySuggestsTheClosest) {
  EXPECT_THAT(errors_of({{"timezon", "UTC"}}),
              ElementsAre(AllOf(StartsWith("schedule.timezon: unknown key"),
                                HasSubstr("did you mean \"timezone\"?"))));
}

TEST(ScheduleParse, UnknownScalingKeyInAPeriod) {
  json period = valid_period();
  period.erase("min_bridges");
  period["min_bridge"] = 3;
  EXPECT_THAT(errors_of({{"periods", {period}}}),
              ElementsAre(AllOf(StartsWith("schedule.periods[0].min_bridge: unknown key"),
                                HasSubstr("did you mean \"min_bridges\"?"),
                                HasSubstr("scale_up_threshold"))));
}

TEST(ScheduleParse, UnknownKeyInAnEvent) {
  json event = valid_event();
  event["color"] = "red";
  EXPECT_THAT(errors_of({{"events", {event}}}),
              ElementsAre(StartsWith("schedule.events[0].color: unknown key")));
}

TEST(ScheduleParse, UnknownTimezone) {
  EXPECT_THAT(errors_of({{"timezone", "Europe/Berln"}}),
              ElementsAre(StartsWith("schedule.timezone: unknown time zone \"Europe/Berln\"")));
  EXPECT_THAT(errors_of({{"timezone", 1}}), ElementsAre(StartsWith("schedule.timezone: must be")));
}

TEST(ScheduleParse, FromEqualToIsAnError) {
  json period = valid_period();
  period["to"] = "08:30";
  EXPECT_THAT(errors_of({{"periods", {period}}}),
              ElementsAre(AllOf(StartsWith("schedule.periods[0].to: equals from"),
                                HasSubstr("cross midnight"))));
}

TEST(ScheduleParse, MalformedTimeOfDay) {
  json period = valid_period();
  period["from"] = "25:00";
  period["to"] = "8:00";
  EXPECT_THAT(errors_of({{"periods", {period}}}),
              ElementsAre(StartsWith("schedule.periods[0].from: \"25:00\" is not a time of day"),
                          StartsWith("schedule.periods[0].to: \"8:00\" is not a time of day")));
}

TEST(ScheduleParse, MissingPeriodFields) {
  EXPECT_THAT(errors_of({{"periods", {{{"name", "x"}, {"from", "08:00"}}}}}),
              ElementsAre(StartsWith("schedule.periods[0].days: missing"),
                          StartsWith("schedule.periods[0].to: missing")));
}

TEST(ScheduleParse, EmptyDaysList) {
  json period = valid_period();
  period["days"] = json::array();
  EXPECT_THAT(errors_of({{"periods", {period}}}),
              ElementsAre(StartsWith("schedule.periods[0].days: must be a non-empty list")));
}

TEST(ScheduleParse, EventEndingBeforeItStarts) {
  json event = valid_event();
  event["end"] = "2026-12-01T13:59:59+01:00";
  EXPECT_THAT(errors_of({{"events", {event}}}),
              ElementsAre(StartsWith("schedule.events[0].end: \"2026-12-01T13:59:59+01:00\" is "
                                     "not after start")));
  event["end"] = event["start"];
  EXPECT_THAT(errors_of({{"events", {event}}}), ElementsAre(StartsWith("schedule.events[0].end:")));
}

TEST(ScheduleParse, EventTimeWithoutOffsetOrMalformed) {
  json event = valid_event();
  event["start"] = "2026-12-01T14:00:00";
  event["end"] = "tomorrow";
  EXPECT_THAT(errors_of({{"events", {event}}}),
              UnorderedElementsAre(
                  StartsWith("schedule.events[0].start: \"2026-12-01T14:00:00\" has no UTC "
                             "offset"),
                  StartsWith("schedule.events[0].end: \"tomorrow\" is not an ISO-8601")));
}

TEST(ScheduleParse, MinAboveMaxAfterOverrides) {
  json period = valid_period();
  period["min_bridges"] = 14;  // base max_bridges is 10
  EXPECT_THAT(errors_of({{"periods", {period}}}),
              ElementsAre(AllOf(StartsWith("schedule.periods[0]: min_bridges 14 is above "
                                           "max_bridges 10"),
                                HasSubstr("scaling.max_bridges"))));
  period["max_bridges"] = 20;
  EXPECT_THAT(errors_of({{"periods", {period}}}), IsEmpty());
  // Judged against the real base: a deployment with max 30 accepts min 14 alone.
  period.erase("max_bridges");
  scaling::ScalingConfig large;
  large.max_bridges = 30;
  EXPECT_THAT(errors_of({{"periods", {period}}}, large), IsEmpty());
  json event = valid_event();
  event["max_bridges"] = 2;
  EXPECT_THAT(errors_of({{"events", {event}}}),
              ElementsAre(StartsWith("schedule.events[0]: min_bridges 8 is above max_bridges 2")));
}

TEST(ScheduleParse, BadOverrideValues) {
  json event = valid_event();
  event["min_bridges"] = 2.5;
  event["scale_up_threshold"] = "high";
  event["policy"] = "random";
  event["cooldown_seconds"] = -1;
  EXPECT_THAT(
      errors_of({{"events", {event}}}),
      UnorderedElementsAre(
          StartsWith("schedule.events[0].min_bridges: must be a whole number"),
          StartsWith("schedule.events[0].scale_up_threshold: must be a number"),
          StartsWith("schedule.events[0].policy: policy must be \"threshold\" or \"target\""),
          StartsWith("schedule.events[0].cooldown_seconds: -1 must be at least 0")));
}

TEST(ScheduleParse, CrossedThresholds) {
  json period = valid_period();
  period["scale_down_threshold"] = 0.8;  // base scale_up_threshold is 0.7
  EXPECT_THAT(errors_of({{"periods", {period}}}),
              ElementsAre(StartsWith("schedule.periods[0]: scale_down_threshold 0.8 must be below "
                                     "scale_up_threshold 0.7")));
}

TEST(ScheduleParse, DuplicateWindowNames) {
  json event = valid_event();
  event["name"] = "weekday-peak";
  EXPECT_THAT(errors_of({{"periods", {valid_period()}}, {"events", {event}}}),
              ElementsAre("schedule.events[0].name: \"weekday-peak\" is already used by another "
                          "window"));
}

TEST(ScheduleParse, PrewarmOutOfRange) {
  EXPECT_THAT(errors_of({{"prewarm_seconds", -5}}),
              ElementsAre(StartsWith("schedule.prewarm_seconds: must be a number of seconds")));
  EXPECT_THAT(errors_of({{"prewarm_seconds", 90000}}),
              ElementsAre(StartsWith("schedule.prewarm_seconds:")));
}

TEST(ScheduleParse, WrongShapes) {
  EXPECT_THAT(errors_of(json::array()), ElementsAre(StartsWith("schedule: must be an object")));
  EXPECT_THAT(errors_of({{"periods", {{"name", "x"}}}}),
              ElementsAre(StartsWith("schedule.periods: must be a list")));
  EXPECT_THAT(errors_of({{"events", {42}}}),
              ElementsAre(StartsWith("schedule.events[0]: an event must be an object")));
  json period = valid_period();
  period["priority"] = "high";
  period["inhibit_scale_down"] = 1;
  EXPECT_THAT(
      errors_of({{"periods", {period}}}),
      UnorderedElementsAre(StartsWith("schedule.periods[0].priority: must be a whole number"),
                           StartsWith("schedule.periods[0].inhibit_scale_down: must be true or "
                                      "false")));
}

TEST(ScheduleParse, EveryProblemIsCollectedNotJustTheFirst) {
  json period = valid_period();
  period["days"] = {"sun", "funday"};
  json event = valid_event();
  event["end"] = "2026-11-30T00:00:00Z";
  const auto errors =
      errors_of({{"timezone", "Mars/Olympus"}, {"periods", {period}}, {"events", {event}}});
  EXPECT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
}

}  // namespace
