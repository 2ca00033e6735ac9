#pragma once
// Scheduled scaling (issue 11): recurring periods and one-off events that override scaling keys
// in calendar windows, taking effect `prewarm_seconds` before they start.
//
// Pure with respect to time: every query takes `now`; nothing here reads a clock. The tz database
// is read (once, on construction) from the system's /usr/share/zoneinfo through date-tz.
// A Schedule is not thread-safe: the daemon owns it on its event loop.
#include <array>
#include <chrono>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaling/config.h"

namespace date {
class time_zone;
}

namespace schedule {

using TimePoint = std::chrono::system_clock::time_point;

// Scaling keys a window may override; unset keys keep the base (config "scaling") value.
struct ScalingOverrides {
  std::optional<scaling::PolicyKind> policy;
  std::optional<int> min_bridges;
  std::optional<int> max_bridges;
  std::optional<double> scale_up_threshold;
  std::optional<double> scale_down_threshold;
  std::optional<double> target_stress;
  std::optional<int> scale_up_periods;
  std::optional<int> scale_down_periods;
  std::optional<double> period_seconds;
  std::optional<int> scale_up_step;
  std::optional<int> scale_down_step;
  std::optional<double> cooldown_seconds;
  std::optional<double> boot_timeout_seconds;
  std::optional<double> drain_timeout_seconds;

  scaling::ScalingConfig apply_to(scaling::ScalingConfig base) const;
  bool operator==(const ScalingOverrides&) const = default;
};

// A recurring window in the schedule's time zone, e.g. mon-fri 08:30-18:00. `days` are the days
// the window STARTS on; a `to` earlier than `from` ends on the next day.
struct Period {
  std::string name;
  std::array<bool, 7> days{};  // [0] = mon ... [6] = sun
  int from_minute = 0;         // minutes after local midnight, 0..1439
  int to_minute = 0;           // != from_minute
  int priority = 0;
  bool inhibit_scale_down = false;
  ScalingOverrides overrides;
};

// A one-off window at absolute instants (ISO-8601 with an offset in JSON).
struct Event {
  std::string name;
  TimePoint start;
  TimePoint end;  // > start
  int priority = 0;
  bool inhibit_scale_down = false;
  ScalingOverrides overrides;
  bool operator==(const Event&) const = default;
};

struct ScheduleConfig {
  std::string timezone = "UTC";  // IANA name
  double prewarm_seconds = 300;  // 0..86400
  std::vector<Period> periods;
  std::vector<Event> events;
};

// Parses the config section "schedule". Every problem is appended to `errors` as one sentence
// starting with its key path (e.g. `schedule.periods[1].days[2]: unknown day "mun" ...`).
// `base` is the already parsed "scaling" section: a window whose min_bridges ends up above its
// max_bridges (after its overrides) is an error. The result is meaningful only if no error was
// added.
ScheduleConfig parse_schedule(const nlohmann::json& section, const scaling::ScalingConfig& base,
                              std::vector<std::string>& errors);

// Events as JSON (the daemon persists runtime events in its state file with these). Times are
// written in UTC (`2026-12-01T13:00:00Z`); reading accepts any ISO-8601 offset.
nlohmann::json event_to_json(const Event& event);
nlohmann::json events_to_json(const std::vector<Event>& events);
// `path` prefixes error sentences (e.g. "state.events[0]"). nullopt when an error was added.
std::optional<Event> event_from_json(const nlohmann::json& value, std::string_view path,
                                     const scaling::ScalingConfig& base,
                                     std::vector<std::string>& errors);
std::vector<Event> events_from_json(const nlohmann::json& value, std::string_view path,
                                    const scaling::ScalingConfig& base,
                                    std::vector<std::string>& errors);

// ISO-8601 instant with a mandatory offset: `2026-12-01T14:00:00+01:00`, `...Z`, optional
// fractional seconds. nullopt (and a sentence in *error, if given) on anything else.
std::optional<TimePoint> parse_instant(std::string_view text, std::string* error = nullptr);
// `2026-12-01T13:00:00Z` (whole seconds).
std::string format_utc(TimePoint instant);

// One occurrence of a window, for `ctl schedule` and `ctl status --json`.
struct WindowOccurrence {
  std::string name;
  std::string kind;  // "period" or "event"
  TimePoint start;   // nominal start (prewarm starts prewarm_seconds earlier)
  TimePoint end;
  std::string start_local;  // `2026-03-29T03:00:00+02:00` in the schedule's time zone
  std::string end_local;
  std::string start_utc;  // `2026-03-29T01:00:00Z`
  std::string end_utc;
  int priority = 0;
  bool inhibit_scale_down = false;
  bool active = false;      // now is in [start - prewarm, end)
  bool prewarming = false;  // active, but before the nominal start
  ScalingOverrides overrides;
};
nlohmann::json to_json(const WindowOccurrence& occurrence);

class Schedule {
 public:
  // Throws std::invalid_argument with one sentence if the time zone is unknown (parse_schedule
  // has already reported that as a config error).
  explicit Schedule(ScheduleConfig config);

  // The scaling config in force at `now`. Candidates are the windows active at now or starting
  // within prewarm_seconds. The highest priority wins; among equal priority the later nominal
  // start, then the smaller name, supplies the overrides, and min_bridges is the largest
  // min_bridges of all those equal-priority candidates (scale-down never goes below an active or
  // imminent window's minimum). inhibit_scale_down if any of them asks for it. min_bridges is
  // capped at max_bridges (the cost ceiling). `window` names the winner ("" when none).
  scaling::EffectiveConfig effective(const scaling::ScalingConfig& base, TimePoint now) const;

  // Windows that have not ended at `now`, ordered by start (active ones first), at most `count`.
  // Periods are looked up to 8 days ahead.
  std::vector<WindowOccurrence> upcoming(TimePoint now, std::size_t count) const;

  // {"timezone":..,"window":name|null,"min_bridges":n,"max_bridges":n,"inhibit_scale_down":b,
  //  "active":[names],"upcoming":[to_json(occurrence)...]} for `ctl schedule` / status.
  nlohmann::json status_json(const scaling::ScalingConfig& base, TimePoint now,
                             std::size_t count = 5) const;

  // Runtime events (ctl event add/remove). add_event: nullopt on success, else one sentence
  // (name taken by another window, end <= start, min > max against `base`).
  std::optional<std::string> add_event(Event event, const scaling::ScalingConfig& base);
  // nullopt on success; an error sentence if no runtime event has that name (events from the
  // config file cannot be removed at run time: edit the file).
  std::optional<std::string> remove_event(std::string_view name);
  // What the daemon persists in its state file (events_to_json) and gives back after a restart
  // through add_event.
  const std::vector<Event>& runtime_events() const { return runtime_events_; }
  // Drops runtime events that ended before `now`; returns how many.
  std::size_t prune_ended_runtime_events(TimePoint now);

  const ScheduleConfig& config() const { return config_; }

 private:
  struct Candidate;
  std::vector<Candidate> occurrences_between(TimePoint from, TimePoint to) const;

  ScheduleConfig config_;
  std::vector<Event> runtime_events_;
  const date::time_zone* zone_ = nullptr;
};

// Simulation: maps trace seconds onto the calendar. `start` is simulation.start (ISO-8601 with
// an offset); throws std::invalid_argument with one sentence if it is not.
TimePoint simulation_instant(const std::string& start, double trace_seconds);

// The provider the simulator calls at trace time t: schedule.effective(base, start + t).
std::function<scaling::EffectiveConfig(double)> make_simulation_provider(
    Schedule schedule, scaling::ScalingConfig base, const scaling::SimulationConfig& simulation);

}  // namespace schedule
