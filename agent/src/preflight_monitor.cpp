#include "agent/preflight_monitor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace agent {

namespace {

std::string describe(const linode::PreflightProblem& problem) {
  return problem.key_path + ": " + problem.sentence;
}

long long whole_seconds(MonoClock::duration duration) {
  return std::chrono::duration_cast<std::chrono::seconds>(duration).count();
}

}  // namespace

PreflightMonitor::PreflightMonitor(boost::asio::io_context& io, const TimeSource& clock,
                                   linode::Client& linode)
    : io_(io), clock_(clock), linode_(linode) {}

PreflightMonitor::~PreflightMonitor() { stop(); }

void PreflightMonitor::stop() { *alive_ = false; }

void PreflightMonitor::start(linode::PreflightRequest request) {
  request_ = std::move(request);
  backoff_ = kFirstRetry;
  ++generation_;  // an answer to an older request is ignored
  in_flight_ = false;
  run();
}

void PreflightMonitor::poll() {
  if (!request_ || in_flight_ || ok() || !*alive_) return;
  if (answered_ && clock_.mono_now() < next_check_) return;
  run();
}

void PreflightMonitor::run() {
  if (!*alive_ || !request_) return;
  in_flight_ = true;
  const int generation = generation_;
  // The answer comes on the client's worker thread (synchronously from a fake): post it onto
  // the loop. `alive` outlives this object, so a late answer finds it gone.
  linode::preflight(linode_, *request_,
                    [this, alive = alive_, generation,
                     &io = io_](std::vector<linode::PreflightProblem> problems) {
                      boost::asio::post(
                          io, [this, alive, generation, problems = std::move(problems)]() mutable {
                            if (*alive) on_answer(generation, std::move(problems));
                          });
                    });
}

void PreflightMonitor::on_answer(int generation, std::vector<linode::PreflightProblem> problems) {
  if (generation != generation_) return;
  in_flight_ = false;
  const bool was_ok = ok();
  const bool first = !answered_;
  answered_ = true;
  problems_ = std::move(problems);
  if (problems_.empty()) {
    backoff_ = kFirstRetry;
    if (!was_ok && !first) {
      spdlog::info("Linode preflight passes again: bridges may be created");
    } else if (first) {
      spdlog::info("Linode preflight passed (region, image, type, firewall, token)");
    }
    logged_.clear();
    return;
  }
  const MonoClock::duration delay = backoff_;
  next_check_ = clock_.mono_now() + delay;
  backoff_ = std::min(backoff_ * 2, kMaxRetry);
  for (const auto& problem : problems_) {
    const std::string text = describe(problem);
    if (!logged_.insert(text).second) continue;  // once per problem
    spdlog::error(
        "Linode preflight: {} (no bridge is created until this is fixed; checking again in {} s)",
        text, whole_seconds(delay));
  }
}

std::optional<std::string> PreflightMonitor::blocking_reason() const {
  if (ok()) return std::nullopt;
  if (!answered_) return "the Linode preflight has not answered yet";
  std::string joined;
  for (const auto& problem : problems_) {
    if (!joined.empty()) joined += "; ";
    joined += describe(problem);
  }
  return "the Linode preflight reports: " + joined;
}

}  // namespace agent
