#pragma once
// Prometheus metrics of DESIGN section 6 (prefix jvb_autoscaler_), served over HTTP by
// prometheus-cpp on `metrics.listen`. Every setter is thread-safe: Linode observations come
// from the curl worker thread, the rest from the Asio loop.
//
// Label values are never free text: actions and reasons are fixed codes (enums below), HTTP
// methods are normalised, and any label value containing a configured secret is replaced by
// "redacted" (defence in depth: the token must never reach a scrape).
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "jvb/version.h"
#include "scaling/policy.h"

namespace agent {

class MetricsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MetricsOptions {
  // host:port; port 0 picks a free port (tests); empty: no HTTP server, text() only
  // (in-process tests).
  std::string listen = "127.0.0.1:9464";
  std::string version = JVB_VERSION;  // build_info{version}
  std::vector<std::string> secrets;   // e.g. the Linode token, the XMPP password
};

// What was done, for scaling_actions_total{action,reason}. The reason of a create, drain,
// shutdown or delete is the policy's scaling::Reason (its codes live in scaling/); an adoption
// has its own reasons (AdoptReason), which only the agent knows.
enum class ScalingAction { kCreate, kDrain, kUndrain, kShutdown, kDelete, kAdopt };
enum class AdoptReason {
  kAmbiguousCreate,  // found by label after an ambiguous POST
  kFoundByTag,       // an instance with our tags and prefix we did not know
};
std::string_view to_string(ScalingAction action) noexcept;
std::string_view to_string(AdoptReason reason) noexcept;

// The bridge states of DESIGN section 3; every one is always exported (0 when none).
inline constexpr std::string_view kBridgeStates[] = {"provisioning",  "ready",     "draining",
                                                     "shutting_down", "deleting",  "unmanaged",
                                                     "failed",        "unhealthy", "lost"};

struct BridgeSample {
  std::string name;                 // MUC nickname
  std::string state;                // one of kBridgeStates (others are ignored, logged once)
  std::optional<double> stress;     // unknown: no bridge_stress series for it
  std::optional<int> participants;  // unknown: no bridge_participants series for it
};

class Metrics {
 public:
  // Starts the HTTP exposer at once. Throws MetricsError naming the address on failure
  // (bad "host:port", port in use).
  explicit Metrics(const MetricsOptions& options);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The port actually bound (useful with port 0).
  uint16_t port() const;

  // The exposition text a scrape would return (no HTTP), for tests and debugging.
  std::string text() const;

  // Replaces the whole bridge view: bridges{state} counts, bridge_stress{bridge} and
  // bridge_participants{bridge}; series of bridges absent from `bridges` are removed.
  void set_bridges(const std::vector<BridgeSample>& bridges);

  void set_cluster_stress(std::optional<double> stress);  // nullopt: series absent
  void set_desired(int desired);
  void set_bounds(int min_bridges, int max_bridges);
  void set_paused(bool paused);
  void set_override(std::optional<int> pinned);  // override_active 1 while pinned
  void set_blind(bool blind);                    // 1 while holding because it cannot see
  void set_xmpp_connected(bool connected);
  void count_xmpp_reconnect();
  void count_scaling_action(ScalingAction action, scaling::Reason reason);
  void count_adoption(AdoptReason reason);
  // status: the HTTP status code, or 0 for a transport error (label status="error").
  void observe_linode_request(std::string_view method, int status, double seconds);
  void observe_decision_duration(double seconds);
  // The schedule's effect now: scheduled min_bridges (nullopt: no window active, series
  // absent) and the active window name (empty: none; schedule_active{window} is removed).
  void set_schedule(std::optional<int> schedule_min_bridges, const std::string& window);
  // state_file_ok: 1 while the last write of the state file succeeded, 0 while it fails;
  // state_file_write_failures_total counts the failed writes.
  void set_state_file_ok(bool ok);
  void count_state_file_write_failure();
  // drain_timeouts_total: drains that reached their timeout and forced a shutdown.
  void count_drain_timeout();
  // consecutive_failed_boots and creation_suspended (scaling.max_failed_boots).
  void set_failed_boots(int consecutive, bool suspended);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace agent
