#pragma once
// The failed-boot circuit breaker (issue 16, DESIGN section 4 `scaling.max_failed_boots`): after
// that many boots in a row that never joined the brewery (each one deleted with reason
// boot_timeout, and billed at least an hour), creation is suspended until a managed bridge
// joins, the configuration is reloaded or `ctl resume`. It is persisted in the state file, so a
// restart loop cannot keep buying bridges that never work.
//
// Pure: no I/O, no clock reads. The Reconciler feeds it and saves it.
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/time_source.h"

namespace agent {

struct FailedBoot {
  std::string label;
  WallTime at;
};

class BootBreaker {
 public:
  // `max_failed` = scaling.max_failed_boots; 0 disables the breaker.
  explicit BootBreaker(int max_failed = 3) : max_(max_failed) {}
  void set_max(int max_failed) { max_ = max_failed; }
  int max() const { return max_; }

  // A boot that never joined (its instance is being deleted with reason boot_timeout). The
  // same label counts once per streak (a DELETE that failed and is retried is not a second
  // boot). Returns whether it counted.
  bool on_failed(const std::string& label, WallTime at);
  // A managed bridge joined, a reload or `ctl resume`: the streak ends.
  void reset();

  int count() const { return count_; }
  bool suspended() const { return max_ > 0 && count_ >= max_; }
  // One sentence naming the last failures and since when, while suspended; nullopt otherwise.
  std::optional<std::string> sentence() const;

  // The state file's "failed_boots" value (null when there is no streak), and back. A value of
  // the wrong shape is ignored (a fresh breaker).
  nlohmann::json to_json() const;
  void from_json(const nlohmann::json& value);

  // How many failures of the streak are kept by name.
  static constexpr std::size_t kNamed = 5;

 private:
  int max_;
  int count_ = 0;
  std::optional<WallTime> since_;  // the first failure of the streak
  std::deque<FailedBoot> last_;    // the most recent failures, oldest first
};

}  // namespace agent
