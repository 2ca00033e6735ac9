#pragma once
// The state file as the running agent uses it: the in-memory PersistentState plus whether the
// last write reached the disk (DESIGN section 5 "State file", "Idempotent create").
//
// Nothing that depends on the file may leave the process before save() returned true: a create
// POSTs only after its label is on disk, a drain POSTs only after the drain is recorded. A failed
// write is logged once (file and reason), shown in `ctl status` (state_file_error) and in the
// metrics (state_file_ok, state_file_write_failures_total), and retried every period by
// retry_if_unsaved(); the first successful write logs the recovery.
#include <functional>
#include <optional>
#include <string>

#include "agent/state_store.h"

namespace agent {

class Metrics;

class DurableState {
 public:
  // `metrics` may be null.
  DurableState(StateStore store, Metrics* metrics);

  PersistentState& data() { return state_; }
  const PersistentState& data() const { return state_; }
  const std::filesystem::path& file() const { return store_.file(); }

  // Reads the file (see StateStore::load; a corrupt file is moved aside and logged).
  void load();

  // Called before every write to fill derived parts (e.g. the schedule's runtime events).
  void set_before_save(std::function<void(PersistentState&)> hook) {
    before_save_ = std::move(hook);
  }

  // Writes the whole state atomically. Returns false when it did not reach the disk.
  bool save();
  // Writes again if the last write failed (once per period). Returns ok().
  bool retry_if_unsaved();

  bool ok() const { return !error_; }
  // The sentence of the last failed write (file and reason), nullopt while writes succeed.
  const std::optional<std::string>& error() const { return error_; }

 private:
  StateStore store_;
  Metrics* metrics_;
  PersistentState state_;
  std::function<void(PersistentState&)> before_save_;
  std::optional<std::string> error_;
};

}  // namespace agent
