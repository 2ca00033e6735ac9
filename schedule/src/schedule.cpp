// Calendar windows -> effective scaling config. See docs/schedule.md for the rules.
#include "schedule/schedule.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "fmt/format.h"
#include "overrides.h"

namespace schedule {

using std::chrono::minutes;
using std::chrono::seconds;

// One occurrence of a period or event; `overrides` points into the Schedule that made it.
struct Schedule::Candidate {
  std::string_view name;
  std::string_view kind;
  TimePoint start;
  TimePoint end;
  int priority = 0;
  bool inhibit_scale_down = false;
  const ScalingOverrides* overrides = nullptr;
};

namespace {

constexpr auto kUpcomingHorizon = std::chrono::days{8};

std::string format_local(const date::time_zone* zone, TimePoint instant) {
  return date::format("%FT%T%Ez", date::zoned_time{zone, std::chrono::floor<seconds>(instant)});
}

// Bound for trace times and prewarm: far inside the 64-bit nanosecond range of system_clock.
constexpr double kMaxOffsetSeconds = 100.0 * 366 * 86400;

TimePoint::duration to_duration(double seconds_count) {
  if (!(std::abs(seconds_count) <= kMaxOffsetSeconds)) {
    throw std::invalid_argument(
        fmt::format("{} seconds is not a usable time offset (at most 100 years)", seconds_count));
  }
  return std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::duration<double>(seconds_count));
}

// What the windows active at one instant (nominal times, no prewarm) make of the base config.
struct Resolution {
  scaling::ScalingConfig config;
  bool inhibit_scale_down = false;
  std::string_view window;
};

template <typename Candidates>
Resolution resolve_at(const Candidates& candidates, const scaling::ScalingConfig& base,
                      TimePoint instant) {
  Resolution result{base, false, {}};
  std::vector<const typename Candidates::value_type*> active;
  for (const auto& candidate : candidates) {
    if (candidate.start <= instant && instant < candidate.end) active.push_back(&candidate);
  }
  if (active.empty()) return result;
  const int top_priority =
      (*std::ranges::max_element(active, {}, [](auto* c) { return c->priority; }))->priority;
  std::erase_if(active, [&](auto* c) { return c->priority != top_priority; });
  // Winner among equal priority: the later start (the more specific window), then the name.
  const auto* winner = *std::ranges::min_element(active, [](auto* a, auto* b) {
    if (a->start != b->start) return a->start > b->start;
    return a->name < b->name;
  });
  result.config = winner->overrides->apply_to(base);
  result.window = winner->name;
  for (const auto* candidate : active) {
    // Scale-down never goes below any equal-priority window's minimum.
    const scaling::ScalingConfig own = candidate->overrides->apply_to(base);
    result.config.min_bridges = std::max(result.config.min_bridges, own.min_bridges);
    result.config.max_bridges = std::max(result.config.max_bridges, own.max_bridges);
    result.inhibit_scale_down = result.inhibit_scale_down || candidate->inhibit_scale_down;
  }
  return result;
}

}  // namespace

Schedule::Schedule(ScheduleConfig config) : config_(std::move(config)) {
  try {
    zone_ = date::locate_zone(config_.timezone);
  } catch (const std::exception&) {
    throw std::invalid_argument(
        fmt::format("schedule.timezone: unknown time zone \"{}\"", config_.timezone));
  }
  if (!(config_.prewarm_seconds >= 0 && config_.prewarm_seconds <= 86400)) {
    throw std::invalid_argument(fmt::format("schedule.prewarm_seconds: {} is not from 0 to 86400",
                                            config_.prewarm_seconds));
  }
}

std::vector<Schedule::Candidate> Schedule::occurrences_between(TimePoint from, TimePoint to) const {
  std::vector<Candidate> result;
  const auto local_day = [&](TimePoint instant) {
    return date::floor<date::days>(zone_->to_local(std::chrono::floor<seconds>(instant)));
  };
  // A period occurrence lasts at most 25 hours (crossing midnight on a fall-back day), so one
  // starting two local days before `from` is the earliest that can still reach it.
  const date::local_days first_day = local_day(from) - date::days{2};
  const date::local_days last_day = local_day(to);
  for (const auto& period : config_.periods) {
    for (date::local_days day = first_day; day <= last_day; day += date::days{1}) {
      const unsigned iso_weekday = date::weekday{day}.iso_encoding();  // 1 = mon ... 7 = sun
      if (!period.days[iso_weekday - 1]) continue;
      const date::local_days end_day =
          period.to_minute > period.from_minute ? day : day + date::days{1};
      // Wall-clock semantics: a start in a spring-forward gap begins when the clocks jump
      // (to_sys returns the transition instant for a nonexistent local time); in a fall-back
      // overlap the window starts at the first and ends at the last occurrence of its times.
      const TimePoint start{
          zone_->to_sys(day + minutes{period.from_minute}, date::choose::earliest)};
      const TimePoint end{zone_->to_sys(end_day + minutes{period.to_minute}, date::choose::latest)};
      if (end <= start || end <= from || start >= to) continue;  // e.g. wholly inside a DST gap
      result.push_back({period.name, "period", start, end, period.priority,
                        period.inhibit_scale_down, &period.overrides});
    }
  }
  for (const auto* events : {&config_.events, &runtime_events_}) {
    for (const auto& event : *events) {
      if (event.end <= from || event.start >= to) continue;
      result.push_back({event.name, "event", event.start, event.end, event.priority,
                        event.inhibit_scale_down, &event.overrides});
    }
  }
  return result;
}

scaling::EffectiveConfig Schedule::effective(const scaling::ScalingConfig& base,
                                             TimePoint now) const {
  const TimePoint horizon = now + to_duration(config_.prewarm_seconds);
  // Windows touching [now, horizon]: the one-tick slack makes a start exactly at the horizon count.
  const auto candidates = occurrences_between(now, horizon + TimePoint::duration{1});
  const Resolution current = resolve_at(candidates, base, now);
  scaling::EffectiveConfig result{current.config, current.inhibit_scale_down,
                                  std::string{current.window}};
  // Prewarm: the resolution changes only where a window starts or ends; the bounds in force at
  // any of those instants within the horizon already apply now, so the bridges are booted when
  // that instant comes. Other keys change at the nominal time.
  for (const auto& candidate : candidates) {
    for (TimePoint boundary : {candidate.start, candidate.end}) {
      if (boundary <= now || boundary > horizon) continue;
      const Resolution ahead = resolve_at(candidates, base, boundary);
      if (ahead.config.min_bridges > result.config.min_bridges && result.window.empty()) {
        result.window = std::string{ahead.window};
      }
      result.config.min_bridges = std::max(result.config.min_bridges, ahead.config.min_bridges);
      result.config.max_bridges = std::max(result.config.max_bridges, ahead.config.max_bridges);
      result.inhibit_scale_down = result.inhibit_scale_down || ahead.inhibit_scale_down;
    }
  }
  // max_bridges is the cost ceiling: a minimum never exceeds it.
  result.config.min_bridges = std::min(result.config.min_bridges, result.config.max_bridges);
  return result;
}

std::vector<WindowOccurrence> Schedule::upcoming(TimePoint now, std::size_t count) const {
  auto candidates = occurrences_between(now, now + kUpcomingHorizon);
  std::ranges::sort(candidates, [](const Candidate& a, const Candidate& b) {
    if (a.start != b.start) return a.start < b.start;
    return a.name < b.name;
  });
  const TimePoint::duration prewarm = to_duration(config_.prewarm_seconds);
  std::vector<WindowOccurrence> result;
  for (const auto& candidate : candidates) {
    if (result.size() >= count) break;
    WindowOccurrence occurrence;
    occurrence.name = std::string{candidate.name};
    occurrence.kind = std::string{candidate.kind};
    occurrence.start = candidate.start;
    occurrence.end = candidate.end;
    occurrence.start_local = format_local(zone_, candidate.start);
    occurrence.end_local = format_local(zone_, candidate.end);
    occurrence.start_utc = format_utc(candidate.start);
    occurrence.end_utc = format_utc(candidate.end);
    occurrence.priority = candidate.priority;
    occurrence.inhibit_scale_down = candidate.inhibit_scale_down;
    occurrence.active = candidate.start - prewarm <= now && now < candidate.end;
    occurrence.prewarming = occurrence.active && now < candidate.start;
    occurrence.overrides = *candidate.overrides;
    result.push_back(std::move(occurrence));
  }
  return result;
}

nlohmann::json to_json(const WindowOccurrence& occurrence) {
  nlohmann::json overrides = nlohmann::json::object();
  detail::write_overrides(occurrence.overrides, overrides);
  return {{"name", occurrence.name},
          {"kind", occurrence.kind},
          {"start_local", occurrence.start_local},
          {"end_local", occurrence.end_local},
          {"start_utc", occurrence.start_utc},
          {"end_utc", occurrence.end_utc},
          {"priority", occurrence.priority},
          {"inhibit_scale_down", occurrence.inhibit_scale_down},
          {"active", occurrence.active},
          {"prewarming", occurrence.prewarming},
          {"overrides", overrides}};
}

nlohmann::json Schedule::status_json(const scaling::ScalingConfig& base, TimePoint now,
                                     std::size_t count) const {
  const scaling::EffectiveConfig in_force = effective(base, now);
  nlohmann::json upcoming_json = nlohmann::json::array();
  nlohmann::json active = nlohmann::json::array();
  for (const auto& occurrence : upcoming(now, std::max<std::size_t>(count, 1) + 16)) {
    if (occurrence.active) active.push_back(occurrence.name);
    if (upcoming_json.size() < count) upcoming_json.push_back(to_json(occurrence));
  }
  return {{"timezone", config_.timezone},
          {"prewarm_seconds", config_.prewarm_seconds},
          {"window",
           in_force.window.empty() ? nlohmann::json(nullptr) : nlohmann::json(in_force.window)},
          {"min_bridges", in_force.config.min_bridges},
          {"max_bridges", in_force.config.max_bridges},
          {"inhibit_scale_down", in_force.inhibit_scale_down},
          {"active", active},
          {"upcoming", upcoming_json}};
}

std::optional<std::string> Schedule::add_event(Event event, const scaling::ScalingConfig& base) {
  if (event.name.empty()) return "event name must not be empty";
  const auto same_name = [&](const auto& window) { return window.name == event.name; };
  if (std::ranges::any_of(config_.periods, same_name) ||
      std::ranges::any_of(config_.events, same_name) ||
      std::ranges::any_of(runtime_events_, same_name)) {
    return fmt::format("event \"{}\": the name is already used by another window", event.name);
  }
  if (event.end <= event.start) {
    return fmt::format("event \"{}\": end {} is not after start {}", event.name,
                       format_utc(event.end), format_utc(event.start));
  }
  std::vector<std::string> errors;
  detail::check_overrides(event.overrides, base, fmt::format("event \"{}\"", event.name), errors);
  if (!errors.empty()) return errors.front();
  runtime_events_.push_back(std::move(event));
  return std::nullopt;
}

std::optional<std::string> Schedule::remove_event(std::string_view name) {
  const auto same_name = [&](const auto& window) { return window.name == name; };
  if (std::erase_if(runtime_events_, same_name) > 0) return std::nullopt;
  if (std::ranges::any_of(config_.events, same_name)) {
    return fmt::format(
        "event \"{}\" comes from the config file: remove it there (runtime removal covers only "
        "events added with ctl event add)",
        name);
  }
  return fmt::format("no event named \"{}\"", name);
}

std::size_t Schedule::prune_ended_runtime_events(TimePoint now) {
  return std::erase_if(runtime_events_, [&](const Event& event) { return event.end <= now; });
}

TimePoint simulation_instant(const std::string& start, double trace_seconds) {
  std::string problem;
  const auto origin = parse_instant(start, &problem);
  if (!origin) throw std::invalid_argument(fmt::format("simulation.start: {}", problem));
  if (!(std::abs(trace_seconds) <= kMaxOffsetSeconds)) {
    throw std::invalid_argument(fmt::format(
        "simulation: trace time {} s is not a finite number of seconds within 100 years",
        trace_seconds));
  }
  return *origin + to_duration(trace_seconds);
}

std::function<scaling::EffectiveConfig(double)> make_simulation_provider(
    Schedule schedule, scaling::ScalingConfig base, const scaling::SimulationConfig& simulation) {
  const TimePoint origin = simulation_instant(simulation.start, 0);
  return [schedule = std::move(schedule), base = std::move(base), origin](double t) {
    return schedule.effective(base, origin + to_duration(t));
  };
}

}  // namespace schedule
