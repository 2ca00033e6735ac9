#pragma once
// The scaling policy: a pure function of (snapshot, effective config, remembered state).
// No I/O, no threads, no clock reads: `Snapshot::now` is the time.
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaling/config.h"
#include "scaling/predictor.h"
#include "scaling/recommender.h"

namespace scaling {

// Lifecycle of one bridge as the agent sees it (DESIGN section 5 "Scale-down and the bridge
// lifecycle", "Health"; issue 15). Whether the agent may drain/delete it is the separate
// `managed` flag: an unmanaged bridge is shown as "unmanaged" by the agent but has one of these
// states here. Only kReady and kProvisioning are capacity.
enum class BridgeState {
  kProvisioning,  // instance created, bridge not (yet) in the brewery; capacity at zero stress
  kReady,         // in the brewery, healthy, takes new conferences
  kDraining,      // drain set (by this agent, or by anyone: see BridgeView::foreign_drain)
  kShuttingDown,  // graceful shutdown asked (or published shutting_down/graceful_shutdown)
  kDeleting,      // DELETE sent, instance on its way out
  kFailed,        // never joined within boot_timeout_seconds
  kUnhealthy,     // publishes healthy = false: takes no new conference
  kLost,          // was ready, left the brewery while its instance still runs
};
// lower_snake names: "provisioning", "ready", "draining", "shutting_down", "deleting",
// "failed", "unhealthy", "lost" (metric label values and `ctl status`).
std::string_view to_string(BridgeState state) noexcept;

// Why an action is taken, as a short fixed code. to_string() gives the metric label value of
// `scaling_actions_total{action,reason}` (lower_snake, never free text).
enum class Reason {
  kStressHigh,    // "stress_high": the load asks for more bridges (threshold or target)
  kStressLow,     // "stress_low": the load asks for fewer bridges
  kBelowMin,      // "below_min": fewer bridges than min_bridges (a schedule may raise it)
  kAboveMax,      // "above_max": more bridges than max_bridges (lowered max)
  kPinned,        // "pinned": ctl scale-to
  kOperator,      // "manual": ctl drain BRIDGE
  kReplacement,   // "replacement": created before the last ready bridge drains, or for an
                  //   unhealthy/lost one
  kDrainedEmpty,  // "drained": a drained bridge reported itself empty
  kDrainTimeout,  // "drain_timeout": drain_timeout_seconds passed with participants on it
  kLeftBrewery,   // "left_brewery": a bridge that was shut down has left the brewery
  kBootTimeout,   // "boot_timeout": never joined within boot_timeout_seconds (failed boot)
  kUnhealthy,     // "unhealthy": unhealthy past unhealthy_timeout_seconds
  kLost,          // "lost": out of the brewery past unhealthy_timeout_seconds
};
std::string_view to_string(Reason reason) noexcept;

// What one decision amounts to, for logs, `ctl status` and the decision history.
enum class Action { kNone, kScaleUp, kScaleDown, kHold, kPinned, kPaused, kDrain, kRemove };
// "none", "scale_up", "scale_down", "hold", "pinned", "paused", "drain", "remove".
std::string_view to_string(Action action) noexcept;

struct BridgeView {
  std::string name;  // MUC nickname == Linode label
  BridgeState state = BridgeState::kReady;
  bool managed = false;  // created by this agent: may be drained/deleted
  // Stress is all a decision needs; nullopt: unknown (missing/malformed/stale stats).
  std::optional<double> stress;
  // Optional refinement (victim choice, drain completion); nullopt: not published (JVB's
  // stats filter) or unknown. A bridge with stress but no participants counts by its stress.
  std::optional<int> participants;
  // When the current state began (seconds, Snapshot::now's epoch):
  //   kProvisioning: when the boot clock started (create, or first seen while connected);
  //   kDraining: when the drain took effect (2xx and a presence with drain = true; the caller
  //     may use the request time until then); the drain timeout runs from here;
  //   kShuttingDown: when the graceful shutdown was asked;
  //   kUnhealthy: since when it publishes healthy = false;
  //   kLost: since when it is out of the brewery.
  double state_since = 0;
  // kDraining / kShuttingDown: the bridge reported itself empty: a presence with drain = true
  // and 0 participants and 0 conferences, twice, at least one stats interval apart (DESIGN §5).
  // Only then may an instance whose bridge is still in the brewery be deleted.
  bool drained_empty = false;
  // The bridge is an occupant of the brewery now (fresh presence). An instance is never
  // deleted while its bridge is in the brewery with participants; a kShuttingDown bridge that
  // has left is deleted. Meaningless for kProvisioning/kLost (they are out by definition).
  bool in_brewery = true;
  // kDraining/kShuttingDown: the bridge published drain (or graceful_shutdown) but this agent
  // did not ask for it (an operator did): not capacity, but never undrained, shut down or
  // deleted by the policy.
  bool foreign_drain = false;
  // When the instance was created (Linode `created`), for billing-aware scale-down;
  // nullopt: unknown (scale-down then does not wait for the paid hour).
  std::optional<double> created_at;
  // Seconds since the oldest / the newest conference on this bridge started (the simulator
  // knows them; the agent does not yet). Optional refinement of the victim choice
  // (ScalingConfig::drain_by_age): older conferences end sooner.
  std::optional<double> oldest_conference_age;
  std::optional<double> newest_conference_age;
  // Participants of the largest conference on this bridge (JVB's `largest_conference` stat,
  // jitsi-videobridge doc/statistics.md); nullopt: not published. Read by
  // ScalingConfig::learn_largest_conference.
  std::optional<int> largest_conference;
};

struct Overrides {
  bool paused = false;                      // no create, no new drain
  std::optional<int> pinned;                // ctl scale-to N
  std::vector<std::string> drain_requests;  // ctl drain BRIDGE (not yet started)
};

struct Snapshot {
  double now = 0;      // seconds, any fixed epoch
  bool blind = false;  // brewery down or Linode listing failing: never drain/delete
  std::vector<BridgeView> bridges;
  Overrides overrides;
  // Consecutive boots that never joined the brewery (the caller resets it when a bridge joins,
  // on a config reload and on `ctl resume`). At scaling.max_failed_boots creation is suspended.
  int failed_boots = 0;
  // The caller carries out Decision::undrains (POST drain.disable_url). Until it does, the
  // policy never asks for an undrain and creates instead (the old behaviour).
  bool can_undrain = false;
};

// `count` instances to create now, for `reason`.
struct CreateAction {
  int count = 0;
  Reason reason = Reason::kStressHigh;
  friend bool operator==(const CreateAction&, const CreateAction&) = default;
};

// One action on one named bridge.
struct BridgeAction {
  std::string bridge;
  Reason reason = Reason::kStressLow;
  friend bool operator==(const BridgeAction&, const BridgeAction&) = default;
};

struct Decision {
  Action outcome = Action::kNone;
  int desired = 0;                       // desired count of non-draining bridges after clamping
  std::optional<double> cluster_stress;  // Σ stress(ready) / (ready + provisioning)
  std::vector<CreateAction> creates;     // instances to create now
  std::vector<BridgeAction> drains;      // start draining (POST drain.url)
  std::vector<BridgeAction> undrains;    // undo our drain (POST drain.disable_url)
  // Graceful shutdown of a bridge still in the brewery with participants (POST
  // drain.shutdown_url, or shut the instance down through the Linode API). Never a delete.
  std::vector<BridgeAction> shutdowns;
  // Delete the instance: its bridge reported itself empty, left the brewery, never joined
  // (reason kBootTimeout: a failed boot) or was never in it.
  std::vector<BridgeAction> deletes;
  // The parts of the explanation, the load's verdict first (see explain()).
  std::vector<std::string> notes;

  int create_count() const noexcept;  // Σ creates[i].count

  // ---- Deprecated: derived from the typed lists above for callers not yet migrated. -------
  // Filled by Policy::decide; do not use in new code (they go once the agent has moved over).
  int create = 0;                   // deprecated: create_count()
  std::vector<std::string> drain;   // deprecated: names in `drains`
  std::vector<std::string> remove;  // deprecated: names in `deletes` then `shutdowns`
  std::vector<std::string> failed;  // deprecated: `deletes` with reason kBootTimeout
  std::string action = "none";      // deprecated: to_string(outcome)
  std::string reason;               // deprecated: explain(*this)
};

// The one-sentence explanation of a decision for logs and `ctl status` (pure).
std::string explain(const Decision& decision);

// The decision engine: a short sequence of small pure stages (policy.cpp) — cleanup of the
// lifecycle (drained, timed-out drains, shut-down, failed boots, unhealthy/lost), operator
// requests, the load's recommendation (threshold or target recommender), bounds
// (pin, replacement, min/max), then acting on the difference (undrain before create; drain
// victims). It holds only what must be remembered between periods (the recommenders' streaks
// and window, the last action time for the cooldown, the trend's samples). The caller calls
// decide() once per `period_seconds`.
//
// Rules (DESIGN section 5): only ready and provisioning bridges are capacity (provisioning at
// zero stress); draining, shutting-down, unhealthy and lost ones never count; min/desired count
// ready + provisioning bridges, max caps every existing bridge; the scale-down victim is the
// managed ready bridge with the fewest participants (bridges without participants after those,
// by stress; ties: the smallest name); the last ready bridge is never drained; unmanaged
// bridges and foreign drains are never drained, undrained, shut down or deleted; snapshot.blind
// holds everything; a ready bridge with unknown stress blocks scale-down (load-driven or
// pinned), but cleanup still happens because that is decided from what the agent does see.
// An instance whose bridge is in the brewery with participants is never deleted: a drain
// that times out asks for a graceful shutdown, and the delete follows once the bridge has left
// the brewery or reported itself empty.
class Policy {
 public:
  Decision decide(const Snapshot& snapshot, const EffectiveConfig& effective);

  // Forget everything remembered (e.g. after the operator changed the policy kind). What was
  // learnt (arrivals, drain durations) is kept: see learned_state().
  void reset() noexcept;

  // What the levers learnt (arrival pattern, drain durations): bounded JSON for the state file,
  // so that a restarted agent keeps its week of history. restore ignores malformed state.
  nlohmann::json learned_state() const;
  void restore_learned_state(const nlohmann::json& state);

 private:
  Recommender& recommender(PolicyKind kind) noexcept;
  double project(double now, double stress_sum, bool enabled, const ScalingConfig& config);

  ThresholdRecommender threshold_;
  TargetRecommender target_;
  std::optional<double> last_action_time_;
  struct LoadSample {
    double time;
    double stress_sum;
  };
  std::deque<LoadSample> load_samples_;  // Σ stress of ready bridges, for the trend
  // Levers (issue 17).
  void learn(const Snapshot& snapshot, const ScalingConfig& config);
  ArrivalPredictor arrivals_;
  DrainDurations drain_durations_;
  std::vector<std::string> last_names_;  // the previous snapshot's bridges, in its order
  std::vector<double> last_stress_;      // their stress (< 0: not carrying or unknown)
  std::vector<std::pair<std::string, double>> draining_since_;  // our drains in progress
  LargestConference largest_conference_;
};

}  // namespace scaling
