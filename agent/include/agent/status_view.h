#pragma once
// The agent's read model: one StatusView, built once per request or period by the Reconciler,
// feeds both `ctl status` (status_json, the JSON contract of DESIGN section 3) and the
// Prometheus metrics (publish), so the two can never disagree.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/metrics.h"
#include "agent/time_source.h"

namespace agent {

struct BridgeRow {
  std::string name;
  std::string state;  // external name (Fleet::external_state), or "failed"
  // Only while the bridge's stats are fresh; unknown otherwise.
  std::optional<double> stress;
  std::optional<int64_t> participants;
  std::optional<int64_t> conferences;
  bool managed = false;
  std::optional<std::string> private_ip;
  std::optional<int64_t> linode_id;
};

struct DecisionRow {
  WallTime time;
  std::string action;
  std::string reason;
};

struct StatusView {
  bool paused = false;
  std::optional<int> override_count;  // the pinned count, clamped to the bounds
  int min = 0;
  int max = 0;
  int desired = 0;
  std::optional<double> cluster_stress;
  bool xmpp_connected = false;
  bool linode_ok = false;
  std::optional<std::string> blind_reason;
  bool dry_run = false;
  bool state_file_ok = true;
  std::optional<std::string> state_file_error;  // the last failed write, while it fails
  int consecutive_failed_boots = 0;
  bool creation_suspended = false;  // scaling.max_failed_boots reached
  nlohmann::json schedule;          // schedule::Schedule::status_json
  std::optional<int> schedule_min;  // min_bridges of the active window, nullopt when none
  std::string window;               // the active window's name, "" when none
  std::vector<DecisionRow> decisions;
  std::vector<BridgeRow> bridges;
};

// The `ctl status --json` reply.
nlohmann::json status_json(const StatusView& view);
// Writes every gauge that mirrors the view.
void publish(const StatusView& view, Metrics& metrics);

}  // namespace agent
