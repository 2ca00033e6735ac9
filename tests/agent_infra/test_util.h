#pragma once
// Helpers shared by the agent_infra tests: a temporary directory and a blocking Unix-socket
// client with a receive timeout (so no test can hang).
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "agent/local_cluster.h"

namespace agent_infra_test {

// A fresh directory under /tmp (short: Unix socket paths are limited to 107 bytes), removed
// with its content at the end of the test: the support library's TempDir.
class TempDir : public agent::local::TempDir {
 public:
  TempDir() : agent::local::TempDir("jvb-infra-", "/tmp") {}
};

// A connected Unix stream socket; every read gives up after `timeout_seconds`.
class UnixClient {
 public:
  explicit UnixClient(const std::filesystem::path& path, int timeout_seconds = 5) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    timeval timeout{timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      int error = errno;
      ::close(fd_);
      throw std::runtime_error(std::string("connect failed: ") + std::strerror(error));
    }
  }
  ~UnixClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  UnixClient(const UnixClient&) = delete;
  UnixClient& operator=(const UnixClient&) = delete;

  // Returns false if the peer closed or a send timed out.
  bool send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // The next line without its newline; nullopt on EOF or timeout.
  std::optional<std::string> read_line() {
    while (true) {
      if (auto end = pending_.find('\n'); end != std::string::npos) {
        std::string line = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        return line;
      }
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return std::nullopt;
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // True when the server closed the connection within the timeout: EOF, or a reset when it
  // closed with our unread bytes still queued (false on a timeout or on data).
  bool closed_by_peer() {
    char byte;
    ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  std::string pending_;
};

}  // namespace agent_infra_test
