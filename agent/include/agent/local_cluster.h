#pragma once
// Pieces of a Jitsi cluster on this machine — the one support library of the demo, the
// end-to-end, fault and scale tests, the benchmarks and the xmpp tests (issue 14): a temporary
// directory, child processes that are always reaped, loopback ports, and a Prosody started from
// the Debian package with a generated configuration on a free loopback port.
// tests/support (test_support::ProsodyFixture, ChildProcess, ...) is a thin GoogleTest-facing
// layer over this.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agent::local {

// A private temporary directory (mode 0755 so the prosody user can read it), removed with
// everything in it on destruction. `parent` defaults to the system's temp directory; use a short
// one (/tmp) when Unix socket paths go inside (107 bytes at most).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix,
                   const std::filesystem::path& parent = std::filesystem::temp_directory_path());
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A child process in its own process group, stdout+stderr appended to a log file (or
// /dev/null). The destructor sends SIGTERM to the group, waits up to `stop_grace`, then
// SIGKILLs it: nothing is left running. The child also gets SIGTERM if the thread that created
// it exits (PR_SET_PDEATHSIG), so an aborted test leaks nothing: create a Process from a thread
// that outlives it.
class Process {
 public:
  struct Options {
    std::string log_file;  // stdout+stderr go here (appended); empty = /dev/null
    std::chrono::milliseconds stop_grace = std::chrono::seconds(5);
  };
  Process(std::vector<std::string> argv, Options options);
  explicit Process(std::vector<std::string> argv) : Process(std::move(argv), Options{}) {}
  // Log to `log_file`, 10 s grace on destruction.
  Process(std::vector<std::string> argv, const std::filesystem::path& log_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` to the process (not its group).
  void send_signal(int signal);
  // Waits for exit; returns the exit code (128+signal when killed) or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // The same in seconds: -1 when still running after the timeout.
  int wait(double timeout_seconds);
  // SIGTERM to the group, bounded wait (`stop_grace`), SIGKILL. Returns what wait() returns.
  std::optional<int> stop();
  // The same with an explicit grace; returns the exit code (-1 if it could not be reaped).
  int terminate(double grace_seconds = 10);

 private:
  std::optional<int> stop_within(std::chrono::milliseconds grace);

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  Options options_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by the timeout or by a signal
  std::string output;  // stdout and stderr, interleaved
};
// Runs argv to completion (bounded by `timeout`, then SIGKILL) and captures its output.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_tcp_port();
// True once host:port accepts a TCP connection; polls every 20 ms until `timeout`.
bool wait_for_port(const std::string& host, int port, std::chrono::milliseconds timeout);
// True once nothing accepts on host:port any more (the listener has closed).
bool wait_for_port_closed(const std::string& host, int port, std::chrono::milliseconds timeout);
// wait_for_port on 127.0.0.1, in seconds.
bool wait_for_tcp_port(int port, double timeout_seconds);
// Directory of the running executable (the demo finds jvb-sim and fake-linode beside it).
std::filesystem::path executable_dir();

struct ProsodyAccount {
  std::string username;
  std::string password;
};

// Empty when Debian's prosody can run here; otherwise one sentence saying what is missing.
std::string prosody_unavailable_reason();

struct ProsodySetup {
  std::string virtual_host;  // the accounts' domain
  std::string muc_domain;    // the MUC component (the JVB brewery lives here)
  std::vector<ProsodyAccount> accounts;
  bool tls = false;  // offer STARTTLS with a self-signed certificate for virtual_host (openssl)
  std::string log_level = "warn";
};

// Debian's prosody on 127.0.0.1:<free port>, plaintext SASL allowed (loopback only), no rate
// limits (many simulated bridges log in from one address), configuration, data and log in
// `dir`. When running as root, prosody and prosodyctl run as the `prosody` user. Throws
// std::runtime_error with one sentence when prosody is missing or does not come up.
class Prosody {
 public:
  // Writes the configuration and registers the accounts; does not start.
  Prosody(std::filesystem::path dir, ProsodySetup setup);
  ~Prosody();
  Prosody(const Prosody&) = delete;
  Prosody& operator=(const Prosody&) = delete;

  // Starts and waits (bounded, 20 s) until the c2s port accepts. Same port across restarts.
  void start();
  void stop();  // SIGTERM, bounded wait, SIGKILL; waits until the port is closed
  bool running() const { return process_ != nullptr; }
  // The server's process group (runuser and prosody), -1 when stopped: tests freeze a hung
  // server with kill(-pid(), SIGSTOP), which keeps its sockets open.
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // Registers an account with prosodyctl (whether or not Prosody is running).
  void add_account(const std::string& user, const std::string& password);

  int port() const { return port_; }
  const std::string& virtual_host() const { return setup_.virtual_host; }
  const std::string& muc_domain() const { return setup_.muc_domain; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string log_file() const { return (dir_ / "prosody.log").string(); }
  // PEM certificate of the server (only with tls), usable as a CA file.
  std::string certificate_file() const {
    return (dir_ / "certs" / (setup_.virtual_host + ".crt")).string();
  }

 private:
  void write_config() const;
  void make_certificate() const;

  std::filesystem::path dir_;
  ProsodySetup setup_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// The demo's and the end-to-end tests' Prosody: VirtualHost `domain`, MUC `internal.<domain>`,
// started at once.
class LocalProsody : public Prosody {
 public:
  LocalProsody(const std::filesystem::path& dir, std::string domain,
               const std::vector<ProsodyAccount>& accounts);
  const std::string& domain() const { return virtual_host(); }
  std::string brewery() const { return "jvbbrewery@" + muc_domain(); }
};

}  // namespace agent::local
