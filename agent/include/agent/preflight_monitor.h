#pragma once
// The runtime preflight (issue 16): linode::preflight at `run` start and after every config
// reload. While it reports problems (or has not answered yet) no bridge is created; observation,
// drains and deletes go on. Each problem is logged once with its key path; the check is retried
// with exponential backoff (kFirstRetry doubling to kMaxRetry) on the injected clock, from
// poll(), which the Reconciler calls every period.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/time_source.h"
#include "linode/client.h"
#include "linode/preflight.h"

namespace agent {

class PreflightMonitor {
 public:
  static constexpr MonoClock::duration kFirstRetry = std::chrono::seconds(30);
  static constexpr MonoClock::duration kMaxRetry = std::chrono::minutes(10);

  // Answers are posted onto `io` (the Reconciler's loop thread).
  PreflightMonitor(boost::asio::io_context& io, const TimeSource& clock, linode::Client& linode);
  ~PreflightMonitor();
  PreflightMonitor(const PreflightMonitor&) = delete;
  PreflightMonitor& operator=(const PreflightMonitor&) = delete;

  // Checks `request` now (a start or a reload): the backoff starts again from kFirstRetry and
  // any answer to an earlier check is ignored.
  void start(linode::PreflightRequest request);
  // Retries when the last check failed and its backoff has passed.
  void poll();
  // Answers arriving after this change nothing.
  void stop();

  // True once a check answered with no problem (and no later check found one).
  bool ok() const { return answered_ && problems_.empty(); }
  bool answered() const { return answered_; }
  const std::vector<linode::PreflightProblem>& problems() const { return problems_; }
  // Why creates are stopped ("key.path: sentence; ..."), or nullopt when ok().
  std::optional<std::string> blocking_reason() const;
  // The current retry delay (tests).
  MonoClock::duration backoff() const { return backoff_; }

 private:
  void run();
  void on_answer(int generation, std::vector<linode::PreflightProblem> problems);

  boost::asio::io_context& io_;
  const TimeSource& clock_;
  linode::Client& linode_;
  std::optional<linode::PreflightRequest> request_;
  // Shared with the answer handlers: false once stopped or destroyed.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int generation_ = 0;
  bool in_flight_ = false;
  bool answered_ = false;
  std::vector<linode::PreflightProblem> problems_;
  std::set<std::string> logged_;  // "key: sentence" already logged since the last success
  MonoClock::duration backoff_ = kFirstRetry;
  MonoTime next_check_{};
};

}  // namespace agent
