#pragma once
// The control protocol's commands (DESIGN section 3), written once: ONE table maps each command
// name to a parser of its typed request and to the Reconciler operation that answers it. The
// ControlServer's list of known commands (default_control_commands) comes from this table.
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace agent {

class Reconciler;

struct ControlCommand {
  std::string_view name;
  // Parses the request, runs it, returns the reply ({"ok":false,"error":...} to refuse).
  nlohmann::json (*run)(Reconciler& reconciler, const nlohmann::json& request);
};

// Every command the daemon answers.
const std::vector<ControlCommand>& control_commands();

// The ControlServer handler: dispatches through the table.
nlohmann::json handle_control(Reconciler& reconciler, const nlohmann::json& request);

}  // namespace agent
