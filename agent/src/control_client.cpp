#include "agent/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace agent {

namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

nlohmann::json control_request(const std::string& socket_path, const nlohmann::json& request,
                               double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) {
    throw ControlClientError("control socket path is too long: " + socket_path);
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw ControlClientError("cannot reach jvb-autoscaler at " + socket_path + ": " +
                             std::strerror(errno) + " (is the daemon running?)");
  }
  const std::string line = request.dump() + "\n";
  size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw ControlClientError("the daemon at " + socket_path + " closed the connection");
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  while (reply.find('\n') == std::string::npos) {
    pollfd waiting{fd.get(), POLLIN, 0};
    if (::poll(&waiting, 1, remaining_ms(deadline)) <= 0) {
      throw ControlClientError("the daemon at " + socket_path + " did not answer in time");
    }
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) throw ControlClientError("the daemon at " + socket_path + " closed the connection");
    reply.append(buffer, static_cast<size_t>(n));
    if (reply.size() > 16 * 1024 * 1024) throw ControlClientError("reply too long");
  }
  reply.resize(reply.find('\n'));
  try {
    return nlohmann::json::parse(reply);
  } catch (const nlohmann::json::exception&) {
    throw ControlClientError("the daemon at " + socket_path + " sent a malformed reply");
  }
}

}  // namespace agent
