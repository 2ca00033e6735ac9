#pragma once
// The daemon (`jvb-autoscaler run`): one Boost.Asio event loop into which the brewery client
// (its own thread) and the Linode client (its own thread) post their results. Every
// `period_seconds` it observes (brewery + Linode list by tag + state file), decides
// (scaling::Policy) and acts (create / drain / delete), level-triggered so that it converges
// from any starting state.
#include <memory>
#include <string>

#include "agent/commands.h"
#include "agent/config.h"

namespace agent {

class Daemon {
 public:
  Daemon(Config config, RunOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGTERM/SIGINT. Returns the exit code (0 after a clean shutdown, 1 when the
  // daemon could not start, e.g. the state file is locked by another daemon).
  int run();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace agent
