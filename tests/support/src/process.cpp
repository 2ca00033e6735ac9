#include "test_support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace test_support {
namespace {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

sockaddr_in loopback_address(const std::string& host, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + host);
  }
  return address;
}

bool accepts(const std::string& host, int port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  const sockaddr_in address = loopback_address(host, port);
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Forks and execs argv in a new process group with stdout/stderr on `output_fd` (or
// /dev/null when negative). Returns the child's pid.
pid_t spawn(const std::vector<std::string>& argv, int output_fd) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    // If the test process dies without running destructors (abort, ASan), the child gets
    // SIGTERM instead of living on. Note: tied to the forking *thread*.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    const int null_fd = ::open("/dev/null", O_RDWR);
    const int out = output_fd >= 0 ? output_fd : null_fd;
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execvp(args[0], args.data());
    const std::string message =
        std::string("exec ") + argv[0] + " failed: " + std::strerror(errno) + "\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with an early kill of the group
  return pid;
}

}  // namespace

int free_loopback_port() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address = loopback_address("127.0.0.1", 0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("bind(127.0.0.1:0) failed");
  }
  socklen_t length = sizeof address;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

bool wait_for_port(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (accepts(host, port)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool wait_for_port_closed(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (!accepts(host, port)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  Fd read_end(pipe_fds[0]);
  pid_t pid;
  {
    Fd write_end(pipe_fds[1]);
    pid = spawn(argv, write_end.get());
  }
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  CommandResult result;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  bool exited = false;
  char buffer[4096];
  while (true) {
    ssize_t n;
    while ((n = ::read(read_end.get(), buffer, sizeof buffer)) > 0) result.output.append(buffer, n);
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (exited && n == 0) break;  // exited and the pipe is drained (EOF)
    if (Clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      if (!exited) ::waitpid(pid, &status, 0);
      result.output += "\n[killed: timed out]";
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, Options options)
    : options_(std::move(options)) {
  int output_fd = -1;
  if (!options_.log_file.empty()) {
    output_fd = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (output_fd < 0) throw std::runtime_error("cannot open log file " + options_.log_file);
  }
  Fd output(output_fd);
  pid_ = spawn(argv, output.get());
}

ChildProcess::~ChildProcess() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; stop() already SIGKILLed what it could.
  }
}

bool ChildProcess::running() {
  if (exit_status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = decode_status(status);
    return false;
  }
  return true;
}

void ChildProcess::send_signal(int signal) {
  if (running()) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

std::optional<int> ChildProcess::stop() {
  if (pid_ <= 0) return exit_status_;
  if (running()) {
    ::kill(-pid_, SIGTERM);  // the whole group: runuser and the program it started
    if (!wait(options_.stop_grace)) {
      ::kill(-pid_, SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
  return exit_status_;
}

}  // namespace test_support
