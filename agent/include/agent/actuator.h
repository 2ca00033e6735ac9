#pragma once
// Actuator: carries out a scaling::Decision through the BridgePool (create, delete) and the
// bridges' REST API (drain), like cluster-autoscaler's scale-up orchestrator and scale-down
// actuator (cluster-autoscaler/core/scaleup/orchestrator, core/scaledown/actuation).
//
// The rule it keeps: nothing leaves the process before the state it depends on is durably
// saved. A create POSTs only after its label is in the state file, a drain POSTs only after the
// drain is recorded there; when the file cannot be written the create or drain does not happen
// (the decision repeats it next period, once the file is writable again).
#include <map>
#include <optional>
#include <set>
#include <string>

#include "agent/bridge_pool.h"
#include "agent/durable_state.h"
#include "agent/fleet.h"
#include "agent/http_post.h"
#include "agent/metrics.h"
#include "agent/time_source.h"
#include "scaling/policy.h"

namespace agent {

class Actuator {
 public:
  struct Deps {
    const Config& config;
    Fleet& fleet;
    BridgePool& pool;
    DrainClient& drains;
    DurableState& state;
    const TimeSource& clock;
    Metrics* metrics = nullptr;            // may be null
    std::set<std::string>& manual_drains;  // ctl drain requests not yet started
  };
  Actuator(Deps deps, bool dry_run) : d_(deps), dry_run_(dry_run) {}

  // Carries out `decision` (its typed lists: creates, drains, shutdowns, deletes) unless the
  // agent is blind (then it only says that it holds) or in a dry run (then it only says what it
  // would do).
  void act(const scaling::Decision& decision, const std::optional<std::string>& blind_reason);
  // Sends the drain request again to draining bridges whose request was not accepted yet.
  void retry_unfinished_drains();

  // Each returns false when it did nothing (see the log line).
  bool create(scaling::Reason reason);
  bool start_drain(const std::string& name, scaling::Reason reason);
  void remove(Bridge& bridge, scaling::Reason reason);
  // Graceful shutdown: POST drain.shutdown_url {"graceful-shutdown": true}, or (null, or when
  // that fails) the Linode API's ACPI shutdown. JVB stops, Jicofo moves its participants, the
  // bridge leaves the brewery; the delete follows once it has left or reported itself empty.
  void shut_down(Bridge& bridge, scaling::Reason reason);
  // Undoes our drain (POST drain.disable_url) when load returns: a bridge back in service is
  // instant and its hour is already paid (DESIGN section 5 "Undrain before create").
  void undrain(Bridge& bridge, scaling::Reason reason);

  // After stop() no answer changes anything (the daemon is shutting down).
  void stop() { stopping_ = true; }
  bool dry_run() const { return dry_run_; }

 private:
  void on_created(const std::string& label, const linode::Result<linode::Instance>& result);
  void on_label_lookup(const std::string& label,
                       const linode::Result<std::vector<linode::Instance>>& result);
  void bind(const std::string& label, const linode::Instance& instance);
  void drop_pending(const std::string& label);
  void post_drain(Bridge& bridge);
  std::string drain_url(const Bridge& bridge) const;
  // Fills {label}, {private_ip}, {public_ip}, {linode_id} (DESIGN section 4).
  static std::string fill_url(const std::string& pattern, const Bridge& bridge);
  void shut_down_instance(const std::string& name);
  void count(ScalingAction action, scaling::Reason reason) {
    if (d_.metrics) d_.metrics->count_scaling_action(action, reason);
  }

  Deps d_;
  bool dry_run_;
  bool stopping_ = false;
  bool suspension_logged_ = false;
};

}  // namespace agent
