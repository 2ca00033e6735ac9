// One-off events: ISO-8601 parsing, JSON round trip (the state file), runtime add/remove.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schedule/schedule.h"
#include "test_support/classic_profile.h"

namespace {

using nlohmann::json;
using schedule::TimePoint;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using namespace std::chrono_literals;

TimePoint at(const char* iso) { return schedule::parse_instant(iso).value(); }

schedule::Event make_event(std::string name, TimePoint start, TimePoint end) {
  schedule::Event event;
  event.name = std::move(name);
  event.start = start;
  event.end = end;
  return event;
}

TEST(ScheduleEvents, ParsesIsoInstantsWithOffsets) {
  EXPECT_EQ(at("2026-12-01T14:00:00+01:00"), at("2026-12-01T13:00:00Z"));
  EXPECT_EQ(at("2026-12-01T08:00:00-05:00"), at("2026-12-01T13:00:00Z"));
  EXPECT_EQ(at("2026-12-01T13:00:00.250Z"), at("2026-12-01T13:00:00Z") + 250ms);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(
                at("1970-01-01T00:01:00Z").time_since_epoch()),
            60s);
  std::string error;
  for (const char* bad : {"2026-12-01T14:00:00", "2026-12-01 14:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-12-01T14:00:00+01:00 extra", "", "2026-02-30T00:00:00Z",
                          "9999-12-31T23:59:59Z", "1900-01-01T00:00:00+01:00"}) {
    EXPECT_EQ(schedule::parse_instant(bad, &error), std::nullopt) << bad;
    EXPECT_THAT(error, HasSubstr(bad)) << bad;
  }
  EXPECT_EQ(schedule::format_utc(at("2026-12-01T14:00:00+01:00")), "2026-12-01T13:00:00Z");
}

TEST(ScheduleEvents, RoundTripThroughJson) {
  schedule::Event event;
  event.name = "all-hands";
  event.start = at("2026-12-01T14:00:00+01:00");
  event.end = at("2026-12-01T15:30:00+01:00");
  event.priority = 3;
  event.inhibit_scale_down = true;
  event.overrides.min_bridges = 14;
  event.overrides.max_bridges = 20;
  event.overrides.scale_up_threshold = 0.55;
  event.overrides.policy = scaling::PolicyKind::kTarget;
  schedule::Event plain =
      make_event("standup", at("2026-12-02T09:00:00Z"), at("2026-12-02T09:15:00Z"));

  const json written = schedule::events_to_json({event, plain});
  EXPECT_EQ(written[0], json::parse(R"({"name":"all-hands","start":"2026-12-01T13:00:00Z",
                             "end":"2026-12-01T14:30:00Z","priority":3,"inhibit_scale_down":true,
                             "min_bridges":14,"max_bridges":20,"scale_up_threshold":0.55,
                             "policy":"target"})"));
  // Through text, as the state file does.
  const json reread = json::parse(written.dump());
  std::vector<std::string> errors;
  scaling::ScalingConfig base = test_support::classic_scaling_profile();
  const auto events = schedule::events_from_json(reread, "state.events", base, errors);
  EXPECT_THAT(errors, IsEmpty());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], event);
  EXPECT_EQ(events[1], plain);
  EXPECT_EQ(schedule::events_to_json(events), written);
}

TEST(ScheduleEvents, BadStateFileEventsNameTheirPath) {
  std::vector<std::string> errors;
  const auto events = schedule::events_from_json(
      json::parse(R"([{"name":"a","start":"2026-12-01T13:00:00Z","end":"2026-12-01T12:00:00Z"},
                      {"name":"b","start":"2026-12-01T13:00:00Z","end":"2026-12-01T14:00:00Z"}])"),
      "state.events", {}, errors);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "b");
  EXPECT_THAT(errors, ::testing::ElementsAre(::testing::StartsWith("state.events[0].end:")));
  errors.clear();
  (void)schedule::events_from_json(json::object(), "state.events", {}, errors);
  EXPECT_THAT(errors,
              ::testing::ElementsAre(::testing::StartsWith("state.events: must be a list")));
}

TEST(ScheduleEvents, RuntimeAddTakesEffectAndRemoveUndoesIt) {
  std::vector<std::string> errors;
  scaling::ScalingConfig base = test_support::classic_scaling_profile();
  base.max_bridges = 30;
  auto config = schedule::parse_schedule(json::parse(R"({"prewarm_seconds":300,
                      "periods":[{"name":"peak","days":["mon"],"from":"08:00","to":"18:00"}],
                      "events":[{"name":"board","start":"2026-01-06T10:00:00Z",
                                 "end":"2026-01-06T11:00:00Z","min_bridges":3}]})"),
                                         base, errors);
  ASSERT_THAT(errors, IsEmpty());
  schedule::Schedule calendar(std::move(config));

  schedule::Event webinar =
      make_event("webinar", at("2026-01-05T14:00:00Z"), at("2026-01-05T15:30:00Z"));
  webinar.overrides.min_bridges = 14;
  const TimePoint prewarm = at("2026-01-05T13:55:00Z");
  EXPECT_EQ(calendar.effective(base, prewarm).config.min_bridges, 1);
  EXPECT_EQ(calendar.add_event(webinar, base), std::nullopt);
  EXPECT_EQ(calendar.effective(base, prewarm).config.min_bridges, 14);
  EXPECT_EQ(calendar.runtime_events().size(), 1u);

  // Names are unique across periods, config events and runtime events.
  EXPECT_THAT(calendar.add_event(webinar, base), Optional(HasSubstr("already used")));
  schedule::Event clash = webinar;
  clash.name = "peak";
  EXPECT_THAT(calendar.add_event(clash, base), Optional(HasSubstr("already used")));
  schedule::Event backwards = make_event("backwards", webinar.end, webinar.start);
  EXPECT_THAT(calendar.add_event(backwards, base), Optional(HasSubstr("is not after start")));
  schedule::Event too_big = make_event("too-big", webinar.start, webinar.end);
  too_big.overrides.min_bridges = 40;
  EXPECT_THAT(calendar.add_event(too_big, base),
              Optional(HasSubstr("min_bridges 40 is above max_bridges 30")));

  EXPECT_THAT(calendar.remove_event("board"), Optional(HasSubstr("comes from the config file")));
  EXPECT_THAT(calendar.remove_event("nope"), Optional(HasSubstr("no event named \"nope\"")));
  EXPECT_EQ(calendar.remove_event("webinar"), std::nullopt);
  EXPECT_EQ(calendar.effective(base, prewarm).config.min_bridges, 1);
  EXPECT_TRUE(calendar.runtime_events().empty());
}

TEST(ScheduleEvents, RuntimeEventsSurviveARestartThroughJson) {
  scaling::ScalingConfig base = test_support::classic_scaling_profile();
  schedule::Schedule before(schedule::ScheduleConfig{});
  schedule::Event event =
      make_event("class", at("2026-01-05T09:00:00+01:00"), at("2026-01-05T10:00:00+01:00"));
  event.overrides.min_bridges = 5;
  ASSERT_EQ(before.add_event(event, base), std::nullopt);
  const std::string state = schedule::events_to_json(before.runtime_events()).dump();

  schedule::Schedule after(schedule::ScheduleConfig{});
  std::vector<std::string> errors;
  for (auto& restored :
       schedule::events_from_json(json::parse(state), "state.events", base, errors)) {
    ASSERT_EQ(after.add_event(std::move(restored), base), std::nullopt);
  }
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(after.runtime_events(), before.runtime_events());
  EXPECT_EQ(after.effective(base, at("2026-01-05T08:30:00Z")).config.min_bridges, 5);
}

TEST(ScheduleEvents, PruneDropsOnlyEndedRuntimeEvents) {
  schedule::Schedule calendar(schedule::ScheduleConfig{});
  ASSERT_EQ(calendar.add_event(
                make_event("old", at("2026-01-01T09:00:00Z"), at("2026-01-01T10:00:00Z")), {}),
            std::nullopt);
  ASSERT_EQ(calendar.add_event(
                make_event("new", at("2026-01-09T09:00:00Z"), at("2026-01-09T10:00:00Z")), {}),
            std::nullopt);
  EXPECT_EQ(calendar.prune_ended_runtime_events(at("2026-01-05T00:00:00Z")), 1u);
  ASSERT_EQ(calendar.runtime_events().size(), 1u);
  EXPECT_EQ(calendar.runtime_events()[0].name, "new");
}

TEST(ScheduleEvents, OutOfRangeValuesAreRejectedNotOverflowed) {
  std::vector<std::string> errors;
  (void)schedule::events_from_json(
      json::parse(R"([{"name":"a","start":"2026-12-01T13:00:00Z","end":"2026-12-01T14:00:00Z",
                       "priority":99999999999}])"),
      "state.events", {}, errors);
  EXPECT_THAT(errors, ::testing::ElementsAre(::testing::StartsWith(
                          "state.events[0].priority: must be a whole number from")));
  EXPECT_THROW((void)schedule::simulation_instant("2026-01-05T00:00:00Z", 1e30),
               std::invalid_argument);
  schedule::ScheduleConfig config;
  config.prewarm_seconds = -1;
  EXPECT_THROW(schedule::Schedule bad(config), std::invalid_argument);
}

TEST(ScheduleEvents, UnknownTimezoneInAScheduleObjectThrowsOneSentence) {
  schedule::ScheduleConfig config;
  config.timezone = "Nowhere/Land";
  EXPECT_THROW(
      {
        try {
          schedule::Schedule bad(config);
        } catch (const std::invalid_argument& error) {
          EXPECT_THAT(error.what(), HasSubstr("unknown time zone \"Nowhere/Land\""));
          throw;
        }
      },
      std::invalid_argument);
}

}  // namespace
