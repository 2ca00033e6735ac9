#include "agent/durable_state.h"

#include <spdlog/spdlog.h>

#include "agent/metrics.h"

namespace agent {

DurableState::DurableState(StateStore store, Metrics* metrics)
    : store_(std::move(store)), metrics_(metrics) {
  if (metrics_) metrics_->set_state_file_ok(true);
}

void DurableState::load() {
  auto loaded = store_.load();
  if (loaded.error) spdlog::error("{}", *loaded.error);
  state_ = std::move(loaded.state);
}

bool DurableState::save() {
  if (before_save_) before_save_(state_);
  try {
    store_.save(state_);
  } catch (const std::exception& e) {
    const std::string sentence = e.what();
    if (error_ != sentence) {
      // Once per distinct failure, not once per period.
      spdlog::error(
          "cannot save state: {} (no bridge is created or drained until it can be saved; "
          "retrying every period)",
          sentence);
    }
    error_ = sentence;
    if (metrics_) {
      metrics_->set_state_file_ok(false);
      metrics_->count_state_file_write_failure();
    }
    return false;
  }
  if (error_) spdlog::info("state file {} is writable again", store_.file().string());
  error_.reset();
  if (metrics_) metrics_->set_state_file_ok(true);
  return true;
}

bool DurableState::retry_if_unsaved() {
  if (!error_) return true;
  return save();
}

}  // namespace agent
