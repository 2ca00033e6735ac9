#pragma once
// The Reconciler: one period of the agent, readable as one straight path (Reconciler::period):
//
//   observe  - the Linode list merged into the Fleet (brewery events arrive between periods)
//   bounds   - min/max from the config, ctl overrides and the schedule at this instant
//   decide   - scaling::Policy on the Fleet's views (pure)
//   act      - the Actuator carries the decision out (nothing before the state file is saved)
//   publish  - one StatusView for the metrics (and for `ctl status` on request)
//
// It runs on one io_context thread; the Linode client's answers and the brewery's events are
// posted onto that thread. Time comes from an injected TimeSource, the cloud from a
// linode::Client, the bridges' REST API from a DrainClient: tests drive all three in-process.
#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "agent/actuator.h"
#include "agent/boot_breaker.h"
#include "agent/bridge_pool.h"
#include "agent/config.h"
#include "agent/durable_state.h"
#include "agent/fleet.h"
#include "agent/http_post.h"
#include "agent/metrics.h"
#include "agent/preflight_monitor.h"
#include "agent/status_view.h"
#include "agent/time_source.h"
#include "linode/client.h"
#include "scaling/policy.h"
#include "schedule/schedule.h"
#include "xmpp/brewery_client.h"
#include "xmpp/stats_filter.h"

namespace agent {

class Reconciler {
 public:
  struct Deps {
    boost::asio::io_context& io;
    const TimeSource& clock;
    linode::Client& linode;
    DrainClient& drains;
    Metrics* metrics = nullptr;                  // may be null
    std::function<std::string()> nickname = {};  // the brewery nickname, for a log line
  };
  // What the policy learnt changes every period; it is written with every save that happens
  // anyway and on its own at most this often (and at a clean shutdown, through save()).
  static constexpr std::chrono::seconds kLearnedSaveInterval{300};

  Reconciler(Config config, bool dry_run, Deps deps);
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // Reads the state file and the schedule and resumes the recorded drains. Returns false when
  // the configured schedule has errors (they are logged).
  bool start();
  // Every brewery event, on the loop thread.
  void on_brewery_event(const xmpp::Event& event);
  // Starts a period: lists the instances; the answer runs the rest of the period.
  void tick();
  // Called when something (a ctl command) wants a period now; default: post tick() on the loop.
  void set_tick_request(std::function<void()> request) { request_tick_ = std::move(request); }
  // The current period length (the schedule may change it).
  MonoClock::duration period_length() const;
  // Shutdown: answers arriving after this change nothing.
  void stop();
  // Writes the state file (clean shutdown), with what the policy learnt. Returns false when it
  // could not be written.
  bool save() { return state_.save(); }
  // SIGHUP with a valid configuration: scaling, drain, Linode create settings and schedule.
  void reload(const Config& fresh);
  std::string describe_bounds() const;

  // ---- the read model ------------------------------------------------------------------
  StatusView status_view(bool with_schedule = true) const;

  // ---- ctl operations (each persists; errors are one sentence) ---------------------------
  void set_paused(bool paused);
  struct Pin {
    int requested, clamped, min, max;
  };
  Pin pin(int requested);
  int unpin();  // returns the last desired count
  std::optional<std::string> request_drain(const std::string& bridge);
  struct Bounds {
    int min, max;
  };
  // key "min" or "max"; n in 0..10000.
  std::variant<Bounds, std::string> set_bound(const std::string& key, int n);
  nlohmann::json schedule_status(std::size_t count) const;
  std::variant<schedule::Event, std::string> add_event(const nlohmann::json& event);
  std::optional<std::string> remove_event(const std::string& name);

  // ---- for tests -----------------------------------------------------------------------
  const Fleet& fleet() const { return fleet_; }
  const DurableState& state() const { return state_; }
  const scaling::Decision& last_decision() const { return last_decision_; }
  const scaling::Policy& policy() const { return policy_; }
  const BootBreaker& breaker() const { return breaker_; }
  const PreflightMonitor& preflight() const { return preflight_; }

 private:
  void period(linode::Result<std::vector<linode::Instance>> listed);
  void observe(const linode::Result<std::vector<linode::Instance>>& listed);
  scaling::EffectiveConfig bounds(WallTime now) const;
  scaling::Snapshot snapshot(MonoTime now, WallTime wall_now) const;
  void record(const scaling::Decision& decision);
  void publish();
  bool load_schedule();
  void write_notes(const Notes& notes) const;
  Visibility visibility() const;
  std::optional<int> pinned_clamped() const;
  void request_tick();
  // Issue 16: the failed-boot breaker (persisted) and the runtime preflight gate creates.
  void on_failed_boot(const std::string& label);
  void sync_breaker();  // a managed bridge joined: the streak ends
  void reset_breaker(const char* why);
  std::optional<std::string> creation_blocked() const;
  // Issue 17: what the policy learnt, restored from the state file at start-up and written
  // with every save, plus on its own at most every kLearnedSaveInterval.
  void restore_learned();
  void save_learned_if_due(MonoTime now);

  Config config_;
  Deps deps_;
  DurableState state_;
  BootBreaker breaker_;
  int boots_joined_seen_ = 0;
  PreflightMonitor preflight_;
  std::optional<schedule::Schedule> schedule_;
  Fleet fleet_;
  BridgePool pool_;
  std::set<std::string> manual_drains_;  // ctl drain, handed to the policy each period
  xmpp::MissingParticipantsDetector missing_participants_;  // JVB's stats filter, warned once
  Actuator actuator_;
  scaling::Policy policy_;
  // The policy's epoch: monotonic time anchored on the wall clock at construction
  // (policy_seconds(mono) + policy_epoch_ ~ Unix seconds). Monotonic within a run, aligned on
  // the calendar (the arrival predictor's half hours and week) and comparable across restarts
  // and reboots, so that the learnt state restored from the state file keeps its meaning.
  double policy_epoch_ = 0;
  MonoTime learned_saved_at_{};  // the last save that carried the learnt state
  bool learned_too_large_logged_ = false;
  scaling::EffectiveConfig effective_;
  scaling::Decision last_decision_;
  std::deque<DecisionRow> decisions_;
  std::string last_logged_reason_;
  std::string last_recorded_action_;
  std::function<void()> request_tick_;
  bool stopping_ = false;
  bool list_in_flight_ = false;
  bool xmpp_connected_ = false;
  bool ever_connected_ = false;
  bool linode_ok_ = false;
  bool listed_once_ = false;
  std::string linode_error_;
};

}  // namespace agent
