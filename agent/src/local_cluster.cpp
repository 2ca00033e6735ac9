#include "agent/local_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace agent::local {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory in " +
                             fs::temp_directory_path().string());
  }
  path_ = pattern;
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

Process::Process(std::vector<std::string> argv, const fs::path& log_file) {
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_file.string());
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log_fd);
    throw std::runtime_error("cannot fork to start " + argv.front());
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);  // our own process group: a signal to it reaches the child's children
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  ::close(log_fd);
}

Process::~Process() { terminate(); }

bool Process::running() { return wait(0) == -1; }

int Process::wait(double timeout_seconds) {
  if (pid_ <= 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || done < 0) {
      status_ = done < 0 ? 1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int Process::terminate(double grace_seconds) {
  if (pid_ <= 0) return status_;
  ::kill(-pid_, SIGTERM);
  ::kill(pid_, SIGTERM);
  if (wait(grace_seconds) == -1) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait(5);
  }
  return status_;
}

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  if (port == 0) throw std::runtime_error("cannot find a free loopback TCP port");
  return port;
}

bool wait_for_tcp_port(int port, double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : self.parent_path();
}

namespace {

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

// Prosody refuses to run as root: when we are root, run it (and prosodyctl) as `prosody`.
std::vector<std::string> as_prosody_user(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> wrapped = {"runuser", "-u", "prosody", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

void chown_to_prosody(const fs::path& path) {
  if (::geteuid() != 0) return;
  const passwd* user = ::getpwnam("prosody");
  if (user == nullptr) return;
  if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    throw std::runtime_error("cannot hand " + path.string() + " to the prosody user");
  }
}

}  // namespace

LocalProsody::LocalProsody(const fs::path& dir, std::string domain,
                           const std::vector<ProsodyAccount>& accounts)
    : dir_(dir), domain_(std::move(domain)) {
  if (!find_program("prosody") || !find_program("prosodyctl")) {
    throw std::runtime_error(
        "prosody is not installed: run ./bootstrap.sh build (or apt-get install prosody "
        "lua-unbound)");
  }
  port_ = free_tcp_port();
  fs::create_directories(dir_ / "data");
  chown_to_prosody(dir_ / "data");
  const fs::path config = dir_ / "prosody.cfg.lua";
  {
    std::ofstream out(config);
    out << "-- generated by jvb-autoscaler for a local, loopback-only Prosody\n"
        << "pidfile = \"" << (dir_ / "data" / "prosody.pid").string() << "\"\n"
        << "data_path = \"" << (dir_ / "data").string() << "\"\n"
        << "interfaces = { \"127.0.0.1\" }\n"
        << "c2s_ports = { " << port_ << " }\n"
        << "c2s_interfaces = { \"127.0.0.1\" }\n"
        << "admin_socket = \"" << (dir_ / "data" / "admin.sock").string() << "\"\n"
        << "log = { { levels = { min = \"warn\" }, to = \"console\" } }\n"
        << "modules_enabled = { \"roster\"; \"saslauth\"; \"disco\"; \"ping\"; \"posix\" }\n"
        << "modules_disabled = { \"s2s\"; \"tls\"; \"http\"; \"http_files\"; \"offline\" }\n"
        << "c2s_require_encryption = false\n"
        << "allow_unencrypted_plain_auth = true\n"
        << "authentication = \"internal_plain\"\n"
        << "storage = \"internal\"\n"
        << "VirtualHost \"" << domain_ << "\"\n"
        << "Component \"internal." << domain_ << "\" \"muc\"\n"
        << "  restrict_room_creation = false\n"
        << "  muc_room_locking = false\n"
        << "  muc_room_default_public_jids = true\n";
  }
  fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
  for (const auto& account : accounts) {
    Process registration(as_prosody_user({"prosodyctl", "--config", config.string(), "register",
                                          account.username, domain_, account.password}),
                         dir_ / "prosodyctl.log");
    if (registration.wait(30) != 0) {
      throw std::runtime_error("prosodyctl could not register " + account.username + "@" + domain_ +
                               " (see " + (dir_ / "prosodyctl.log").string() + ")");
    }
  }
  start();
}

LocalProsody::~LocalProsody() { stop(); }

void LocalProsody::start() {
  if (process_) return;
  process_ = std::make_unique<Process>(
      as_prosody_user({"prosody", "--config", (dir_ / "prosody.cfg.lua").string(), "-F"}),
      dir_ / "prosody.log");
  if (!wait_for_tcp_port(port_, 20)) {
    process_.reset();
    throw std::runtime_error(
        "prosody did not accept connections on 127.0.0.1:" + std::to_string(port_) +
        " within 20 s (see " + (dir_ / "prosody.log").string() + ")");
  }
}

void LocalProsody::stop() { process_.reset(); }

}  // namespace agent::local
