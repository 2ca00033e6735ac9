#include "agent/local_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace agent::local {

namespace fs = std::filesystem;

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

 private:
  int fd_;
};

sockaddr_in ipv4_address(const std::string& host, int port) {
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
  const sockaddr_in address = ipv4_address(host, port);
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Forks and execs argv in a new process group with stdout/stderr on `output_fd` (or /dev/null
// when negative). Returns the child's pid.
pid_t spawn(const std::vector<std::string>& argv, int output_fd) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot fork to start " + argv.front());
  if (pid == 0) {
    ::setpgid(0, 0);  // our own process group: a signal to it reaches the child's children
    // If the owner dies without running destructors (abort, ASan), the child gets SIGTERM
    // instead of living on. Note: tied to the forking *thread*.
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

bool find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  dirs += ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = dirs.find(':', start);
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

constexpr const char* kProsodyUser = "prosody";

// Prosody refuses to run as root: when we are root, run it (and prosodyctl) as `prosody`.
std::vector<std::string> as_prosody_user(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> wrapped = {"runuser", "-u", kProsodyUser, "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

void chown_to_prosody(const fs::path& path) {
  if (::geteuid() != 0) return;
  const passwd* user = ::getpwnam(kProsodyUser);
  if (user == nullptr) throw std::runtime_error(prosody_unavailable_reason());
  auto hand_over = [&](const fs::path& entry) {
    if (::chown(entry.c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("cannot hand " + entry.string() + " to the prosody user");
    }
  };
  hand_over(path);
  for (const auto& entry : fs::recursive_directory_iterator(path)) hand_over(entry.path());
}

std::string read_tail(const fs::path& path, size_t max_chars = 2000) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > max_chars ? text.substr(text.size() - max_chars) : text;
}

}  // namespace

// ---- TempDir ------------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix, const fs::path& parent) {
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory in " + parent.string());
  }
  path_ = pattern;
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

// ---- Process ------------------------------------------------------------------------------

Process::Process(std::vector<std::string> argv, Options options) : options_(std::move(options)) {
  int output_fd = -1;
  if (!options_.log_file.empty()) {
    output_fd = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (output_fd < 0) throw std::runtime_error("cannot open log file " + options_.log_file);
  }
  Fd output(output_fd);
  pid_ = spawn(argv, output.get());
}

Process::Process(std::vector<std::string> argv, const fs::path& log_file)
    : Process(std::move(argv), Options{log_file.string(), std::chrono::seconds(10)}) {}

Process::~Process() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; stop() already SIGKILLed what it could.
  }
}

bool Process::running() {
  if (exit_status_) return false;
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = decode_status(status);
    return false;
  }
  if (done < 0) {
    exit_status_ = 1;  // not our child any more (reaped elsewhere): treat as ended
    return false;
  }
  return true;
}

void Process::send_signal(int signal) {
  if (running()) ::kill(pid_, signal);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int Process::wait(double timeout_seconds) { return wait(to_ms(timeout_seconds)).value_or(-1); }

std::optional<int> Process::stop_within(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return exit_status_;
  if (running()) {
    ::kill(-pid_, SIGTERM);  // the whole group: runuser and the program it started
    ::kill(pid_, SIGTERM);
    if (!wait(grace)) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      wait(std::chrono::milliseconds(5000));
    }
  }
  return exit_status_;
}

std::optional<int> Process::stop() { return stop_within(options_.stop_grace); }

int Process::terminate(double grace_seconds) {
  return stop_within(to_ms(grace_seconds)).value_or(-1);
}

// ---- commands and ports -------------------------------------------------------------------

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

int free_tcp_port() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error("cannot open a socket to find a free port");
  sockaddr_in address = ipv4_address("127.0.0.1", 0);
  socklen_t length = sizeof address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      address.sin_port == 0) {
    throw std::runtime_error("cannot find a free loopback TCP port");
  }
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

bool wait_for_tcp_port(int port, double timeout_seconds) {
  return wait_for_port("127.0.0.1", port, to_ms(timeout_seconds));
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : self.parent_path();
}

// ---- Prosody ------------------------------------------------------------------------------

std::string prosody_unavailable_reason() {
  if (!find_program("prosody") || !find_program("prosodyctl")) {
    return "prosody is not installed: run ./bootstrap.sh build (or apt-get install prosody "
           "lua-unbound)";
  }
  if (::geteuid() == 0 && ::getpwnam(kProsodyUser) == nullptr) {
    return "running as root but there is no 'prosody' user to run Prosody as (reinstall the "
           "Debian package 'prosody')";
  }
  return {};
}

Prosody::Prosody(fs::path dir, ProsodySetup setup)
    : dir_(std::move(dir)), setup_(std::move(setup)) {
  if (const std::string missing = prosody_unavailable_reason(); !missing.empty()) {
    throw std::runtime_error(missing);
  }
  port_ = free_tcp_port();
  fs::create_directories(dir_ / "data");
  fs::create_directories(dir_ / "certs");
  if (setup_.tls) make_certificate();
  // Prosody runs as the prosody user: it must read the config and certificates and write the
  // data directory. Its log goes to the console, which the parent writes to prosody.log.
  chown_to_prosody(dir_ / "data");
  chown_to_prosody(dir_ / "certs");
  write_config();
  for (const auto& account : setup_.accounts) add_account(account.username, account.password);
}

Prosody::~Prosody() {
  try {
    stop();
  } catch (...) {
    // Never throw from a destructor; the process itself is killed by ~Process.
  }
}

void Prosody::write_config() const {
  const fs::path config = dir_ / "prosody.cfg.lua";
  {
    std::ofstream out(config);
    out << "-- generated by jvb-autoscaler for a local, loopback-only Prosody\n"
        << "pidfile = \"" << (dir_ / "data" / "prosody.pid").string() << "\"\n"
        << "data_path = \"" << (dir_ / "data").string() << "\"\n"
        << "certificates = \"" << (dir_ / "certs").string() << "\"\n"
        << "admin_socket = \"" << (dir_ / "data" / "admin.sock").string() << "\"\n"
        << "log = { { levels = { min = \"" << setup_.log_level << "\" }, to = \"console\" } }\n"
        << "interfaces = { \"127.0.0.1\" }\n"
        << "c2s_ports = { " << port_ << " }\n"
        << "c2s_interfaces = { \"127.0.0.1\" }\n"
        << "c2s_direct_tls_ports = { }\n"
        << "s2s_ports = { }\n"
        << "http_ports = { }\n"
        << "https_ports = { }\n"
        << "modules_enabled = { \"roster\", \"saslauth\", \"disco\", \"ping\""
        << (setup_.tls ? ", \"tls\"" : "") << " }\n"
        << "modules_disabled = { \"s2s\", \"offline\", \"posix\", \"http\", \"http_files\""
        << (setup_.tls ? "" : ", \"tls\"") << " }\n"
        << "c2s_require_encryption = false\n"
        << "allow_unencrypted_plain_auth = true\n"
        << "authentication = \"internal_plain\"\n"
        << "storage = \"internal\"\n"
        // Many simulated bridges log in at once from one address: no rate limits.
        << "limits = { c2s = { rate = \"10mb/s\" } }\n";
    if (setup_.tls) {
      out << "ssl = { certificate = \"" << certificate_file() << "\", key = \""
          << (dir_ / "certs" / (setup_.virtual_host + ".key")).string() << "\" }\n";
    }
    out << "VirtualHost \"" << setup_.virtual_host << "\"\n"
        << "Component \"" << setup_.muc_domain << "\" \"muc\"\n"
        << "  restrict_room_creation = false\n"
        << "  muc_room_locking = false\n"
        << "  muc_room_default_public_jids = true\n"
        << "  muc_room_default_history_length = 0\n"
        << "  muc_max_occupants = 100000\n";
    if (!out) throw std::runtime_error("cannot write " + config.string());
  }
  fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
}

void Prosody::make_certificate() const {
  const std::string base = (dir_ / "certs" / setup_.virtual_host).string();
  const CommandResult result =
      run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                   "-subj", "/CN=" + setup_.virtual_host, "-addext",
                   "subjectAltName=DNS:" + setup_.virtual_host + ",IP:127.0.0.1", "-keyout",
                   base + ".key", "-out", base + ".crt"},
                  std::chrono::seconds(30));
  if (result.exit_code != 0) {
    throw std::runtime_error("openssl could not make a self-signed certificate: " + result.output);
  }
}

void Prosody::add_account(const std::string& user, const std::string& password) {
  const CommandResult result =
      run_command(as_prosody_user({"prosodyctl", "--config", (dir_ / "prosody.cfg.lua").string(),
                                   "register", user, setup_.virtual_host, password}),
                  std::chrono::seconds(30));
  if (result.exit_code != 0) {
    // The output may echo the command line; never put the password in an error.
    throw std::runtime_error("prosodyctl could not register " + user + "@" + setup_.virtual_host +
                             " (exit " + std::to_string(result.exit_code) + ")");
  }
}

void Prosody::start() {
  if (process_) return;
  process_ = std::make_unique<Process>(
      as_prosody_user({"prosody", "--config", (dir_ / "prosody.cfg.lua").string(), "-F"}),
      Process::Options{log_file(), std::chrono::seconds(5)});
  if (!wait_for_port("127.0.0.1", port_, std::chrono::seconds(20))) {
    process_.reset();
    throw std::runtime_error(
        "prosody did not accept connections on 127.0.0.1:" + std::to_string(port_) +
        " within 20 s; log " + log_file() + ":\n" + read_tail(log_file()));
  }
}

void Prosody::stop() {
  if (!process_) return;
  process_->stop();
  process_.reset();
  wait_for_port_closed("127.0.0.1", port_, std::chrono::seconds(5));
}

LocalProsody::LocalProsody(const fs::path& dir, std::string domain,
                           const std::vector<ProsodyAccount>& accounts)
    : Prosody(dir, ProsodySetup{domain, "internal." + domain, accounts}) {
  start();
}

}  // namespace agent::local
