#include "control_target.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <future>
#include <stdexcept>

#include "agent/control_server.h"

namespace jvb_fuzz {

namespace {

using nlohmann::json;

// Owns one file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The handler the fuzzed server runs: echoes the command; refuses "drain" without a string
// "bridge" by throwing (as the daemon does for bad arguments); answers "set" with a non-object
// (the server must wrap it).
json fuzz_handler(const json& request) {
  const std::string& cmd = request.at("cmd").get_ref<const std::string&>();
  if (cmd == "drain") {
    auto bridge = request.find("bridge");
    if (bridge == request.end() || !bridge->is_string()) {
      throw std::runtime_error("drain needs a \"bridge\" name");
    }
  }
  if (cmd == "set") return json::array({cmd});
  return json{{"echo", cmd}};
}

// What the server must answer to one line: nullopt = ok false expected; else ok true.
bool expect_ok(const std::string& line) {
  const json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) return false;
  auto cmd = request.find("cmd");
  if (cmd == request.end() || !cmd->is_string()) return false;
  const std::string& name = cmd->get_ref<const std::string&>();
  if (!agent::default_control_commands().contains(name)) return false;
  if (name == "drain") {
    auto bridge = request.find("bridge");
    return bridge != request.end() && bridge->is_string();
  }
  return true;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

}  // namespace

ControlTarget::ControlTarget() : work_(boost::asio::make_work_guard(io_)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "jvb-fuzz-ctl-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  directory_ = pattern;
  socket_path_ = directory_ / "control.sock";
  server_ = std::make_unique<agent::ControlServer>(io_, socket_path_, fuzz_handler);
  thread_ = std::thread([this] { io_.run(); });
}

ControlTarget::~ControlTarget() {
  std::promise<void> closed;
  boost::asio::post(io_, [&] {
    server_->close();
    closed.set_value();
  });
  closed.get_future().wait();
  work_.reset();
  io_.stop();
  thread_.join();
  server_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::optional<std::string> ControlTarget::exchange(std::string_view payload,
                                                   std::string* why) const {
  const auto failed = [why](const char* step) -> std::optional<std::string> {
    if (why != nullptr) *why = std::string(step) + ": " + std::strerror(errno);
    return std::nullopt;
  };
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return failed("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path_.c_str(), sizeof address.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return failed("connect");
  }
  // Send and receive at once: the server answers line by line and stops reading while a reply
  // waits, so a client that sends many lines before reading would deadlock both sides.
  std::size_t sent = 0;
  bool sending = !payload.empty();
  if (!sending) ::shutdown(fd.get(), SHUT_WR);
  std::string received;
  char buffer[4096];
  while (true) {
    pollfd watch{fd.get(), static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    const int ready = ::poll(&watch, 1, 5'000);
    if (ready == 0) {
      errno = ETIMEDOUT;
      return failed(sending ? "send (5 s without progress)" : "recv (5 s without a byte)");
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      return failed("poll");
    }
    if (sending && (watch.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      // MSG_NOSIGNAL: the server may close early (too long a request); no crash of ours.
      const ssize_t n = ::send(fd.get(), payload.data() + sent, payload.size() - sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || sent == payload.size()) {
        sending = false;
        ::shutdown(fd.get(), SHUT_WR);
      }
    }
    if ((watch.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n == 0) return received;
      // A server that closes with our bytes still unread (a refused, too long request) resets
      // the connection after its reply: the reply is complete.
      if (n < 0 && errno == ECONNRESET) return received;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return failed("recv");
      }
      if (n > 0) received.append(buffer, static_cast<std::size_t>(n));
    }
  }
}

Verdict ControlTarget::check(std::string_view input) {
  if (input.size() > kMaxInput) input = input.substr(0, kMaxInput);
  std::vector<std::string> requests;
  for (std::string line : split_lines(input)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    requests.push_back(std::move(line));
  }
  std::string exchange_error;
  const auto received = exchange(std::string(input) + "\n", &exchange_error);
  if (!received) {
    return Verdict::fail("the server did not answer and close within 5 s (" + exchange_error + ")");
  }
  const auto replies = split_lines(*received);
  if (received->empty() ? !requests.empty() : received->back() != '\n') {
    return Verdict::fail("the last reply is not a complete line");
  }
  if (replies.size() != requests.size()) {
    return Verdict::fail(std::to_string(requests.size()) + " request lines got " +
                         std::to_string(replies.size()) + " reply lines");
  }
  bool any_ok = false;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const json reply = json::parse(replies[i], nullptr, /*allow_exceptions=*/false);
    if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok") ||
        !reply["ok"].is_boolean()) {
      return Verdict::fail("reply " + std::to_string(i) +
                           " is not an object with a boolean ok: " + printable(replies[i]));
    }
    const bool ok = reply["ok"].get<bool>();
    if (ok != expect_ok(requests[i])) {
      return Verdict::fail("reply " + std::to_string(i) + " has ok " + (ok ? "true" : "false") +
                           " for request " + printable(requests[i]));
    }
    if (!ok && (!reply.contains("error") || !reply["error"].is_string() ||
                reply["error"].get_ref<const std::string&>().empty())) {
      return Verdict::fail("a refusal without an error sentence: " + printable(replies[i]));
    }
    any_ok = any_ok || ok;
  }
  std::string why;
  const auto status = exchange("{\"cmd\":\"status\"}\n", &why);
  if (!status || status->find("\"ok\":true") == std::string::npos) {
    return Verdict::fail("the server stopped answering new clients after this input (" +
                         (status ? "reply " + printable(*status) : why) + ")");
  }
  return Verdict::ok(any_ok);
}

}  // namespace jvb_fuzz
