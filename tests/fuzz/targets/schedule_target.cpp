#include "schedule_target.h"

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "schedule/schedule.h"

namespace jvb_fuzz {

namespace {

using nlohmann::json;
using std::chrono::seconds;

std::optional<std::string> errors_violation(const std::vector<std::string>& errors,
                                            std::string_view prefix) {
  for (const auto& error : errors) {
    if (error.rfind(prefix, 0) != 0 || error.find(": ") == std::string::npos) {
      return "error does not start with its key path " + std::string(prefix) + ": " +
             printable(error);
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_round_trip(const schedule::Event& event,
                                            const scaling::ScalingConfig& base) {
  std::vector<std::string> errors;
  const auto again =
      schedule::event_from_json(schedule::event_to_json(event), "again", base, errors);
  if (!again) {
    return "an accepted event is refused after event_to_json: " +
           (errors.empty() ? std::string("(no error)") : errors.front());
  }
  schedule::Event expected = event;
  expected.start = std::chrono::floor<seconds>(event.start);
  expected.end = std::chrono::floor<seconds>(event.end);
  // Sub-second events may collapse to end == start after flooring; the refusal above then
  // already said so. Otherwise the round trip must be exact.
  if (!(*again == expected)) return "event_to_json + event_from_json changed an event";
  return std::nullopt;
}

std::optional<std::string> check_schedule(const schedule::ScheduleConfig& config,
                                          const scaling::ScalingConfig& base) {
  std::set<std::string> names;
  for (const auto& period : config.periods) {
    if (std::none_of(period.days.begin(), period.days.end(), [](bool day) { return day; }) ||
        period.from_minute == period.to_minute || period.from_minute < 0 ||
        period.from_minute > 1439 || period.to_minute < 0 || period.to_minute > 1439) {
      return "accepted a malformed period " + printable(period.name);
    }
    if (!names.insert(period.name).second) return "accepted a duplicate name";
  }
  for (const auto& event : config.events) {
    if (!(event.end > event.start)) return "accepted an event that does not end after it starts";
    if (!names.insert(event.name).second) return "accepted a duplicate name";
    if (auto why = check_round_trip(event, base)) return why;
  }
  try {
    schedule::Schedule schedule(config);
    std::vector<schedule::TimePoint> instants = {
        *schedule::parse_instant("2026-01-05T00:00:00Z"),
        *schedule::parse_instant("2026-03-29T01:30:00Z"),  // a DST change in Europe
        *schedule::parse_instant("2026-07-04T12:00:00Z")};
    for (const auto& event : config.events) {
      instants.push_back(event.start);
      instants.push_back(event.end - seconds(1));
    }
    if (instants.size() > 12) instants.resize(12);
    for (const auto& now : instants) {
      const auto effective = schedule.effective(base, now);
      if (effective.config.min_bridges > effective.config.max_bridges) {
        return "effective() gave min_bridges > max_bridges in window " + effective.window;
      }
      if (!effective.window.empty() && !names.contains(effective.window)) {
        return "effective() named a window that does not exist: " + effective.window;
      }
    }
    (void)schedule.status_json(base, instants.front(), 5).dump();
  } catch (const std::exception& error) {
    return std::string("an accepted schedule threw: ") + error.what();
  }
  return std::nullopt;
}

}  // namespace

Verdict ScheduleTarget::check(std::string_view input) {
  const json document = json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Verdict::ok(false);
  const scaling::ScalingConfig base;
  std::vector<std::string> errors;
  schedule::ScheduleConfig config;
  try {
    if (document.is_array()) {
      // A list of runtime events as the state file keeps them.
      const auto events = schedule::events_from_json(document, "state.events", base, errors);
      if (auto why = errors_violation(errors, "state.events")) return Verdict::fail(*why);
      for (const auto& event : events) {
        if (auto why = check_round_trip(event, base)) return Verdict::fail(*why);
      }
      return Verdict::ok(errors.empty());
    }
    config = schedule::parse_schedule(document, base, errors);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("schedule parsing threw: ") + error.what());
  }
  if (auto why = errors_violation(errors, "schedule")) return Verdict::fail(*why);
  if (!errors.empty()) return Verdict::ok(false);
  if (auto why = check_schedule(config, base)) return Verdict::fail(*why);
  return Verdict::ok(true);
}

}  // namespace jvb_fuzz
