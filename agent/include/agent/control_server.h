#pragma once
// The daemon's control socket (DESIGN section 3): a Unix stream socket, mode 0660, one JSON
// request per line, one JSON reply per line, many clients, several requests per connection.
#include <array>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace agent {

// Thrown by the constructor with one sentence naming the socket path.
class ControlServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The names of the commands the daemon understands (DESIGN section 3 + the scheduled-scaling
// issue), in the order of the command table in control_handler.cpp, which checks at compile
// time that its entries carry exactly these names. Header-only so that the socket server (and
// its fuzz target) need nothing else from the agent.
inline constexpr std::array<std::string_view, 10> kControlCommandNames = {
    "status", "pause", "resume",   "scale-to",  "auto",
    "drain",  "set",   "schedule", "event-add", "event-remove"};
// The same names as a set (the ControlServer's default known commands).
const std::set<std::string>& default_control_commands();

class ControlServer {
 public:
  // Runs on the io_context thread with a request whose "cmd" is a known command. Returns the
  // reply object; "ok":true is added when the reply has no "ok". To refuse, return
  // {"ok":false,"error":"..."} or throw std::exception (its what() becomes the error; it must
  // be one sentence for the operator and never contain a secret).
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  static constexpr std::size_t kMaxRequestBytes = 64 * 1024;  // longer line: error + close
  static constexpr std::size_t kMaxClients = 64;              // more: error + close

  // Binds and starts accepting at once (the io_context must be run by the caller).
  // Creates the parent directory; replaces a stale socket file only if nobody answers on it.
  // Throws ControlServerError if another process listens on `socket_path`, if the path exists
  // and is not a socket, or on any bind/listen failure.
  ControlServer(boost::asio::io_context& io, std::filesystem::path socket_path, Handler handler,
                std::set<std::string> known_commands = default_control_commands());
  ~ControlServer();  // close()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // A connection with no complete request for this long is closed, so idle clients cannot
  // hold the kMaxClients slots forever. Default kDefaultIdleTimeout; applies to new requests.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{std::chrono::seconds(60)};
  void set_idle_timeout(std::chrono::milliseconds timeout);

  // Stops accepting, closes every client connection and removes the socket file (only if it is
  // still the one this server bound). Idempotent. Call from the io_context thread (or after it
  // stopped).
  void close();

  const std::filesystem::path& socket_path() const;

  struct Impl;  // public so the per-connection sessions in the .cpp can reach it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace agent
