#pragma once
// Client side of the control socket: one JSON request line, one JSON reply line.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace agent {

class ControlClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sends `request` to the daemon listening on `socket_path` and returns its reply. Throws
// ControlClientError with one sentence when the daemon cannot be reached or does not answer
// within `timeout_seconds`.
// The same exchange on raw text: `request_line` must end with a newline; returns the reply
// line without its newline (what `ctl --json` prints as is).
std::string control_request_line(const std::string& socket_path, const std::string& request_line,
                                 double timeout_seconds = 10);

nlohmann::json control_request(const std::string& socket_path, const nlohmann::json& request,
                               double timeout_seconds = 10);

}  // namespace agent
