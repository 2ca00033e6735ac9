// Human output of `ctl` (see ctl_format.h).
#include "agent/ctl_format.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <vector>

namespace agent {
namespace {

using nlohmann::json;

// Renders one value of a reply for a human: null/absent as "-", booleans as yes/no, stress-like
// numbers with two decimals.
std::string cell(const json& object, const char* key, bool two_decimals = false) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "-";
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  if (it->is_number_float() || (two_decimals && it->is_number())) {
    return fmt::format("{:.2f}", it->get<double>());
  }
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string text(const json& object, const char* key, const std::string& fallback = "") {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::optional<long long> integer(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<long long>();
}

std::string bounds(const json& reply) {
  auto min = integer(reply, "min");
  auto max = integer(reply, "max");
  if (!min || !max) return "";
  return fmt::format(" (bounds now {}..{})", *min, *max);
}

std::string bridges_table(const json& bridges) {
  static constexpr std::array<const char*, 7> kHeaders = {
      "BRIDGE", "STATE", "STRESS", "PARTICIPANTS", "CONFERENCES", "MANAGED", "LINODE_ID"};
  std::vector<std::array<std::string, 7>> rows;
  for (const auto& bridge : bridges) {
    if (!bridge.is_object()) continue;
    rows.push_back({cell(bridge, "name"), cell(bridge, "state"), cell(bridge, "stress", true),
                    cell(bridge, "participants"), cell(bridge, "conferences"),
                    cell(bridge, "managed"), cell(bridge, "linode_id")});
  }
  if (rows.empty()) return "no bridges\n";
  std::array<std::size_t, 7> width{};
  for (std::size_t c = 0; c < width.size(); ++c) {
    width[c] = std::string_view(kHeaders[c]).size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  // Text columns left-aligned, numeric columns right-aligned.
  constexpr std::array<bool, 7> kRightAligned = {false, false, true, true, true, false, true};
  auto line = [&](auto&& value_of) {
    std::string out;
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string value = value_of(c);
      if (c > 0) out += "  ";
      out += kRightAligned[c] ? fmt::format("{:>{}}", value, width[c])
                              : fmt::format("{:<{}}", value, width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line([&](std::size_t c) { return std::string(kHeaders[c]); });
  for (const auto& row : rows) out += line([&](std::size_t c) { return row[c]; });
  return out;
}

// One line on the schedule in force, from schedule::Schedule::status_json.
std::string schedule_summary(const json& schedule) {
  if (!schedule.is_object()) return schedule.dump();
  std::string out;
  if (auto window = schedule.find("window"); window != schedule.end() && window->is_string()) {
    out = fmt::format("window \"{}\" in force", window->get<std::string>());
  } else {
    out = "no window in force";
  }
  out += fmt::format(" (min_bridges {}, max_bridges {}", cell(schedule, "min_bridges"),
                     cell(schedule, "max_bridges"));
  if (auto inhibit = schedule.find("inhibit_scale_down");
      inhibit != schedule.end() && inhibit->is_boolean() && inhibit->get<bool>()) {
    out += ", scale-down inhibited";
  }
  return out + ")";
}

std::string upcoming_windows(const json& schedule) {
  auto upcoming = schedule.find("upcoming");
  if (upcoming == schedule.end() || !upcoming->is_array() || upcoming->empty()) {
    return "no upcoming window\n";
  }
  std::string out = "upcoming:\n";
  for (const auto& window : *upcoming) {
    if (!window.is_object()) continue;
    std::string line = fmt::format("  {} ({}) {} .. {}", cell(window, "name"), cell(window, "kind"),
                                   cell(window, "start_local"), cell(window, "end_local"));
    if (auto overrides = window.find("overrides");
        overrides != window.end() && overrides->is_object() && !overrides->empty()) {
      std::string settings;
      for (const auto& [key, value] : overrides->items()) {
        settings += (settings.empty() ? "" : ", ") + key + " " +
                    (value.is_string() ? value.get<std::string>() : value.dump());
      }
      line += ": " + settings;
    }
    if (cell(window, "prewarming") == "yes") {
      line += " [prewarming]";
    } else if (cell(window, "active") == "yes") {
      line += " [active]";
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string format_status(const json& reply) {
  std::string out = bridges_table(reply.value("bridges", json::array()));
  out += "\n";
  auto override_value = reply.find("override");
  const std::string pinned = override_value == reply.end() || override_value->is_null()
                                 ? "none (automatic)"
                                 : "pinned to " + override_value->dump();
  out +=
      fmt::format("desired {} (min {}, max {}), override {}, paused {}\n", cell(reply, "desired"),
                  cell(reply, "min"), cell(reply, "max"), pinned, cell(reply, "paused"));
  out += fmt::format("cluster stress {}, xmpp connected {}", cell(reply, "cluster_stress", true),
                     cell(reply, "xmpp_connected"));
  if (reply.contains("linode_ok")) out += ", linode ok " + cell(reply, "linode_ok");
  out += "\n";
  if (cell(reply, "dry_run") == "yes") {
    out += "dry run: decisions are logged, no instance is created or deleted\n";
  }
  if (auto blind = reply.find("blind_reason"); blind != reply.end() && !blind->is_null()) {
    out += "holding (blind): " + cell(reply, "blind_reason") + "\n";
  }
  if (auto error = reply.find("state_file_error"); error != reply.end() && error->is_string()) {
    out += "state file error: " + error->get<std::string>() +
           " (no bridge is created or drained until it can be saved)\n";
  }
  if (cell(reply, "creation_suspended") == "yes") {
    out += "creation suspended: " + cell(reply, "consecutive_failed_boots") +
           " boots in a row never joined the brewery (ctl resume resumes it)\n";
  }
  if (auto schedule = reply.find("schedule"); schedule != reply.end() && !schedule->is_null()) {
    out += "schedule: " + schedule_summary(*schedule) + "\n";
  }
  auto decisions = reply.find("last_decisions");
  if (decisions != reply.end() && decisions->is_array() && !decisions->empty()) {
    out += "last decisions:\n";
    for (const auto& decision : *decisions) {
      if (!decision.is_object()) continue;
      out += fmt::format("  {}  {}  {}\n", cell(decision, "time"), cell(decision, "action"),
                         cell(decision, "reason"));
    }
  }
  return out;
}

std::string format_reply(const json& request, const json& reply) {
  const std::string cmd = text(request, "cmd");
  if (cmd == "status") return format_status(reply);
  if (auto message = text(reply, "message"); !message.empty()) return message + "\n";

  if (cmd == "pause") {
    return "scaling paused: no new create or drain until `ctl resume` (observation continues, "
           "drains under way complete)\n";
  }
  if (cmd == "resume") return "scaling resumed\n";
  if (cmd == "scale-to") {
    auto pinned = integer(reply, "override");
    auto requested = integer(reply, "requested");
    if (!requested) requested = integer(request, "n");
    if (!pinned) return fmt::format("desired count pinned to {}\n", cell(request, "n"));
    if (requested && *requested != *pinned) {
      const bool to_max = *requested > *pinned;
      return fmt::format("desired count pinned to {} (clamped from {} to {} {})\n", *pinned,
                         *requested, to_max ? "max" : "min", *pinned);
    }
    return fmt::format("desired count pinned to {}\n", *pinned);
  }
  if (cmd == "auto") {
    std::string out = "override removed: back to automatic scaling";
    if (auto desired = integer(reply, "desired")) out += fmt::format(" (desired now {})", *desired);
    return out + "\n";
  }
  if (cmd == "drain") {
    return fmt::format("draining {}: it will be deleted once empty\n",
                       text(reply, "bridge", text(request, "bridge")));
  }
  if (cmd == "set") {
    const std::string key = text(reply, "key", text(request, "key"));
    auto n = integer(reply, "n");
    if (!n) n = integer(request, "n");
    return fmt::format("{}_bridges set to {}{}\n", key, n ? std::to_string(*n) : "-",
                       bounds(reply));
  }
  if (cmd == "event-add") {
    const json& source = reply.contains("name") ? reply : request;
    return fmt::format("event \"{}\" added: min_bridges {} from {} to {}\n", cell(source, "name"),
                       cell(source, "min_bridges"), cell(source, "start"), cell(source, "end"));
  }
  if (cmd == "event-remove") {
    return fmt::format("event \"{}\" removed\n", text(reply, "name", text(request, "name")));
  }
  if (cmd == "schedule") {
    std::string out = "schedule: " + schedule_summary(reply);
    if (reply.contains("timezone")) {
      out += fmt::format(", timezone {}, prewarm {} s", cell(reply, "timezone"),
                         cell(reply, "prewarm_seconds"));
    }
    return out + "\n" + upcoming_windows(reply);
  }
  return "ok\n";
}

}  // namespace agent
