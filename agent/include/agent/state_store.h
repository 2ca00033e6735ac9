#pragma once
// The daemon's crash-safe state file (DESIGN section 5 "State file", "Identity", "Idempotent
// create") and the exclusive lock that keeps a second daemon away from it.
//
// The file is JSON, written atomically (<file>.tmp + fsync + rename + fsync of the directory),
// mode 0640, and holds no secret: only labels, Linode ids, overrides and timestamps.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace agent {

// An instance whose label was chosen and persisted BEFORE its POST /linode/instances, so an
// ambiguous POST can be resolved by listing that label instead of creating a second one.
struct PendingCreate {
  std::string label;
  int64_t requested_at = 0;          // unix seconds
  std::optional<int64_t> linode_id;  // known once the POST answered (or the label was adopted)
  bool operator==(const PendingCreate&) const = default;
};

// A drain that was started (POST to drain.url sent): it survives a restart.
struct PendingDrain {
  std::string bridge;  // MUC nickname == Linode label
  int64_t linode_id = 0;
  int64_t started_at = 0;  // unix seconds
  bool operator==(const PendingDrain&) const = default;
};

struct PersistentState {
  int64_t next_label_number = 1;                  // label = <label_prefix><n>; never reused
  bool paused = false;                            // ctl pause
  std::optional<int> pinned;                      // ctl scale-to N (null: automatic)
  std::optional<int> min_override, max_override;  // ctl set min/max
  std::vector<PendingCreate> creates;
  std::vector<PendingDrain> drains;
  nlohmann::json schedule_events = nlohmann::json::array();  // ctl event add/remove
  double last_scale_action_at = 0;  // unix seconds, for the cooldown across restarts
  // The failed-boot circuit breaker's streak (BootBreaker::to_json), null when there is none:
  // a restart loop cannot reset it.
  nlohmann::json failed_boots = nullptr;
  // What the scaling policy learnt (scaling::Policy::learned_state(): arrivals, drain
  // durations, largest conferences), null when nothing was saved (a file of an older version).
  // Advisory: kept verbatim here, never read as a fact about the fleet. Any JSON value loads
  // (never a corrupt file); the Reconciler checks it before restoring it (learned_state_problem).
  nlohmann::json learned = nullptr;
  bool operator==(const PersistentState&) const = default;
};

// JSON form of the file. from_json throws nlohmann::json::exception or std::invalid_argument
// (with the offending key) on a wrong type or an impossible value; unknown keys are ignored so
// that an older daemon can read a newer file.
void to_json(nlohmann::json& out, const PersistentState& state);
void from_json(const nlohmann::json& in, PersistentState& state);

// The largest `learned` value kept (the policy's is under ~20 kB); a larger one is ignored.
inline constexpr std::size_t kMaxLearnedStateBytes = 256 * 1024;
// Why a `learned` value cannot be restored ("is not a JSON object", "is larger than 256 kB
// (N bytes)"), nullopt when it can (or is null: nothing saved).
std::optional<std::string> learned_state_problem(const nlohmann::json& learned);

// Thrown by StateStore::save and StateLock with one sentence naming the file.
class StateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateStore {
 public:
  explicit StateStore(std::filesystem::path file);

  struct LoadResult {
    PersistentState state;
    // Set when the file existed but could not be used (corrupt or unreadable): one sentence
    // naming the file and where it was moved aside. `state` is then the default state and the
    // daemon rebuilds from what it observes (never a crash loop). Log it as an error.
    std::optional<std::string> error;
  };
  // A missing file is a first start: default state, no error. Never throws.
  LoadResult load() const;

  // Atomic replace; creates the parent directory if needed. Throws StateFileError.
  void save(const PersistentState& state) const;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

// RAII exclusive lock on <state_file>.lock (flock LOCK_EX|LOCK_NB), held for the daemon's
// lifetime. The holder's pid is written into the lock file so the refusal can name it.
class StateLock {
 public:
  // Throws StateFileError "another jvb-autoscaler holds the lock on <file>.lock (pid N)" at
  // once when someone else holds it (does not wait), or naming the file on any other failure.
  explicit StateLock(const std::filesystem::path& state_file);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;

  const std::filesystem::path& lock_file() const { return lock_file_; }

 private:
  std::filesystem::path lock_file_;
  int fd_ = -1;
};

}  // namespace agent
