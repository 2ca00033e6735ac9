#pragma once
// The Fleet: the agent's merged view of every bridge, from three sources (the Linode instance
// list, the brewery's presences, the state file), in the spirit of cluster-autoscaler's
// ClusterStateRegistry (cluster-autoscaler/clusterstate/clusterstate.go).
//
// Pure: no I/O, no clock reads, no logging. Time comes in as parameters; what deserves a log
// line comes back as Notes, which the caller writes out.
//
// Each bridge has ONE lifecycle state (Lifecycle) changed only through Fleet::move(), which
// refuses transitions the table does not allow. Whether the agent may touch the bridge at all
// is the separate `managed` flag (unmanaged bridges are shown as "unmanaged").
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/time_source.h"
#include "linode/client.h"
#include "scaling/policy.h"
#include "xmpp/brewery_client.h"

namespace agent {

// The lifecycle of one bridge (issue 15's list). The agent currently enters provisioning,
// ready, draining, deleting and failed; shutting_down, unhealthy and lost are reserved for the
// graceful-shutdown and health work and already have their place in the transition table.
enum class Lifecycle {
  kProvisioning,  // managed instance that has not joined the brewery (boot clock runs)
  kReady,         // in the brewery and taking conferences (managed or not)
  kDraining,      // drain requested; waiting for it to empty or time out
  kShuttingDown,  // graceful shutdown requested (issue 15)
  kDeleting,      // DELETE sent or about to be
  kFailed,        // being deleted because it never joined within boot_timeout_seconds
  kUnhealthy,     // published healthy = false (issue 15)
  kLost,          // was ready, left the brewery while its instance runs (issue 15)
};
std::string_view to_string(Lifecycle state) noexcept;
// Whether `from` -> `to` is a legal transition (moving to the same state is not).
bool legal_transition(Lifecycle from, Lifecycle to) noexcept;

struct Bridge {
  std::string name;  // MUC nickname == Linode label

  // From the Linode list (or our own create).
  bool managed = false;
  std::optional<int64_t> linode_id;
  std::optional<std::string> private_ip, public_ip;
  std::string linode_status;
  std::optional<WallTime> created_at;  // billing-aware scale-down

  // From the brewery.
  bool in_brewery = false;
  xmpp::BridgeStats stats;
  MonoTime last_update{};

  // Lifecycle.
  Lifecycle state = Lifecycle::kReady;
  Lifecycle state_before_delete = Lifecycle::kReady;  // restored when a DELETE fails
  // kProvisioning: when the boot clock started (nullopt: not started, i.e. not connected).
  std::optional<MonoTime> boot_clock_start;
  // kDraining: when the drain was started, and its request's progress (DESIGN section 5 "A
  // drain counts once it took effect"): a 2xx answer (drain_posted), then a presence saying
  // drain = true (drain_effective, from which the drain timeout runs).
  MonoTime drain_started{};
  bool drain_posted = false;
  MonoTime drain_posted_at{};
  bool drain_effective = false;
  MonoTime drain_effective_at{};
  // Empty: drain = true, 0 participants and 0 conferences on consecutive presences spanning at
  // least one stats interval (the first such presence is empty_since).
  std::optional<MonoTime> empty_since;
  bool drained_empty = false;
  // kLost: since when the bridge (which was ready) is out of the brewery.
  MonoTime lost_since{};
  // kUnhealthy: since when it publishes healthy = false.
  MonoTime unhealthy_since{};
  // kShuttingDown: when the graceful shutdown was asked, and where it came from (restored when
  // the request fails, so that the policy asks again).
  MonoTime shutdown_started{};
  Lifecycle state_before_shutdown = Lifecycle::kDraining;

  // Effects in flight (at most one of each).
  bool create_in_flight = false;
  bool drain_in_flight = false;
  bool delete_in_flight = false;
  bool shutdown_in_flight = false;

  bool draining() const { return state == Lifecycle::kDraining; }
  bool shutting_down() const { return state == Lifecycle::kShuttingDown; }
  bool deleting() const { return state == Lifecycle::kDeleting || state == Lifecycle::kFailed; }
};

// Log lines produced by pure code, written out by the caller.
struct Note {
  enum class Level { kInfo, kWarn } level;
  std::string text;
};
using Notes = std::vector<Note>;

// Freshness and blindness rules, one place each.
struct FleetRules {
  // A bridge's stats count only if its last presence is at most this old.
  MonoClock::duration silence_timeout = std::chrono::seconds(30);
  // How often a bridge publishes its stats: JVB sends its colibri stats presence on a fixed 5 s
  // tick (issue 15), so one presence can be that stale. A drained bridge is empty only when it
  // stays empty across at least this long.
  MonoClock::duration stats_interval = std::chrono::seconds(5);
};

// Why the agent cannot see (and so holds), or nullopt.
struct Visibility {
  bool xmpp_connected = false;
  bool linode_ok = false;
  bool listed_once = false;
  bool linode_error_seen = false;
};
std::optional<std::string> blind_reason(const Visibility& visibility);

class Fleet {
 public:
  explicit Fleet(FleetRules rules = {}) : rules_(rules) {}
  void set_rules(FleetRules rules) { rules_ = rules; }
  const FleetRules& rules() const { return rules_; }

  // ---- the brewery -------------------------------------------------------------------
  // (Re)connected: the boot clock of every instance still waiting to join restarts now.
  void on_connected(MonoTime now);
  // Disconnected: we are blind, not told that bridges left. Unmanaged bridges are forgotten
  // (they exist only through presence); managed ones are re-read after the rejoin.
  void on_disconnected();
  // A bridge joined or published stats.
  void on_presence(const std::string& name, const xmpp::BridgeStats& stats, MonoTime now,
                   Notes& notes);
  void on_left(const std::string& name, MonoTime now, Notes& notes);

  // ---- the Linode list -----------------------------------------------------------------
  // Merges the instances this agent owns (already filtered by BridgePool::owns).
  void merge_instances(const std::vector<linode::Instance>& owned, MonoTime now,
                       bool xmpp_connected, Notes& notes);
  // Managed bridges absent from the list and not pending a create are gone (deleted by us or
  // by hand). Returns their names (their drains are forgotten by the caller).
  std::vector<std::string> drop_vanished(const std::set<std::string>& listed,
                                         const std::set<std::string>& pending, Notes& notes);

  // ---- lifecycle -------------------------------------------------------------------------
  // Changes the state if the table allows it; returns false (nothing changed) otherwise.
  bool move(Bridge& bridge, Lifecycle to);
  // A bridge we are creating (label persisted, POST about to leave).
  Bridge& add_created(const std::string& label, MonoTime now, WallTime wall_now);
  // A drain restored from the state file after a restart (its POST is sent again).
  void restore_drain(const std::string& name, int64_t linode_id, MonoTime started);
  // The bridge behind a label we created (answered POST or adopted).
  void bind_instance(const std::string& label, const linode::Instance& instance);
  // Forgets a bridge that is not in the brewery (a create that never happened).
  void forget_unless_present(const std::string& name);
  void erase(const std::string& name) { bridges_.erase(name); }

  // A bridge deleted after a failed boot stays visible as "failed" for kFailedVisible, so that
  // status and the bridges{state="failed"} metric (alerting) do not miss it.
  static constexpr MonoClock::duration kFailedVisible = std::chrono::minutes(10);
  // Also counts a failed boot in a row (scaling.max_failed_boots suspends creation).
  void remember_failed(const std::string& name, MonoTime now) {
    failed_recently_[name] = now;
    ++consecutive_failed_boots_;
  }
  // Boots in a row that never joined; a managed bridge that joins resets it, and so do a
  // reload and `ctl resume` (reset_failed_boots).
  // Boots being deleted as failed (kFailed) count already.
  int consecutive_failed_boots() const;
  void reset_failed_boots() { consecutive_failed_boots_ = 0; }
  // Recently failed bridges that are no longer in the fleet.
  std::vector<std::string> recent_failures(MonoTime now) const;
  void prune_failures(MonoTime now);

  // ---- reading -------------------------------------------------------------------------
  Bridge* find(const std::string& name);
  const Bridge* find(const std::string& name) const;
  std::map<std::string, Bridge>& bridges() { return bridges_; }
  const std::map<std::string, Bridge>& bridges() const { return bridges_; }
  // Stats count only while the bridge is in the brewery and has spoken recently.
  bool fresh(const Bridge& bridge, MonoTime now) const;
  // The external state name (DESIGN section 3): provisioning, ready, draining, deleting,
  // unmanaged, failed (and the issue-15 names once those states are entered).
  static std::string external_state(const Bridge& bridge);
  // The policy's view: one BridgeView per bridge, in monotonic `policy_seconds`; wall times
  // (created_at) are converted with the pair (now, wall_now).
  std::vector<scaling::BridgeView> views(MonoTime now, WallTime wall_now) const;

 private:
  // Provisioning <-> ready follows presence for bridges in neither drain nor delete.
  void settle(Bridge& bridge);
  void follow_drain(Bridge& bridge, const xmpp::BridgeStats& stats, MonoTime now, Notes& notes);
  void follow_health(Bridge& bridge, const xmpp::BridgeStats& stats, MonoTime now, Notes& notes);

  FleetRules rules_;
  std::map<std::string, Bridge> bridges_;
  std::map<std::string, MonoTime> failed_recently_;  // deleted after a failed boot -> when
  int consecutive_failed_boots_ = 0;
};

}  // namespace agent
