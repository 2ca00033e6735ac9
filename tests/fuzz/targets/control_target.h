#pragma once
// Fuzz target: request parsing of the control socket (agent/control_server.h), driven through
// a real ControlServer on a Unix socket in a temporary directory.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "fuzz_support.h"

namespace agent {
class ControlServer;
}

namespace jvb_fuzz {

// The input is what one client sends (one or more lines); it is followed by a newline and a
// shutdown of the client's sending side.
// Properties: every non-blank line gets exactly one reply line; each reply is a JSON object
// with a boolean "ok"; a line that is not a JSON object with a known "cmd" string gets ok
// false and a non-empty "error"; a request the handler refuses (throws) gets ok false; a
// valid one reaches the handler and gets ok true; and the server still answers a new client
// after every input.
class ControlTarget {
 public:
  static constexpr std::string_view kName = "control";
  // Longest input the campaign sends: below ControlServer::kMaxRequestBytes, so every line is
  // answered (the too-long case is a separate fixed test).
  static constexpr std::size_t kMaxInput = 60'000;

  ControlTarget();
  ~ControlTarget();
  ControlTarget(const ControlTarget&) = delete;
  ControlTarget& operator=(const ControlTarget&) = delete;

  Verdict check(std::string_view input);

  // Sends `payload`, shuts down the sending side, returns everything received until the
  // server closes (or nullopt after a 5 s silence; then *why, if given, says what failed).
  std::optional<std::string> exchange(std::string_view payload, std::string* why = nullptr) const;
  const std::filesystem::path& socket_path() const { return socket_path_; }

 private:
  std::filesystem::path directory_;
  std::filesystem::path socket_path_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<agent::ControlServer> server_;
  std::thread thread_;
};

}  // namespace jvb_fuzz
