#pragma once
// Small helpers shared by integration tests and the demo: free loopback ports, waiting for a
// TCP port, and child processes that cannot outlive their owner (RAII: SIGTERM, then SIGKILL).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_loopback_port();

// True once host:port accepts a TCP connection; polls every 20 ms until `timeout`.
bool wait_for_port(const std::string& host, int port, std::chrono::milliseconds timeout);

// True once nothing accepts on host:port any more (the listener has closed).
bool wait_for_port_closed(const std::string& host, int port, std::chrono::milliseconds timeout);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by the timeout or by a signal
  std::string output;  // stdout and stderr, interleaved
};
// Runs argv to completion (bounded by `timeout`, then SIGKILL) and captures its output.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A child process in its own process group. The destructor sends SIGTERM to the group, waits
// up to `stop_grace`, then SIGKILLs it: nothing is left running, also when a test fails.
// The child also gets SIGTERM if the thread that created it exits (PR_SET_PDEATHSIG), so an
// aborted test leaks nothing: create ChildProcess from a thread that outlives it.
class ChildProcess {
 public:
  struct Options {
    std::string log_file;  // stdout+stderr go here (appended); empty = /dev/null
    std::chrono::milliseconds stop_grace = std::chrono::seconds(5);
  };
  ChildProcess(std::vector<std::string> argv, Options options);
  explicit ChildProcess(std::vector<std::string> argv) : ChildProcess(std::move(argv), Options{}) {}
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` to the process (not its group).
  void send_signal(int signal);
  // Waits for exit; returns the exit code (128+signal when killed) or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, bounded wait, SIGKILL. Returns the exit status as wait() does.
  std::optional<int> stop();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  Options options_;
};

}  // namespace test_support
