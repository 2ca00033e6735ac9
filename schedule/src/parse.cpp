// Parsing and validation of the "schedule" config section, events as JSON, ISO-8601 instants.
#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "fmt/format.h"
#include "overrides.h"
#include "scaling/keys.h"
#include "schedule/schedule.h"

namespace schedule {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 7> kDayNames{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr double kMaxPrewarmSeconds = 86400;

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// One error per key that is neither a window key nor a scaling key.
void report_unknown_key(const std::string& path, std::string_view key, std::string_view kind,
                        const std::vector<std::string_view>& window_keys,
                        std::vector<std::string>& errors) {
  std::vector<std::string_view> all = window_keys;
  std::string scaling_list;
  if (!kind.empty()) {
    all.push_back(detail::kPolicyKey);
    for (const auto& k : detail::int_keys()) all.push_back(k.name);
    for (const auto& k : detail::double_keys()) all.push_back(k.name);
    scaling_list = fmt::format(" and any scaling key ({})", detail::scaling_key_list());
  }
  const auto suggestion = scaling::closest(key, all);
  const std::string known =
      kind.empty() ? fmt::format("known keys: {}", join(window_keys))
                   : fmt::format("a {} takes {}{}", kind, join(window_keys), scaling_list);
  errors.push_back(fmt::format("{}.{}: unknown key{} ({})", path, key,
                               suggestion ? fmt::format(", did you mean \"{}\"?", *suggestion) : "",
                               known));
}

std::optional<int> parse_time_of_day(const json& value) {
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

// Fields shared by periods and events: name, priority, inhibit_scale_down, scaling overrides.
// Returns true if `key` was one of them.
template <typename Window>
bool parse_common_field(const std::string& key, const json& value, const std::string& path,
                        Window& window, std::vector<std::string>& errors) {
  const std::string key_path = fmt::format("{}.{}", path, key);
  if (key == "name") {
    if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
      errors.push_back(
          fmt::format("{}: must be a non-empty string, not {}", key_path, value.dump()));
    } else {
      window.name = value.get<std::string>();
    }
  } else if (key == "priority") {
    if (!value.is_number_integer() || value.get<long long>() < -1000000 ||
        value.get<long long>() > 1000000) {
      errors.push_back(fmt::format("{}: must be a whole number from -1000000 to 1000000, not {}",
                                   key_path, value.dump()));
    } else {
      window.priority = value.get<int>();
    }
  } else if (key == "inhibit_scale_down") {
    if (!value.is_boolean()) {
      errors.push_back(fmt::format("{}: must be true or false, not {}", key_path, value.dump()));
    } else {
      window.inhibit_scale_down = value.get<bool>();
    }
  } else {
    return detail::parse_override(key, value, key_path, window.overrides, errors);
  }
  return true;
}

std::optional<Period> parse_period(const json& value, const std::string& path,
                                   const scaling::ScalingConfig& base,
                                   std::vector<std::string>& errors) {
  if (!value.is_object()) {
    errors.push_back(fmt::format("{}: a period must be an object, not {}", path, value.dump()));
    return std::nullopt;
  }
  const std::size_t errors_before = errors.size();
  Period period;
  std::optional<int> from, to;
  for (const auto& [key, field] : value.items()) {
    const std::string key_path = fmt::format("{}.{}", path, key);
    if (key == "days") {
      if (!field.is_array() || field.empty()) {
        errors.push_back(
            fmt::format("{}: must be a non-empty list of days such as [\"mon\",\"fri\"], not {}",
                        key_path, field.dump()));
        continue;
      }
      for (std::size_t i = 0; i < field.size(); ++i) {
        std::string day = field[i].is_string() ? field[i].get<std::string>() : field[i].dump();
        std::ranges::transform(day, day.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const auto found = std::ranges::find(kDayNames, day);
        if (!field[i].is_string() || found == kDayNames.end()) {
          errors.push_back(fmt::format(
              "{}[{}]: unknown day {} (use mon, tue, wed, thu, fri, sat, sun)", key_path, i,
              field[i].is_string() ? fmt::format("\"{}\"", field[i].get<std::string>())
                                   : field[i].dump()));
        } else {
          period.days[static_cast<std::size_t>(found - kDayNames.begin())] = true;
        }
      }
    } else if (key == "from" || key == "to") {
      const auto minute = parse_time_of_day(field);
      if (!minute) {
        errors.push_back(fmt::format("{}: {} is not a time of day (use \"HH:MM\", 00:00 to 23:59)",
                                     key_path, field.dump()));
      } else {
        (key == "from" ? from : to) = minute;
      }
    } else if (!parse_common_field(key, field, path, period, errors)) {
      report_unknown_key(path, key, "period",
                         {"name", "days", "from", "to", "priority", "inhibit_scale_down"}, errors);
    }
  }
  for (std::string_view required : {"name", "days", "from", "to"}) {
    if (!value.contains(required)) {
      errors.push_back(
          fmt::format("{}.{}: missing (a period needs name, days, from and to)", path, required));
    }
  }
  if (from && to && *from == *to) {
    errors.push_back(
        fmt::format("{}.to: equals from ({}), so the period would be empty (to cross midnight, "
                    "make to earlier than from, e.g. from \"22:00\" to \"06:00\")",
                    path, value["to"].dump()));
  }
  detail::check_overrides(period.overrides, base, path, errors);
  if (errors.size() != errors_before) return std::nullopt;
  period.from_minute = *from;
  period.to_minute = *to;
  return period;
}

}  // namespace

std::optional<TimePoint> parse_instant(std::string_view text, std::string* error) {
  const auto fail = [&](std::string sentence) -> std::optional<TimePoint> {
    if (error) *error = std::move(sentence);
    return std::nullopt;
  };
  const std::string input{text};
  // Check the shape first: date::parse misbehaves on some malformed offsets and fields (a
  // signed overflow on "-:0530", a NaN cast on "10:0D:00"), found by fuzzing.
  static const std::regex kShape(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?)");
  if (!std::regex_match(input, kShape)) {
    return fail(
        fmt::format("\"{}\" is not an ISO-8601 time with offset between 1970 and 2200 (e.g. "
                    "2026-12-01T14:00:00+01:00 or 2026-12-01T13:00:00Z)",
                    input));
  }
  // system_clock counts nanoseconds in 64 bits (about 1678 to 2262): keep well inside that.
  const auto to_time_point =
      [](date::sys_time<std::chrono::milliseconds> parsed) -> std::optional<TimePoint> {
    const auto year = date::year_month_day{date::floor<date::days>(parsed)}.year();
    if (year < date::year{1970} || year > date::year{2200}) return std::nullopt;
    return TimePoint{std::chrono::duration_cast<TimePoint::duration>(parsed.time_since_epoch())};
  };
  const auto try_parse = [&](const char* format, bool with_offset) -> std::optional<TimePoint> {
    std::istringstream in{input};
    date::sys_time<std::chrono::milliseconds> parsed;
    std::chrono::minutes offset{0};
    if (with_offset) {
      in >> date::parse(format, parsed, offset);
    } else {
      in >> date::parse(format, parsed);
    }
    // The whole string must be consumed: trailing text is an error, not ignored.
    if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
    return to_time_point(parsed);
  };
  if (!input.empty() && (input.back() == 'Z' || input.back() == 'z')) {
    std::string without_z = input.substr(0, input.size() - 1);
    std::istringstream in{without_z};
    date::sys_time<std::chrono::milliseconds> parsed;
    in >> date::parse("%FT%T", parsed);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof() && input.find('T') == 10) {
      if (auto instant = to_time_point(parsed)) return instant;
    }
  } else if (input.find('T') == 10) {
    if (auto instant = try_parse("%FT%T%Ez", true)) return instant;
    if (try_parse("%FT%T", false)) {
      return fail(
          fmt::format("\"{}\" has no UTC offset (add Z or an offset such as +01:00)", input));
    }
  }
  return fail(
      fmt::format("\"{}\" is not an ISO-8601 time with offset between 1970 and 2200 (e.g. "
                  "2026-12-01T14:00:00+01:00 or "
                  "2026-12-01T13:00:00Z)",
                  input));
}

std::string format_utc(TimePoint instant) {
  return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(instant));
}

ScheduleConfig parse_schedule(const json& section, const scaling::ScalingConfig& base,
                              std::vector<std::string>& errors) {
  ScheduleConfig config;
  const std::string path = "schedule";
  if (section.is_null()) return config;
  if (!section.is_object()) {
    errors.push_back(fmt::format("{}: must be an object, not {}", path, section.dump()));
    return config;
  }
  for (const auto& [key, value] : section.items()) {
    const std::string key_path = fmt::format("{}.{}", path, key);
    if (key == "timezone") {
      if (!value.is_string()) {
        errors.push_back(
            fmt::format("{}: must be an IANA time zone name such as "
                        "\"Europe/Berlin\", not {}",
                        key_path, value.dump()));
        continue;
      }
      config.timezone = value.get<std::string>();
      try {
        (void)date::locate_zone(config.timezone);
      } catch (const std::exception&) {
        errors.push_back(fmt::format(
            "{}: unknown time zone \"{}\" (use an IANA name such as \"Europe/Berlin\" or "
            "\"America/New_York\", as listed under /usr/share/zoneinfo)",
            key_path, config.timezone));
      }
    } else if (key == "prewarm_seconds") {
      if (!value.is_number() || !(value.get<double>() >= 0) ||
          value.get<double>() > kMaxPrewarmSeconds) {
        errors.push_back(fmt::format("{}: must be a number of seconds from 0 to {}, not {}",
                                     key_path, kMaxPrewarmSeconds, value.dump()));
      } else {
        config.prewarm_seconds = value.get<double>();
      }
    } else if (key == "periods" || key == "events") {
      if (!value.is_array()) {
        errors.push_back(fmt::format("{}: must be a list, not {}", key_path, value.dump()));
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string item_path = fmt::format("{}[{}]", key_path, i);
        if (key == "periods") {
          if (auto period = parse_period(value[i], item_path, base, errors)) {
            config.periods.push_back(std::move(*period));
          }
        } else if (auto event = event_from_json(value[i], item_path, base, errors)) {
          config.events.push_back(std::move(*event));
        }
      }
    } else {
      report_unknown_key(path, key, "", {"timezone", "prewarm_seconds", "periods", "events"},
                         errors);
    }
  }
  // Names identify windows in metrics and in ctl: they must be unique across periods and events.
  std::set<std::string> names;
  if (section.contains("periods") && section["periods"].is_array()) {
    const json& periods = section["periods"];
    for (std::size_t i = 0; i < periods.size(); ++i) {
      if (periods[i].is_object() && periods[i].contains("name") && periods[i]["name"].is_string() &&
          !names.insert(periods[i]["name"].get<std::string>()).second) {
        errors.push_back(
            fmt::format("{}.periods[{}].name: \"{}\" is already used by another window", path, i,
                        periods[i]["name"].get<std::string>()));
      }
    }
  }
  if (section.contains("events") && section["events"].is_array()) {
    const json& events = section["events"];
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (events[i].is_object() && events[i].contains("name") && events[i]["name"].is_string() &&
          !names.insert(events[i]["name"].get<std::string>()).second) {
        errors.push_back(fmt::format("{}.events[{}].name: \"{}\" is already used by another window",
                                     path, i, events[i]["name"].get<std::string>()));
      }
    }
  }
  return config;
}

json event_to_json(const Event& event) {
  json out = json::object();
  out["name"] = event.name;
  out["start"] = format_utc(event.start);
  out["end"] = format_utc(event.end);
  out["priority"] = event.priority;
  out["inhibit_scale_down"] = event.inhibit_scale_down;
  detail::write_overrides(event.overrides, out);
  return out;
}

json events_to_json(const std::vector<Event>& events) {
  json out = json::array();
  for (const auto& event : events) out.push_back(event_to_json(event));
  return out;
}

std::optional<Event> event_from_json(const json& value, std::string_view path_view,
                                     const scaling::ScalingConfig& base,
                                     std::vector<std::string>& errors) {
  const std::string path{path_view};
  if (!value.is_object()) {
    errors.push_back(fmt::format("{}: an event must be an object, not {}", path, value.dump()));
    return std::nullopt;
  }
  const std::size_t errors_before = errors.size();
  Event event;
  std::optional<TimePoint> start, end;
  for (const auto& [key, field] : value.items()) {
    if (key == "start" || key == "end") {
      std::string problem = fmt::format("{} is not a string", field.dump());
      auto instant =
          field.is_string() ? parse_instant(field.get<std::string>(), &problem) : std::nullopt;
      if (!instant) {
        errors.push_back(fmt::format("{}.{}: {}", path, key, problem));
      } else {
        (key == "start" ? start : end) = instant;
      }
    } else if (!parse_common_field(key, field, path, event, errors)) {
      report_unknown_key(path, key, "event",
                         {"name", "start", "end", "priority", "inhibit_scale_down"}, errors);
    }
  }
  for (std::string_view required : {"name", "start", "end"}) {
    if (!value.contains(required)) {
      errors.push_back(
          fmt::format("{}.{}: missing (an event needs name, start and end)", path, required));
    }
  }
  if (start && end && *end <= *start) {
    errors.push_back(fmt::format("{}.end: {} is not after start {}", path, value["end"].dump(),
                                 value["start"].dump()));
  }
  detail::check_overrides(event.overrides, base, path, errors);
  if (errors.size() != errors_before) return std::nullopt;
  event.start = *start;
  event.end = *end;
  return event;
}

std::vector<Event> events_from_json(const json& value, std::string_view path,
                                    const scaling::ScalingConfig& base,
                                    std::vector<std::string>& errors) {
  std::vector<Event> events;
  if (!value.is_array()) {
    errors.push_back(fmt::format("{}: must be a list of events, not {}", path, value.dump()));
    return events;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (auto event = event_from_json(value[i], fmt::format("{}[{}]", path, i), base, errors)) {
      events.push_back(std::move(*event));
    }
  }
  return events;
}

}  // namespace schedule
