// The crash-safe state file and its lock (see state_store.h).
#include "agent/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

namespace agent {
namespace {

constexpr int kFormatVersion = 1;
constexpr std::size_t kMaxStateFileBytes = 16 * 1024 * 1024;  // far above any real state

std::string errno_text(int error) { return std::strerror(error); }

// Closes a file descriptor on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  // Closes now and reports the error (close can report a delayed write error).
  int close_now() {
    int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

template <typename T>
void read_optional(const nlohmann::json& in, const char* key, std::optional<T>& out) {
  if (auto it = in.find(key); it != in.end() && !it->is_null()) {
    out = it->get<T>();
  } else {
    out.reset();
  }
}

void require_non_negative(std::optional<int> value, const char* key) {
  if (value && *value < 0) {
    throw std::invalid_argument(std::string("\"") + key + "\" is negative");
  }
}

void write_all(int fd, const std::string& data, const std::filesystem::path& file) {
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw StateFileError("cannot write state file " + file.string() + ": " + errno_text(errno));
    }
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace

void to_json(nlohmann::json& out, const PersistentState& state) {
  nlohmann::json creates = nlohmann::json::array();
  for (const auto& create : state.creates) {
    creates.push_back({{"label", create.label},
                       {"requested_at", create.requested_at},
                       {"linode_id", create.linode_id ? nlohmann::json(*create.linode_id)
                                                      : nlohmann::json(nullptr)}});
  }
  nlohmann::json drains = nlohmann::json::array();
  for (const auto& drain : state.drains) {
    drains.push_back({{"bridge", drain.bridge},
                      {"linode_id", drain.linode_id},
                      {"started_at", drain.started_at}});
  }
  auto optional_int = [](std::optional<int> value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  out = {{"version", kFormatVersion},
         {"next_label_number", state.next_label_number},
         {"paused", state.paused},
         {"pinned", optional_int(state.pinned)},
         {"min_override", optional_int(state.min_override)},
         {"max_override", optional_int(state.max_override)},
         {"creates", std::move(creates)},
         {"drains", std::move(drains)},
         {"schedule_events", state.schedule_events},
         {"last_scale_action_at", state.last_scale_action_at},
         {"failed_boots", state.failed_boots}};
  // Written only when there is something: a file without it is a file of the older version.
  if (!state.learned.is_null()) out["learned"] = state.learned;
}

std::optional<std::string> learned_state_problem(const nlohmann::json& learned) {
  if (learned.is_null()) return std::nullopt;
  if (!learned.is_object()) return "is not a JSON object";
  const std::size_t bytes = learned.dump().size();
  if (bytes > kMaxLearnedStateBytes) {
    return "is larger than 256 kB (" + std::to_string(bytes) + " bytes)";
  }
  return std::nullopt;
}

void from_json(const nlohmann::json& in, PersistentState& state) {
  if (!in.is_object()) throw std::invalid_argument("the top level is not a JSON object");
  PersistentState result;
  result.next_label_number = in.value("next_label_number", int64_t{1});
  if (result.next_label_number < 1) {
    throw std::invalid_argument("\"next_label_number\" is below 1");
  }
  result.paused = in.value("paused", false);
  read_optional(in, "pinned", result.pinned);
  read_optional(in, "min_override", result.min_override);
  read_optional(in, "max_override", result.max_override);
  require_non_negative(result.pinned, "pinned");
  require_non_negative(result.min_override, "min_override");
  require_non_negative(result.max_override, "max_override");
  if (auto it = in.find("creates"); it != in.end()) {
    for (const auto& item : it->get_ref<const nlohmann::json::array_t&>()) {
      PendingCreate create;
      create.label = item.at("label").get<std::string>();
      if (create.label.empty()) throw std::invalid_argument("a pending create has no label");
      create.requested_at = item.value("requested_at", int64_t{0});
      read_optional(item, "linode_id", create.linode_id);
      result.creates.push_back(std::move(create));
    }
  }
  if (auto it = in.find("drains"); it != in.end()) {
    for (const auto& item : it->get_ref<const nlohmann::json::array_t&>()) {
      PendingDrain drain;
      drain.bridge = item.at("bridge").get<std::string>();
      if (drain.bridge.empty()) throw std::invalid_argument("a pending drain has no bridge");
      drain.linode_id = item.value("linode_id", int64_t{0});
      drain.started_at = item.value("started_at", int64_t{0});
      result.drains.push_back(std::move(drain));
    }
  }
  if (auto it = in.find("schedule_events"); it != in.end() && !it->is_null()) {
    if (!it->is_array()) throw std::invalid_argument("\"schedule_events\" is not an array");
    result.schedule_events = *it;
  }
  result.last_scale_action_at = in.value("last_scale_action_at", 0.0);
  if (auto it = in.find("failed_boots"); it != in.end()) result.failed_boots = *it;
  // Advisory: whatever it holds never makes the file corrupt (the Reconciler checks it).
  if (auto it = in.find("learned"); it != in.end()) result.learned = *it;
  state = std::move(result);
}

StateStore::StateStore(std::filesystem::path file) : file_(std::move(file)) {}

StateStore::LoadResult StateStore::load() const {
  LoadResult result;
  std::string problem;
  {
    std::error_code error;
    if (!std::filesystem::exists(file_, error)) {
      if (!error) return result;  // first start
      problem = "cannot be accessed: " + error.message();
    }
  }
  if (problem.empty()) {
    std::ifstream input(file_, std::ios::binary);
    if (!input) {
      problem = std::string("cannot be read: ") + errno_text(errno);
    } else {
      std::ostringstream content;
      content << input.rdbuf();
      if (input.bad()) {
        problem = "cannot be read";
      } else if (content.str().size() > kMaxStateFileBytes) {
        problem = "is larger than 16 MiB";
      } else {
        try {
          result.state = nlohmann::json::parse(content.str()).get<PersistentState>();
          return result;
        } catch (const std::exception& e) {
          problem = std::string("is corrupt (") + e.what() + ")";
        }
      }
    }
  }
  // Move the bad file aside so the next start does not trip on it again, and keep it for a
  // human to inspect. The daemon then starts from observed state.
  std::filesystem::path aside = file_;
  aside += ".corrupt-" + std::to_string(std::time(nullptr));
  std::error_code rename_error;
  std::filesystem::rename(file_, aside, rename_error);
  result.state = PersistentState{};
  if (rename_error) {
    result.error = "state file " + file_.string() + " " + problem +
                   "; it could not be moved aside (" + rename_error.message() +
                   "); starting from the observed state";
  } else {
    result.error = "state file " + file_.string() + " " + problem + "; moved it to " +
                   aside.string() + " and starting from the observed state";
  }
  return result;
}

void StateStore::save(const PersistentState& state) const {
  const std::filesystem::path directory =
      file_.has_parent_path() ? file_.parent_path() : std::filesystem::path(".");
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    throw StateFileError("cannot create the directory of state file " + file_.string() + ": " +
                         error.message());
  }
  const std::string content = nlohmann::json(state).dump(2) + "\n";
  std::filesystem::path temporary = file_;
  temporary += ".tmp";

  // O_TRUNC: a .tmp left by a crash before the rename is simply overwritten.
  FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    throw StateFileError("cannot write state file " + file_.string() + ": cannot create " +
                         temporary.string() + ": " + errno_text(errno));
  }
  ::fchmod(fd.get(), 0640);  // the umask may have removed bits; never add more than 0640
  write_all(fd.get(), content, file_);
  if (::fsync(fd.get()) != 0 || fd.close_now() != 0) {
    throw StateFileError("cannot write state file " + file_.string() + ": " + errno_text(errno));
  }
  if (::rename(temporary.c_str(), file_.c_str()) != 0) {
    throw StateFileError("cannot replace state file " + file_.string() + ": " + errno_text(errno));
  }
  // Make the rename itself durable.
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    throw StateFileError("cannot sync the directory of state file " + file_.string() + ": " +
                         errno_text(errno));
  }
}

StateLock::StateLock(const std::filesystem::path& state_file) : lock_file_(state_file) {
  lock_file_ += ".lock";
  if (lock_file_.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(lock_file_.parent_path(), error);
    if (error) {
      throw StateFileError("cannot create the directory of lock file " + lock_file_.string() +
                           ": " + error.message());
    }
  }
  FileDescriptor fd(::open(lock_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    throw StateFileError("cannot open lock file " + lock_file_.string() + ": " + errno_text(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int lock_error = errno;
    if (lock_error == EWOULDBLOCK) {
      char buffer[32] = {};
      ssize_t n = ::pread(fd.get(), buffer, sizeof(buffer) - 1, 0);
      std::string pid = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      throw StateFileError("another jvb-autoscaler holds the lock on " + lock_file_.string() +
                           " (pid " + (pid.empty() ? std::string("unknown") : pid) + ")");
    }
    throw StateFileError("cannot lock " + lock_file_.string() + ": " + errno_text(lock_error));
  }
  // We hold the lock: record our pid for the next one who is refused.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    (void)::pwrite(fd.get(), pid.data(), pid.size(), 0);
  }
  fd_ = fd.release();
}

StateLock::~StateLock() {
  // Closing the descriptor releases the flock. The file stays: removing it would race with a
  // new daemon that already opened it.
  if (fd_ >= 0) ::close(fd_);
}

StateLock::StateLock(StateLock&& other) noexcept
    : lock_file_(std::move(other.lock_file_)), fd_(std::exchange(other.fd_, -1)) {}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    lock_file_ = std::move(other.lock_file_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace agent
