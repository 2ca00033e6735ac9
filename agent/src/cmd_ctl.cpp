// `jvb-autoscaler ctl`: one request to the daemon's control socket, one reply.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>

#include "agent/commands.h"
#include "agent/ctl_format.h"

namespace agent {
namespace {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

constexpr const char* kDefaultSocket = "/run/jvb-autoscaler/control.sock";
// A status of thousands of bridges is a few hundred KiB; anything bigger is not a reply.
constexpr std::size_t kMaxReplyBytes = 16 * 1024 * 1024;
constexpr std::chrono::seconds kTimeout{10};

class CtlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string unreachable(const std::string& path, const boost::system::error_code& error) {
  std::string what;
  std::string hint = "is the daemon running? see `systemctl status jvb-autoscaler`";
  if (error == boost::system::errc::no_such_file_or_directory) {
    what = "no such socket";
  } else if (error == asio::error::connection_refused) {
    what = "connection refused";
  } else if (error == asio::error::access_denied ||
             error == boost::system::errc::permission_denied) {
    what = "permission denied";
    hint = "run it as root or as a member of the socket's group";
  } else {
    what = error.message();
  }
  return "cannot reach jvb-autoscaler at " + path + ": " + what + " (" + hint + ")";
}

// Sends the request line and returns the reply line (without its newline). The whole exchange
// is bounded by kTimeout.
std::string send_request(const std::string& path, const std::string& request_line) {
  asio::io_context io;
  Local::socket socket(io);
  Local::endpoint endpoint;
  try {
    endpoint = Local::endpoint(path);
  } catch (const std::exception&) {
    throw CtlError("control socket path " + path + " is too long for a Unix socket");
  }
  enum class Phase { kConnecting, kSending, kWaiting, kDone } phase = Phase::kConnecting;
  boost::system::error_code failure;
  std::string reply;
  std::size_t reply_length = 0;

  socket.async_connect(endpoint, [&](const boost::system::error_code& error) {
    if (error) {
      failure = error;
      return;
    }
    phase = Phase::kSending;
    asio::async_write(socket, asio::buffer(request_line),
                      [&](const boost::system::error_code& write_error, std::size_t) {
                        if (write_error) {
                          failure = write_error;
                          return;
                        }
                        phase = Phase::kWaiting;
                        asio::async_read_until(
                            socket, asio::dynamic_buffer(reply, kMaxReplyBytes), '\n',
                            [&](const boost::system::error_code& read_error, std::size_t n) {
                              if (read_error) {
                                failure = read_error;
                                return;
                              }
                              reply_length = n;
                              phase = Phase::kDone;
                            });
                      });
  });
  io.run_for(kTimeout);

  if (phase == Phase::kConnecting) {
    if (failure) throw CtlError(unreachable(path, failure));
    throw CtlError("cannot reach jvb-autoscaler at " + path + ": no answer to connect within " +
                   std::to_string(kTimeout.count()) + " seconds");
  }
  if (phase == Phase::kDone) {
    reply.resize(reply_length - 1);
    return reply;
  }
  if (!failure) {
    throw CtlError("jvb-autoscaler at " + path + " did not answer within " +
                   std::to_string(kTimeout.count()) + " seconds");
  }
  if (failure == asio::error::eof) {
    throw CtlError("jvb-autoscaler at " + path + " closed the connection without a reply");
  }
  if (failure == asio::error::not_found) {
    throw CtlError("jvb-autoscaler at " + path + " sent a reply longer than 16 MiB");
  }
  throw CtlError("lost the connection to jvb-autoscaler at " + path + ": " + failure.message());
}

}  // namespace

int ctl(const CtlOptions& options) {
  const std::string path = options.socket_path.value_or(kDefaultSocket);
  try {
    const std::string reply_line = send_request(path, options.request.dump() + "\n");
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
