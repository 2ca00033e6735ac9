#pragma once
// Pieces of a Jitsi cluster on this machine, for `jvb-autoscaler demo` and the end-to-end
// tests: a temporary directory, child processes that are always reaped, and a Prosody
// started from the Debian package with a generated configuration on a free loopback port.
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace agent::local {

// A private temporary directory (mode 0755 so the prosody user can read it), removed with
// everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A child process with stdout+stderr appended to `log_file`. Terminated (SIGTERM, then
// SIGKILL after `grace_seconds`) and reaped on destruction.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::filesystem::path& log_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Returns the exit code (128 + signal when killed by a signal).
  int terminate(double grace_seconds = 10);
  int wait(double timeout_seconds);  // -1 when still running after the timeout

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

int free_tcp_port();
bool wait_for_tcp_port(int port, double timeout_seconds);
// Directory of the running executable (the demo finds jvb-sim and fake-linode beside it).
std::filesystem::path executable_dir();

struct ProsodyAccount {
  std::string username;
  std::string password;
};

// Debian's prosody on 127.0.0.1:<free port>, plaintext auth (loopback only), VirtualHost
// `domain`, MUC component `internal.<domain>`. Throws std::runtime_error with one sentence
// when prosody is missing or does not come up.
class LocalProsody {
 public:
  LocalProsody(const std::filesystem::path& dir, std::string domain,
               const std::vector<ProsodyAccount>& accounts);
  ~LocalProsody();
  int port() const { return port_; }
  const std::string& domain() const { return domain_; }
  std::string brewery() const { return "jvbbrewery@internal." + domain_; }
  void stop();
  void start();

 private:
  std::filesystem::path dir_;
  std::string domain_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace agent::local
