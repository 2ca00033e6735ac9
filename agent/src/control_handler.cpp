#include "agent/control_handler.h"

#include <algorithm>
#include <array>
#include <optional>
#include <variant>

#include "agent/control_server.h"
#include "agent/reconciler.h"

namespace agent {

namespace {

using nlohmann::json;

json fail(const std::string& error) { return {{"ok", false}, {"error", error}}; }

// A non-negative integer "n" in [0, max], or nullopt.
std::optional<int64_t> count_field(const json& request, int64_t max) {
  auto it = request.find("n");
  if (it == request.end() || !it->is_number_integer()) return std::nullopt;
  const int64_t n = it->get<int64_t>();
  if (n < 0 || n > max) return std::nullopt;
  return n;
}

// ---- typed requests ------------------------------------------------------------------------

struct ScaleToRequest {
  int n;
};
std::variant<ScaleToRequest, std::string> parse_scale_to(const json& request) {
  auto it = request.find("n");
  if (it == request.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return "scale-to needs a non-negative integer n";
  }
  return ScaleToRequest{static_cast<int>(std::min<int64_t>(it->get<int64_t>(), 100000))};
}

struct SetRequest {
  std::string key;
  int n;
};
std::variant<SetRequest, std::string> parse_set(const json& request) {
  const std::string key = request.value("key", "");
  const auto n = count_field(request, 10000);
  if ((key != "min" && key != "max") || !n) {
    return "set needs key min or max and an integer n between 0 and 10000";
  }
  return SetRequest{key, static_cast<int>(*n)};
}

// ---- the commands --------------------------------------------------------------------------

json status(Reconciler& reconciler, const json&) { return status_json(reconciler.status_view()); }

json pause_or_resume(Reconciler& reconciler, bool paused) {
  reconciler.set_paused(paused);
  return {{"ok", true}, {"paused", paused}};
}

json scale_to(Reconciler& reconciler, const json& request) {
  auto parsed = parse_scale_to(request);
  if (auto* error = std::get_if<std::string>(&parsed)) return fail(*error);
  const auto pin = reconciler.pin(std::get<ScaleToRequest>(parsed).n);
  return {{"ok", true},
          {"override", pin.clamped},
          {"requested", pin.requested},
          {"clamped", pin.clamped != pin.requested},
          {"min", pin.min},
          {"max", pin.max}};
}

json automatic(Reconciler& reconciler, const json&) {
  const int desired = reconciler.unpin();
  return {{"ok", true}, {"override", nullptr}, {"desired", desired}};
}

json drain(Reconciler& reconciler, const json& request) {
  const std::string name = request.value("bridge", "");
  if (auto error = reconciler.request_drain(name)) return fail(*error);
  return {{"ok", true}, {"bridge", name}, {"state", "drain requested"}};
}

json set(Reconciler& reconciler, const json& request) {
  auto parsed = parse_set(request);
  if (auto* error = std::get_if<std::string>(&parsed)) return fail(*error);
  const auto& typed = std::get<SetRequest>(parsed);
  auto result = reconciler.set_bound(typed.key, typed.n);
  if (auto* error = std::get_if<std::string>(&result)) return fail(*error);
  const auto& bounds = std::get<Reconciler::Bounds>(result);
  return {
      {"ok", true}, {"key", typed.key}, {"n", typed.n}, {"min", bounds.min}, {"max", bounds.max}};
}

json schedule_status(Reconciler& reconciler, const json&) {
  json reply = reconciler.schedule_status(5);
  reply["ok"] = true;
  return reply;
}

json event_add(Reconciler& reconciler, const json& request) {
  json event = request;
  event.erase("cmd");
  auto result = reconciler.add_event(event);
  if (auto* error = std::get_if<std::string>(&result)) return fail(*error);
  return {{"ok", true}, {"event", schedule::event_to_json(std::get<schedule::Event>(result))}};
}

json event_remove(Reconciler& reconciler, const json& request) {
  const std::string name = request.value("name", "");
  if (auto error = reconciler.remove_event(name)) return fail(*error);
  return {{"ok", true}, {"name", name}};
}

}  // namespace

// THE command table: each name, the parser of its typed request and the operation.
constexpr std::array<ControlCommand, kControlCommandNames.size()> kCommands = {{
    {"status", status},
    {"pause", [](Reconciler& r, const json&) { return pause_or_resume(r, true); }},
    {"resume", [](Reconciler& r, const json&) { return pause_or_resume(r, false); }},
    {"scale-to", scale_to},
    {"auto", automatic},
    {"drain", drain},
    {"set", set},
    {"schedule", schedule_status},
    {"event-add", event_add},
    {"event-remove", event_remove},
}};

constexpr bool names_match() {
  for (std::size_t i = 0; i < kCommands.size(); ++i) {
    if (kCommands[i].name != kControlCommandNames[i]) return false;
  }
  return true;
}
static_assert(names_match(), "kCommands and kControlCommandNames must name the same commands");

const std::vector<ControlCommand>& control_commands() {
  static const std::vector<ControlCommand> commands(kCommands.begin(), kCommands.end());
  return commands;
}

json handle_control(Reconciler& reconciler, const json& request) {
  const std::string cmd = request.value("cmd", "");
  for (const auto& command : control_commands()) {
    if (command.name == cmd) return command.run(reconciler, request);
  }
  return fail("unknown command \"" + cmd + "\"");
}

}  // namespace agent
