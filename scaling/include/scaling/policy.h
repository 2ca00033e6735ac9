#pragma once
// The scaling policy: a pure function of (snapshot, effective config, remembered state).
// No I/O, no threads, no clock reads: `Snapshot::now` is the time.
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaling/config.h"

namespace scaling {

// Lifecycle of one bridge as the agent sees it (DESIGN section 3). Whether the agent may
// drain/delete it is the separate `managed` flag: an unmanaged bridge is shown as
// "unmanaged" by the agent but is kReady/kDraining here.
enum class BridgeState { kProvisioning, kReady, kDraining, kDeleting, kFailed };
std::string_view to_string(BridgeState state) noexcept;

struct BridgeView {
  std::string name;  // MUC nickname == Linode label
  BridgeState state = BridgeState::kReady;
  bool managed = false;             // created by this agent: may be drained/deleted
  std::optional<double> stress;     // nullopt: unknown (missing/malformed/stale stats)
  std::optional<int> participants;  // nullopt: unknown
  // kProvisioning: when the boot clock started (create, or first seen while connected).
  // kDraining: when the drain request was sent.
  double state_since = 0;
  // kDraining: a presence received after the drain request reported 0 participants.
  bool drained_empty = false;
  // When the instance was created (Linode `created`), for billing-aware scale-down;
  // nullopt: unknown (scale-down then does not wait for the paid hour).
  std::optional<double> created_at;
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
};

struct Decision {
  int desired = 0;                  // desired count of non-draining bridges after clamping
  int create = 0;                   // instances to create now
  std::vector<std::string> drain;   // bridges to start draining now
  std::vector<std::string> remove;  // bridges to delete now (drained, drain timeout, boot failed)
  std::vector<std::string> failed;  // subset of remove: did not join within boot_timeout
  std::optional<double> cluster_stress;  // Σ stress(ready) / (ready + provisioning)
  std::string action = "none";           // none | scale_up | scale_down | hold | pinned | ...
  std::string reason;                    // one human sentence for logs and status
};

// The target policy treats a mean stress within ±10 % of target_stress as "on target" (no
// change), so that small fluctuations do not flap the fleet (HPA's default tolerance).
inline constexpr double kTargetTolerance = 0.1;

// The decision engine. Holds only what a policy must remember between periods (consecutive
// periods above/below the thresholds, the last action time for the cooldown, and the target
// policy's recent recommendations). The caller calls decide() once per `period_seconds`.
//
// Rules (DESIGN section 5): provisioning bridges count as capacity at zero stress, draining
// ones never count; min/desired count non-draining bridges, max caps every existing bridge;
// the scale-down victim is the managed ready bridge with the fewest participants (ties: the
// smallest name); the last ready bridge is never drained; unmanaged bridges are never drained
// or deleted; snapshot.blind holds everything (no create, drain or delete); a ready bridge with
// unknown stats blocks scale-down (load-driven or pinned), but drained or timed-out drains and
// failed boots are still removed because that is decided from what the agent does see.
class Policy {
 public:
  Decision decide(const Snapshot& snapshot, const EffectiveConfig& effective);

  // Forget everything remembered (e.g. after the operator changed the policy kind).
  void reset() noexcept;

 private:
  struct Recommendation {
    double time;
    int count;
  };
  int periods_above_ = 0;
  int periods_below_ = 0;
  std::optional<double> last_action_time_;
  std::deque<Recommendation> recommendations_;  // target policy: stabilisation window
  struct LoadSample {
    double time;
    double stress_sum;
  };
  std::deque<LoadSample> load_samples_;  // Σ stress of ready bridges, for the trend
};

}  // namespace scaling
