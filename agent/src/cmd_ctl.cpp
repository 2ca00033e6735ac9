// `jvb-autoscaler ctl`: one request to the daemon's control socket, one reply.
#include <iostream>
#include <stdexcept>
#include <string>

#include "agent/commands.h"
#include "agent/control_client.h"
#include "agent/ctl_format.h"

namespace agent {
namespace {

constexpr const char* kDefaultSocket = "/run/jvb-autoscaler/control.sock";
using CtlError = ControlClientError;

}  // namespace

int ctl(const CtlOptions& options) {
  const std::string path = options.socket_path.value_or(kDefaultSocket);
  try {
    const std::string reply_line = control_request_line(path, options.request.dump() + "\n");
    nlohmann::json reply;
    try {
      reply = nlohmann::json::parse(reply_line);
    } catch (const nlohmann::json::exception&) {
      throw CtlError("jvb-autoscaler at " + path + " sent a reply that is not JSON");
    }
    if (!reply.is_object()) {
      throw CtlError("jvb-autoscaler at " + path + " sent a reply that is not a JSON object");
    }
    auto ok_value = reply.find("ok");
    const bool ok = ok_value != reply.end() && ok_value->is_boolean() && ok_value->get<bool>();
    if (options.json) {
      std::cout << reply_line << "\n";
      return ok ? 0 : 1;
    }
    if (!ok) {
      auto error = reply.find("error");
      std::cerr << "jvb-autoscaler: "
                << (error != reply.end() && error->is_string() ? error->get<std::string>()
                                                               : std::string("request refused"))
                << "\n";
      return 1;
    }
    std::cout << format_reply(options.request, reply);
    return 0;
  } catch (const CtlError& e) {
    std::cerr << "jvb-autoscaler: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace agent
