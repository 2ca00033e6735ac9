#pragma once
// Fuzz target: the "schedule" config section and runtime events (schedule/schedule.h).
#include <string_view>

#include "fuzz_support.h"

namespace jvb_fuzz {

// The input is the JSON text of a schedule section (or of a list of runtime events, as the
// state file holds them).
// Properties: parse_schedule / events_from_json never throw and every error starts with its
// key path ("schedule..." / "state.events..."); an accepted schedule has well-formed periods
// (a day, from != to, minutes in a day) and events (end after start), unique names; a Schedule
// built from it answers effective() with min_bridges <= max_bridges and never throws;
// accepted events survive event_to_json + event_from_json unchanged (to the second).
class ScheduleTarget {
 public:
  static constexpr std::string_view kName = "schedule";
  Verdict check(std::string_view input);
};

}  // namespace jvb_fuzz
