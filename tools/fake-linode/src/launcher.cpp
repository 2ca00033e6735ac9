#include "fake_linode/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>
//
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fake_linode {

namespace {
using Clock = std::chrono::steady_clock;
}

FakeLinodeProcess::FakeLinodeProcess(LaunchOptions options) {
  std::vector<std::string> args = {options.binary.empty() ? FAKE_LINODE_BINARY : options.binary,
                                   "--listen", "127.0.0.1:0"};
  if (!options.token.empty()) args.insert(args.end(), {"--token", options.token});
  args.insert(args.end(), {"--boot-seconds", std::to_string(options.boot_seconds)});
  if (!options.on_create.empty()) {
    args.insert(args.end(), {"--on-create", options.on_create, "--hook-delay",
                             std::to_string(options.hook_delay_seconds)});
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  if (rc != 0) {
    ::close(stdout_fd_);
    pid_ = 0;
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  // Read "fake-linode listening on 127.0.0.1:PORT\n", bounded in time.
  std::string line;
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           static_cast<long>(options.ready_timeout_seconds * 1000));
  while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
    pollfd descriptor{stdout_fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, 100) <= 0) continue;
    char chunk[256];
    const ssize_t got = ::read(stdout_fd_, chunk, sizeof(chunk));
    if (got <= 0) break;
    line.append(chunk, static_cast<size_t>(got));
  }
  const std::string prefix = "fake-linode listening on 127.0.0.1:";
  const size_t at = line.find(prefix);
  if (at != std::string::npos) port_ = std::atoi(line.c_str() + at + prefix.size());
  if (port_ <= 0) {
    stop();
    throw std::runtime_error("fake-linode did not report its port (got '" + line + "')");
  }
}

FakeLinodeProcess::~FakeLinodeProcess() { stop(); }

std::string FakeLinodeProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}
std::string FakeLinodeProcess::api_url() const { return base_url() + "/v4"; }

int FakeLinodeProcess::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    bool reaped = false;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &wait_status_, WNOHANG) == pid_) {
        reaped = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &wait_status_, 0);
    }
    pid_ = 0;
  }
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);
    stdout_fd_ = -1;
  }
  return wait_status_;
}

FakeLinodeProcess::HttpResult FakeLinodeProcess::request(
    const std::string& method, const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) const {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
  http::request<http::string_body> request{http::string_to_verb(method), path, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  boost::system::error_code ignored;
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  return HttpResult{static_cast<int>(response.result_int()), response.body()};
}

std::string FakeLinodeProcess::control(const std::string& method, const std::string& path,
                                       const std::string& body) const {
  HttpResult result = request(method, path, body, {});
  if (result.status < 200 || result.status >= 300) {
    throw std::runtime_error("fake-linode " + method + " " + path + " answered " +
                             std::to_string(result.status) + ": " + result.body);
  }
  return result.body;
}

}  // namespace fake_linode
