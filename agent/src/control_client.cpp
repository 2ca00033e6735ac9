#include "agent/control_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

namespace agent {
namespace {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

// A status of thousands of bridges is a few hundred KiB; anything bigger is not a reply.
constexpr std::size_t kMaxReplyBytes = 16 * 1024 * 1024;

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

}  // namespace

std::string control_request_line(const std::string& path, const std::string& request_line,
                                 double timeout_seconds) {
  const auto kTimeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  asio::io_context io;
  Local::socket socket(io);
  Local::endpoint endpoint;
  try {
    endpoint = Local::endpoint(path);
  } catch (const std::exception&) {
    throw ControlClientError("control socket path " + path + " is too long for a Unix socket");
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
    if (failure) throw ControlClientError(unreachable(path, failure));
    throw ControlClientError("cannot reach jvb-autoscaler at " + path +
                             ": no answer to connect within " +
                             std::to_string(static_cast<int>(timeout_seconds)) + " seconds");
  }
  if (phase == Phase::kDone) {
    reply.resize(reply_length - 1);
    return reply;
  }
  if (!failure) {
    throw ControlClientError("jvb-autoscaler at " + path + " did not answer within " +
                             std::to_string(static_cast<int>(timeout_seconds)) + " seconds");
  }
  if (failure == asio::error::eof) {
    throw ControlClientError("jvb-autoscaler at " + path +
                             " closed the connection without a reply");
  }
  if (failure == asio::error::not_found) {
    throw ControlClientError("jvb-autoscaler at " + path + " sent a reply longer than 16 MiB");
  }
  throw ControlClientError("lost the connection to jvb-autoscaler at " + path + ": " +
                           failure.message());
}

nlohmann::json control_request(const std::string& socket_path, const nlohmann::json& request,
                               double timeout_seconds) {
  const std::string reply =
      control_request_line(socket_path, request.dump() + "\n", timeout_seconds);
  try {
    return nlohmann::json::parse(reply);
  } catch (const nlohmann::json::exception&) {
    throw ControlClientError("jvb-autoscaler at " + socket_path + " sent a reply that is not JSON");
  }
}

}  // namespace agent
