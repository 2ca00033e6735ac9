#include "agent/daemon.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "agent/brewery_settings.h"
#include "agent/control_server.h"
#include "agent/http_post.h"
#include "agent/metrics.h"
#include "agent/state_store.h"
#include "linode/client.h"
#include "scaling/policy.h"
#include "schedule/schedule.h"
#include "xmpp/brewery_client.h"

namespace agent {

namespace {

using Clock = std::chrono::system_clock;
using nlohmann::json;

// How long a bridge deleted after a failed boot is still listed as "failed".
constexpr double kFailedVisibleSeconds = 600;

double unix_now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

std::string iso_time(double unix_seconds) {
  const auto point = Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(unix_seconds)));
  return schedule::format_utc(point);
}

Clock::time_point to_time_point(double unix_seconds) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(unix_seconds)));
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The number n of a label "<prefix><n>", or nullopt.
std::optional<int64_t> label_number(const std::string& label, const std::string& prefix) {
  if (label.rfind(prefix, 0) != 0 || label.size() == prefix.size()) return std::nullopt;
  int64_t n = 0;
  for (size_t i = prefix.size(); i < label.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(label[i])) || n > 1'000'000'000) {
      return std::nullopt;
    }
    n = n * 10 + (label[i] - '0');
  }
  return n;
}

// What the agent knows about one bridge, merged from the Linode list, the brewery and the
// state file.
struct Bridge {
  std::string name;
  // Linode side.
  bool managed = false;
  std::optional<int64_t> linode_id;
  std::optional<std::string> private_ip, public_ip;
  std::string linode_status;
  std::optional<double> created_at;  // unix seconds (billing-aware scale-down)
  // Brewery side.
  bool in_brewery = false;
  xmpp::BridgeStats stats;
  double last_update = 0;
  // Lifecycle.
  double boot_clock_start = 0;  // provisioning: when the boot clock started
  bool create_in_flight = false;
  bool draining = false;
  double drain_started = 0;
  bool drain_posted = false;
  bool drain_in_flight = false;
  double drain_posted_at = 0;
  bool drained_empty = false;
  bool deleting = false;
  bool delete_in_flight = false;
  bool failed = false;
};

struct DecisionRecord {
  double time;
  std::string action;
  std::string reason;
};

}  // namespace

class Daemon::Impl {
 public:
  Impl(Config config, RunOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        store_(config_.state_file),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        tick_timer_(io_) {}

  int run() {
    dry_run_ = options_.dry_run || config_.dry_run;
    try {
      lock_.emplace(config_.state_file);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }
    auto loaded = store_.load();
    if (loaded.error) spdlog::error("{}", *loaded.error);
    state_ = std::move(loaded.state);
    if (!load_schedule()) return 2;
    restore_from_state();

    MetricsOptions metrics_options;
    metrics_options.listen = config_.metrics_listen;
    metrics_options.secrets = {config_.xmpp.password, config_.linode.token};
    try {
      metrics_ = std::make_unique<Metrics>(metrics_options);
      control_ = std::make_unique<ControlServer>(
          io_, config_.control_socket, [this](const json& request) { return handle(request); });
    } catch (const std::exception& e) {
      spdlog::error("cannot start: {}", e.what());
      return 1;
    }

    linode::ClientConfig api;
    api.api_url = config_.linode.api_url;
    api.token = config_.linode.token;
    api.on_request = [metrics = metrics_.get()](const linode::RequestRecord& record) {
      metrics->observe_linode_request(record.method, record.status, record.seconds);
    };
    linode_ = linode::make_curl_client(std::move(api));

    brewery_ = std::make_unique<xmpp::BreweryClient>(
        brewery_client_config(config_.xmpp, config_.xmpp.nickname),
        [this](const xmpp::Event& event) {
          // Called on the XMPP thread: hand the event to the event loop.
          boost::asio::post(io_, [this, event] { on_brewery_event(event); });
        });
    brewery_->start();

    wait_for_signal();
    boost::asio::post(io_, [this] { tick(); });
    spdlog::info("jvb-autoscaler {} started: brewery {}, Linode {} (tags {}), {}{}", JVB_VERSION,
                 config_.xmpp.brewery, config_.linode.api_url, fmt::join(config_.linode.tags, ","),
                 describe_bounds(),
                 dry_run_ ? ", DRY RUN (no instance will be created or deleted)" : "");
    sd_notify(0, "READY=1");
    io_.run();

    // Clean shutdown: stop the producers before the loop state goes away, persist.
    brewery_->stop();
    linode_->shutdown();
    persist();
    spdlog::info("jvb-autoscaler stopped cleanly; state saved to {}", config_.state_file);
    return 0;
  }

 private:
  // ---- startup -------------------------------------------------------------------------

  bool load_schedule() {
    std::vector<std::string> errors;
    if (!config_.schedule.is_null()) {
      schedule_.emplace(schedule::parse_schedule(config_.schedule, config_.scaling, errors));
    } else {
      schedule_.emplace(schedule::ScheduleConfig{});
    }
    auto events = schedule::events_from_json(state_.schedule_events, "state.schedule_events",
                                             config_.scaling, errors);
    for (auto& event : events) {
      const std::string name = event.name;
      if (auto error = schedule_->add_event(std::move(event), config_.scaling)) {
        spdlog::error("event {} from {} is not restored: {}", name, config_.state_file, *error);
      }
    }
    for (const auto& error : errors) spdlog::error("{}", error);
    return errors.empty() || config_.schedule.is_null();
  }

  void restore_from_state() {
    const double now = unix_now();
    for (const auto& drain : state_.drains) {
      Bridge& bridge = bridges_[drain.bridge];
      bridge.name = drain.bridge;
      bridge.managed = true;
      bridge.linode_id = drain.linode_id;
      bridge.draining = true;
      bridge.drain_started = static_cast<double>(drain.started_at);
      // The drain POST may not have reached the bridge before the restart: send it again.
      bridge.drain_posted = false;
    }
    if (!state_.drains.empty()) {
      spdlog::info("resuming {} drain(s) from {}", state_.drains.size(), config_.state_file);
    }
    (void)now;
  }

  // ---- signals -------------------------------------------------------------------------

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
        wait_for_signal();
        return;
      }
      spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      sd_notify(0, "STOPPING=1");
      stopping_ = true;
      tick_timer_.cancel();
      if (control_) control_->close();
      io_.stop();
    });
  }

  void reload() {
    ConfigResult result = load_config(config_.path, ConfigUse::kDaemon);
    if (!result.config) {
      for (const auto& error : result.errors) spdlog::error("reload: {}", error);
      spdlog::error("SIGHUP: {} has errors; keeping the running configuration", config_.path);
      return;
    }
    const Config& fresh = *result.config;
    if (fresh.xmpp.host != config_.xmpp.host || fresh.xmpp.username != config_.xmpp.username ||
        fresh.linode.api_url != config_.linode.api_url || fresh.state_file != config_.state_file ||
        fresh.control_socket != config_.control_socket ||
        fresh.metrics_listen != config_.metrics_listen) {
      spdlog::warn("SIGHUP: connection, state, socket and metrics settings change only on restart");
    }
    const bool policy_changed = fresh.scaling.policy != config_.scaling.policy;
    config_.scaling = fresh.scaling;
    config_.drain = fresh.drain;
    config_.linode.region = fresh.linode.region;
    config_.linode.type = fresh.linode.type;
    config_.linode.image = fresh.linode.image;
    config_.linode.user_data_template = fresh.linode.user_data_template;
    config_.schedule = fresh.schedule;
    auto runtime_events = schedule_->runtime_events();
    load_schedule();
    if (policy_changed) policy_.reset();
    spdlog::info("SIGHUP: configuration reloaded from {} ({})", config_.path, describe_bounds());
  }

  // ---- observation ---------------------------------------------------------------------

  void on_brewery_event(const xmpp::Event& event) {
    const double now = unix_now();
    switch (event.type) {
      case xmpp::Event::Type::kConnected:
        if (ever_connected_) metrics_->count_xmpp_reconnect();
        ever_connected_ = true;
        xmpp_connected_ = true;
        connected_since_ = now;
        metrics_->set_xmpp_connected(true);
        // The boot clock runs only while we can see the brewery: restart it for every
        // instance still waiting to join.
        for (auto& [name, bridge] : bridges_) {
          if (!bridge.in_brewery) bridge.boot_clock_start = now;
        }
        spdlog::info("brewery {} joined as {}", config_.xmpp.brewery, brewery_->current_nickname());
        break;
      case xmpp::Event::Type::kDisconnected:
        if (xmpp_connected_ || !event.message.empty()) {
          spdlog::warn(
              "brewery connection lost: {} (holding: nothing is drained or deleted "
              "until it is back)",
              event.message);
        }
        xmpp_connected_ = false;
        metrics_->set_xmpp_connected(false);
        // We are blind, not told that bridges left: their presence will be re-read after
        // the rejoin. Unmanaged bridges are forgotten (they exist only through presence).
        for (auto it = bridges_.begin(); it != bridges_.end();) {
          it->second.in_brewery = false;
          if (!it->second.managed && !it->second.linode_id) {
            it = bridges_.erase(it);
          } else {
            ++it;
          }
        }
        break;
      case xmpp::Event::Type::kJoined:
      case xmpp::Event::Type::kStats: {
        Bridge& bridge = bridges_[event.bridge];
        const bool is_new = !bridge.in_brewery;
        bridge.name = event.bridge;
        bridge.in_brewery = true;
        bridge.stats = event.stats;
        bridge.last_update = now;
        if (bridge.draining && bridge.drain_posted && now >= bridge.drain_posted_at &&
            event.stats.participants && *event.stats.participants == 0 && !bridge.drained_empty) {
          bridge.drained_empty = true;
          spdlog::info("bridge {} is drained (0 participants): it will be deleted", bridge.name);
        }
        if (is_new) {
          spdlog::info("bridge {} is in the brewery ({}, stress {}, {} participants)", bridge.name,
                       bridge.managed ? "managed" : "not managed yet",
                       format_optional(event.stats.stress_level),
                       format_optional(event.stats.participants));
        }
        break;
      }
      case xmpp::Event::Type::kLeft: {
        auto it = bridges_.find(event.bridge);
        if (it == bridges_.end()) break;
        spdlog::info("bridge {} left the brewery", event.bridge);
        it->second.in_brewery = false;
        it->second.boot_clock_start = now;
        if (!it->second.managed && !it->second.linode_id) bridges_.erase(it);
        break;
      }
      case xmpp::Event::Type::kError:
        spdlog::warn("brewery: {}", event.message);
        break;
    }
  }

  template <class T>
  static std::string format_optional(const std::optional<T>& value) {
    if (!value) return "unknown";
    return fmt::format("{}", *value);
  }

  // ---- the period loop -----------------------------------------------------------------

  void schedule_next_tick() {
    if (stopping_) return;
    const double period = std::max(0.05, current_effective_.config.period_seconds);
    tick_timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(period * 1000)));
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  void tick() {
    if (stopping_) return;
    current_effective_ = effective_config(unix_now());
    schedule_next_tick();
    if (list_in_flight_) return;  // a slow Linode API: decide on the next answer
    list_in_flight_ = true;
    linode::ListFilter filter;
    filter.tags = config_.linode.tags;
    linode_->list_instances(filter, [this](linode::Result<std::vector<linode::Instance>> result) {
      boost::asio::post(io_, [this, result = std::move(result)]() mutable {
        list_in_flight_ = false;
        if (stopping_) return;
        on_instances(std::move(result));
        reconcile();
      });
    });
  }

  void on_instances(linode::Result<std::vector<linode::Instance>> result) {
    const double now = unix_now();
    if (!result.ok()) {
      const std::string message = result.error().message();
      if (linode_ok_ || message != linode_error_) {
        spdlog::error(
            "cannot list Linode instances: {} (holding: nothing is deleted while the "
            "instance list is unknown)",
            message);
      }
      linode_ok_ = false;
      linode_error_ = message;
      return;
    }
    if (!linode_ok_ && !linode_error_.empty()) spdlog::info("Linode API answers again");
    linode_ok_ = true;
    linode_error_.clear();
    listed_once_ = true;

    std::set<std::string> listed;
    int64_t highest = 0;
    for (const auto& instance : result.value()) {
      const auto number = label_number(instance.label, config_.linode.label_prefix);
      if (!number) continue;  // tagged but not ours by label: never touched
      highest = std::max(highest, *number);
      listed.insert(instance.label);
      Bridge& bridge = bridges_[instance.label];
      if (!bridge.managed) {
        spdlog::info("instance {} (Linode {}) is managed by this agent (status {})", instance.label,
                     instance.id, instance.status);
        bridge.boot_clock_start = xmpp_connected_ ? now : 0;
      }
      bridge.name = instance.label;
      bridge.managed = true;
      bridge.linode_id = instance.id;
      bridge.linode_status = instance.status;
      if (!bridge.created_at && !instance.created.empty()) {
        // The API gives UTC without an offset, e.g. "2026-01-05T10:00:00".
        const std::string created =
            instance.created.back() == 'Z' ? instance.created : instance.created + "Z";
        if (auto when = schedule::parse_instant(created)) {
          bridge.created_at = std::chrono::duration<double>(when->time_since_epoch()).count();
        }
      }
      bridge.private_ip = instance.private_ipv4;
      bridge.public_ip = instance.public_ipv4;
      bridge.create_in_flight = false;
    }
    if (highest >= state_.next_label_number) {
      state_.next_label_number = highest + 1;
      persist();
    }

    // Pending creates: adopt what exists; forget what the API never created.
    bool changed = false;
    for (auto it = state_.creates.begin(); it != state_.creates.end();) {
      auto bridge = bridges_.find(it->label);
      const bool in_flight = bridge != bridges_.end() && bridge->second.create_in_flight;
      if (listed.count(it->label) != 0) {
        it = state_.creates.erase(it);
        changed = true;
      } else if (!in_flight && now - static_cast<double>(it->requested_at) > 120) {
        spdlog::warn(
            "instance {} was never created (not in the Linode list 2 minutes after the "
            "request); forgetting it",
            it->label);
        if (bridge != bridges_.end() && !bridge->second.in_brewery) bridges_.erase(bridge);
        it = state_.creates.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }

    // Managed bridges missing from the list are gone (deleted by us or by hand).
    for (auto it = bridges_.begin(); it != bridges_.end();) {
      Bridge& bridge = it->second;
      const bool pending =
          bridge.create_in_flight ||
          std::any_of(state_.creates.begin(), state_.creates.end(),
                      [&](const PendingCreate& c) { return c.label == it->first; });
      if (bridge.managed && listed.count(it->first) == 0 && !pending) {
        if (!bridge.deleting) {
          spdlog::warn("instance {} is no longer in the Linode list (deleted outside the agent?)",
                       it->first);
        }
        forget_drain(it->first);
        changed = true;
        if (bridge.in_brewery) {
          bridge.managed = false;  // still in the brewery: counted, never touched
          bridge.linode_id.reset();
          bridge.draining = false;
          bridge.deleting = false;
          ++it;
        } else {
          it = bridges_.erase(it);
        }
        continue;
      }
      ++it;
    }
    if (changed) persist();
  }

  scaling::EffectiveConfig effective_config(double now) {
    scaling::ScalingConfig base = config_.scaling;
    if (state_.min_override) base.min_bridges = *state_.min_override;
    if (state_.max_override) base.max_bridges = *state_.max_override;
    base.min_bridges = std::min(base.min_bridges, base.max_bridges);
    scaling::EffectiveConfig effective = schedule_->effective(base, to_time_point(now));
    effective.config.min_bridges =
        std::min(effective.config.min_bridges, effective.config.max_bridges);
    return effective;
  }

  bool blind(std::string* why) const {
    if (!xmpp_connected_) {
      if (why) *why = "brewery connection down";
      return true;
    }
    if (!linode_ok_ || !listed_once_) {
      if (why)
        *why = linode_error_.empty() ? "Linode instance list not read yet" : "Linode API failing";
      return true;
    }
    return false;
  }

  double silence_timeout() const {
    return std::max(config_.xmpp.stats_timeout_seconds, 3 * config_.scaling.period_seconds);
  }

  scaling::Snapshot build_snapshot(double now) {
    scaling::Snapshot snapshot;
    snapshot.now = now;
    snapshot.blind = blind(nullptr);
    snapshot.overrides.paused = state_.paused;
    if (state_.pinned) snapshot.overrides.pinned = *state_.pinned;
    for (const auto& name : manual_drains_) snapshot.overrides.drain_requests.push_back(name);
    for (const auto& [name, bridge] : bridges_) {
      scaling::BridgeView view;
      view.name = name;
      view.managed = bridge.managed;
      view.created_at = bridge.created_at;
      const bool fresh = bridge.in_brewery && now - bridge.last_update <= silence_timeout();
      if (fresh) {
        view.stress = bridge.stats.stress_level;
        if (bridge.stats.participants)
          view.participants = static_cast<int>(*bridge.stats.participants);
      }
      if (bridge.deleting) {
        view.state = scaling::BridgeState::kDeleting;
      } else if (bridge.draining) {
        view.state = scaling::BridgeState::kDraining;
        view.state_since = bridge.drain_started;
        view.drained_empty = bridge.drained_empty;
      } else if (bridge.managed && !bridge.in_brewery) {
        view.state = scaling::BridgeState::kProvisioning;
        view.state_since = bridge.boot_clock_start > 0 ? bridge.boot_clock_start : now;
        view.stress = 0.0;
        view.participants = 0;
      } else if (!bridge.managed && (bridge.stats.drain.value_or(false) ||
                                     bridge.stats.graceful_shutdown.value_or(false))) {
        view.state = scaling::BridgeState::kDraining;  // someone else drains it: not capacity
        view.state_since = now;
      } else {
        view.state = scaling::BridgeState::kReady;
      }
      snapshot.bridges.push_back(std::move(view));
    }
    return snapshot;
  }

  void reconcile() {
    const double now = unix_now();
    const auto started = std::chrono::steady_clock::now();
    current_effective_ = effective_config(now);
    const scaling::Snapshot snapshot = build_snapshot(now);
    const scaling::Decision decision = policy_.decide(snapshot, current_effective_);
    metrics_->observe_decision_duration(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    last_decision_ = decision;
    record(decision, now);
    act(decision, snapshot, now);
    retry_unfinished_drains(now);
    publish_metrics();
  }

  // Logs every decision that acts (info) or whose reason changed (debug), and keeps the
  // recent ones that matter for `ctl status`: actions, and changes of action (e.g. entering
  // hold or paused), not every "none" period.
  void record(const scaling::Decision& decision, double now) {
    const bool acts = decision.create > 0 || !decision.drain.empty() || !decision.remove.empty();
    if (acts || decision.reason != last_logged_reason_) {
      if (acts || decision.action != "none") {
        spdlog::info("decision: {} (desired {}): {}", decision.action, decision.desired,
                     decision.reason);
      } else {
        spdlog::debug("decision: {} (desired {}): {}", decision.action, decision.desired,
                      decision.reason);
      }
      last_logged_reason_ = decision.reason;
    }
    if (acts || decision.action != last_recorded_action_) {
      decisions_.push_back({now, decision.action, decision.reason});
      while (decisions_.size() > 20) decisions_.pop_front();
      last_recorded_action_ = decision.action;
    }
  }

  // ---- actions -------------------------------------------------------------------------

  void act(const scaling::Decision& decision, const scaling::Snapshot& snapshot, double now) {
    std::string why;
    if (blind(&why)) {
      if (decision.create > 0 || !decision.drain.empty() || !decision.remove.empty()) {
        spdlog::warn("holding: {}; no instance is created, drained or deleted", why);
      }
      return;
    }
    if (dry_run_) {
      if (decision.create > 0) spdlog::info("dry run: would create {} bridge(s)", decision.create);
      for (const auto& name : decision.drain) spdlog::info("dry run: would drain {}", name);
      for (const auto& name : decision.remove) spdlog::info("dry run: would delete {}", name);
      return;
    }
    // Metric reasons are short fixed codes derived from the decision (never free text).
    const bool raised_by_min = decision.reason.find("min_bridges") != std::string::npos;
    const bool capped_by_max = decision.reason.find("max_bridges") != std::string::npos;
    const ScalingReason create_reason = snapshot.overrides.pinned ? ScalingReason::kPinned
                                        : raised_by_min           ? ScalingReason::kBelowMin
                                                                  : ScalingReason::kStressHigh;
    for (int i = 0; i < decision.create; ++i) create_bridge(now, create_reason);
    for (const auto& name : decision.drain) {
      const bool manual = manual_drains_.erase(name) > 0;
      const ScalingReason reason = manual                      ? ScalingReason::kManual
                                   : snapshot.overrides.pinned ? ScalingReason::kPinned
                                   : capped_by_max             ? ScalingReason::kAboveMax
                                                               : ScalingReason::kStressLow;
      start_drain(name, now, reason, nullptr);
    }
    for (const auto& name : decision.remove) {
      const bool failed =
          std::find(decision.failed.begin(), decision.failed.end(), name) != decision.failed.end();
      auto it = bridges_.find(name);
      if (it == bridges_.end()) continue;
      ScalingReason reason = failed                     ? ScalingReason::kBootTimeout
                             : it->second.drained_empty ? ScalingReason::kDrained
                                                        : ScalingReason::kDrainTimeout;
      delete_bridge(it->second, reason);
    }
  }

  std::string render_user_data(const std::string& label) const {
    std::string text = *config_.linode.user_data_template;
    text = replace_all(text, "{{label}}", label);
    text = replace_all(text, "{{nickname}}", label);
    text = replace_all(text, "{{brewery}}", config_.xmpp.brewery);
    text = replace_all(text, "{{xmpp_host}}", config_.xmpp.effective_advertise_host());
    text = replace_all(text, "{{region}}", config_.linode.region);
    return text;
  }

  void create_bridge(double now, ScalingReason reason) {
    const std::string label =
        config_.linode.label_prefix + std::to_string(state_.next_label_number++);
    // The label is on disk before the POST: a crash between the two cannot create a twin.
    state_.creates.push_back(PendingCreate{label, static_cast<int64_t>(now), std::nullopt});
    state_.last_scale_action_at = now;
    persist();
    Bridge& bridge = bridges_[label];
    bridge.name = label;
    bridge.managed = true;
    bridge.create_in_flight = true;
    bridge.boot_clock_start = now;
    bridge.created_at = now;
    metrics_->count_scaling_action(ScalingAction::kCreate, reason);

    linode::CreateRequest request;
    request.region = config_.linode.region;
    request.type = config_.linode.type;
    request.image = config_.linode.image;
    request.label = label;
    request.tags = config_.linode.tags;
    request.authorized_keys = config_.linode.authorized_keys;
    request.root_pass = config_.linode.root_pass;
    request.private_ip = config_.linode.private_ip;
    request.firewall_id = config_.linode.firewall_id;
    if (config_.linode.user_data_template) request.user_data = render_user_data(label);
    spdlog::info("creating bridge {} ({} in {}, reason {})", label, request.type, request.region,
                 to_string(reason));
    linode_->create_instance(std::move(request), [this, label](linode::Result<linode::Instance> r) {
      boost::asio::post(io_, [this, label, r = std::move(r)] { on_created(label, r); });
    });
  }

  void on_created(const std::string& label, const linode::Result<linode::Instance>& result) {
    if (stopping_) return;
    if (result.ok()) {
      const auto& instance = result.value();
      spdlog::info("bridge {} created as Linode {} (status {})", label, instance.id,
                   instance.status);
      bind_instance(label, instance);
      return;
    }
    const linode::Error& error = result.error();
    const bool ambiguous = error.kind == linode::ErrorKind::kAmbiguous ||
                           error.kind == linode::ErrorKind::kTransport ||
                           (error.kind == linode::ErrorKind::kBadRequest && error.field == "label");
    if (ambiguous) {
      spdlog::warn("creating bridge {} got no clear answer ({}); looking it up by label", label,
                   error.message());
      linode::ListFilter filter;
      filter.label = label;
      linode_->list_instances(
          filter, [this, label](linode::Result<std::vector<linode::Instance>> r) {
            boost::asio::post(io_, [this, label, r = std::move(r)] { on_label_lookup(label, r); });
          });
      return;
    }
    spdlog::error("creating bridge {} failed: {}", label, error.message());
    drop_pending_create(label);
  }

  void on_label_lookup(const std::string& label,
                       const linode::Result<std::vector<linode::Instance>>& result) {
    if (stopping_) return;
    auto it = bridges_.find(label);
    if (!result.ok()) {
      // Still unknown: keep the pending create; the periodic list settles it.
      spdlog::warn("looking up bridge {} by label failed: {}; the next list will settle it", label,
                   result.error().message());
      if (it != bridges_.end()) it->second.create_in_flight = false;
      return;
    }
    for (const auto& instance : result.value()) {
      if (instance.label != label) continue;
      spdlog::info("bridge {} exists as Linode {}: adopted (no second instance created)", label,
                   instance.id);
      metrics_->count_scaling_action(ScalingAction::kAdopt, ScalingReason::kAmbiguousCreate);
      bind_instance(label, instance);
      return;
    }
    spdlog::warn(
        "bridge {} does not exist after an unanswered create; it may be created again "
        "under a new label if load still needs it",
        label);
    drop_pending_create(label);
  }

  // The instance behind a label we created (answered POST or adopted after an ambiguous one).
  void bind_instance(const std::string& label, const linode::Instance& instance) {
    if (auto it = bridges_.find(label); it != bridges_.end()) {
      it->second.linode_id = instance.id;
      it->second.private_ip = instance.private_ipv4;
      it->second.public_ip = instance.public_ipv4;
      it->second.create_in_flight = false;
    }
    for (auto& create : state_.creates) {
      if (create.label == label) create.linode_id = instance.id;
    }
    persist();
  }

  void drop_pending_create(const std::string& label) {
    state_.creates.erase(std::remove_if(state_.creates.begin(), state_.creates.end(),
                                        [&](const PendingCreate& c) { return c.label == label; }),
                         state_.creates.end());
    auto it = bridges_.find(label);
    if (it != bridges_.end() && !it->second.in_brewery) bridges_.erase(it);
    persist();
  }

  // Starts draining a managed bridge: persisted first, then the POST to drain.url.
  bool start_drain(const std::string& name, double now, ScalingReason reason, std::string* error) {
    auto it = bridges_.find(name);
    if (it == bridges_.end() || !it->second.managed || !it->second.linode_id) {
      if (error) *error = "no managed bridge named \"" + name + "\" (see ctl status)";
      return false;
    }
    Bridge& bridge = it->second;
    if (bridge.draining || bridge.deleting) {
      if (error) *error = "bridge " + name + " is already draining";
      return false;
    }
    bridge.draining = true;
    bridge.drain_started = now;
    bridge.drained_empty = false;
    state_.drains.push_back(PendingDrain{name, *bridge.linode_id, static_cast<int64_t>(now)});
    state_.last_scale_action_at = now;
    persist();
    metrics_->count_scaling_action(ScalingAction::kDrain, reason);
    spdlog::info("draining bridge {} (Linode {}, {} participants, reason {})", name,
                 *bridge.linode_id, format_optional(bridge.stats.participants), to_string(reason));
    post_drain(bridge);
    return true;
  }

  std::string drain_url(const Bridge& bridge) const {
    std::string url = config_.drain.url;
    url = replace_all(url, "{label}", bridge.name);
    url = replace_all(url, "{private_ip}", bridge.private_ip.value_or(""));
    url = replace_all(url, "{public_ip}", bridge.public_ip.value_or(""));
    url =
        replace_all(url, "{linode_id}", bridge.linode_id ? std::to_string(*bridge.linode_id) : "");
    return url;
  }

  void post_drain(Bridge& bridge) {
    if (bridge.drain_in_flight || bridge.drain_posted) return;
    if (dry_run_) return;
    if (config_.drain.url.find("{private_ip}") != std::string::npos && !bridge.private_ip) {
      spdlog::warn("bridge {} has no private IP yet; drain request postponed", bridge.name);
      return;
    }
    bridge.drain_in_flight = true;
    const std::string url = drain_url(bridge);
    const std::string name = bridge.name;
    const double sent_at = unix_now();
    async_http_post(io_, url, "{}", 10, [this, name, url, sent_at](HttpOutcome outcome) {
      auto it = bridges_.find(name);
      if (it == bridges_.end()) return;
      it->second.drain_in_flight = false;
      if (outcome.status >= 200 && outcome.status < 300) {
        it->second.drain_posted = true;
        it->second.drain_posted_at = sent_at;
        spdlog::info("bridge {} accepted the drain request ({})", name, outcome.status);
      } else {
        spdlog::warn("drain request to bridge {} at {} failed: {}; retrying next period", name, url,
                     outcome.status ? "HTTP " + std::to_string(outcome.status) : outcome.error);
      }
    });
  }

  void retry_unfinished_drains(double) {
    if (blind(nullptr)) return;
    for (auto& [name, bridge] : bridges_) {
      if (bridge.draining && !bridge.deleting) post_drain(bridge);
    }
  }

  void delete_bridge(Bridge& bridge, ScalingReason reason) {
    if (!bridge.managed || !bridge.linode_id) {
      spdlog::error("refusing to delete {}: not an instance this agent manages", bridge.name);
      return;
    }
    if (bridge.delete_in_flight) return;
    bridge.deleting = true;
    bridge.delete_in_flight = true;
    bridge.failed = reason == ScalingReason::kBootTimeout;
    metrics_->count_scaling_action(ScalingAction::kDelete, reason);
    spdlog::info("deleting bridge {} (Linode {}, reason {})", bridge.name, *bridge.linode_id,
                 to_string(reason));
    const std::string name = bridge.name;
    linode_->delete_instance(*bridge.linode_id, [this, name](linode::Result<linode::Done> r) {
      boost::asio::post(io_, [this, name, r = std::move(r)] {
        auto it = bridges_.find(name);
        if (it == bridges_.end()) return;
        it->second.delete_in_flight = false;
        if (!r.ok()) {
          spdlog::error("deleting bridge {} failed: {}; retrying next period", name,
                        r.error().message());
          it->second.deleting = false;
          return;
        }
        spdlog::info("bridge {} deleted", name);
        // A failed boot stays visible as "failed" for a while so that status and the
        // bridges{state="failed"} metric (alerting) do not miss it.
        if (it->second.failed) failed_recently_[name] = unix_now();
        forget_drain(name);
        drop_pending_create(name);
        bridges_.erase(name);
        persist();
      });
    });
  }

  void forget_drain(const std::string& name) {
    state_.drains.erase(std::remove_if(state_.drains.begin(), state_.drains.end(),
                                       [&](const PendingDrain& d) { return d.bridge == name; }),
                        state_.drains.end());
  }

  void persist() {
    state_.schedule_events = schedule::events_to_json(schedule_->runtime_events());
    try {
      store_.save(state_);
    } catch (const std::exception& e) {
      spdlog::error("cannot save state: {}", e.what());
    }
  }

  // ---- reporting -----------------------------------------------------------------------

  std::string display_state(const Bridge& bridge) const {
    if (bridge.deleting) return bridge.failed ? "failed" : "deleting";
    if (bridge.draining) return "draining";
    if (!bridge.managed) return "unmanaged";
    if (!bridge.in_brewery) return "provisioning";
    return "ready";
  }

  void publish_metrics() {
    std::vector<BridgeSample> samples;
    const double now = unix_now();
    for (const auto& [name, bridge] : bridges_) {
      BridgeSample sample;
      sample.name = name;
      sample.state = display_state(bridge);
      if (bridge.in_brewery && now - bridge.last_update <= silence_timeout()) {
        sample.stress = bridge.stats.stress_level;
        if (bridge.stats.participants)
          sample.participants = static_cast<int>(*bridge.stats.participants);
      }
      samples.push_back(std::move(sample));
    }
    for (auto it = failed_recently_.begin(); it != failed_recently_.end();) {
      if (now - it->second > kFailedVisibleSeconds) {
        it = failed_recently_.erase(it);
        continue;
      }
      if (bridges_.count(it->first) == 0)
        samples.push_back(BridgeSample{it->first, "failed", {}, {}});
      ++it;
    }
    metrics_->set_bridges(samples);
    metrics_->set_cluster_stress(last_decision_.cluster_stress);
    metrics_->set_desired(last_decision_.desired);
    metrics_->set_bounds(current_effective_.config.min_bridges,
                         current_effective_.config.max_bridges);
    metrics_->set_paused(state_.paused);
    metrics_->set_override(pinned_clamped());
    metrics_->set_blind(blind(nullptr));
    const bool window = !current_effective_.window.empty();
    metrics_->set_schedule(
        window ? std::optional<int>(current_effective_.config.min_bridges) : std::nullopt,
        current_effective_.window);
  }

  std::optional<int> pinned_clamped() const {
    if (!state_.pinned) return std::nullopt;
    return std::clamp(*state_.pinned, current_effective_.config.min_bridges,
                      current_effective_.config.max_bridges);
  }

  std::string describe_bounds() const {
    const auto effective =
        current_effective_.config.max_bridges > 0 ? current_effective_.config : config_.scaling;
    return fmt::format("min {} max {} bridges", effective.min_bridges, effective.max_bridges);
  }

  json status() {
    const double now = unix_now();
    json bridges = json::array();
    for (const auto& [name, bridge] : bridges_) {
      const bool fresh = bridge.in_brewery && now - bridge.last_update <= silence_timeout();
      auto optional_json = [&](const auto& value) -> json {
        if (!fresh || !value) return nullptr;
        return *value;
      };
      bridges.push_back(
          {{"name", name},
           {"state", display_state(bridge)},
           {"stress", optional_json(bridge.stats.stress_level)},
           {"participants", optional_json(bridge.stats.participants)},
           {"conferences", optional_json(bridge.stats.conferences)},
           {"managed", bridge.managed},
           {"private_ip", bridge.private_ip ? json(*bridge.private_ip) : json(nullptr)},
           {"linode_id", bridge.linode_id ? json(*bridge.linode_id) : json(nullptr)}});
    }
    for (const auto& [name, when] : failed_recently_) {
      if (bridges_.count(name) != 0 || now - when > kFailedVisibleSeconds) continue;
      bridges.push_back({{"name", name},
                         {"state", "failed"},
                         {"stress", nullptr},
                         {"participants", nullptr},
                         {"conferences", nullptr},
                         {"managed", true},
                         {"private_ip", nullptr},
                         {"linode_id", nullptr}});
    }
    json decisions = json::array();
    for (const auto& record : decisions_) {
      decisions.push_back(
          {{"time", iso_time(record.time)}, {"action", record.action}, {"reason", record.reason}});
    }
    std::string why;
    const bool is_blind = blind(&why);
    const auto pinned = pinned_clamped();
    return {{"ok", true},
            {"paused", state_.paused},
            {"override", pinned ? json(*pinned) : json(nullptr)},
            {"min", current_effective_.config.min_bridges},
            {"max", current_effective_.config.max_bridges},
            {"desired", last_decision_.desired},
            {"cluster_stress",
             last_decision_.cluster_stress ? json(*last_decision_.cluster_stress) : json(nullptr)},
            {"xmpp_connected", xmpp_connected_},
            {"linode_ok", linode_ok_},
            {"blind_reason", is_blind ? json(why) : json(nullptr)},
            {"dry_run", dry_run_},
            {"schedule", schedule_->status_json(config_.scaling, to_time_point(now), 3)},
            {"last_decisions", decisions},
            {"bridges", bridges}};
  }

  static json fail(const std::string& error) { return {{"ok", false}, {"error", error}}; }

  json handle(const json& request) {
    const std::string cmd = request.value("cmd", "");
    const double now = unix_now();
    const auto& bounds = current_effective_.config;
    if (cmd == "status") return status();
    if (cmd == "pause" || cmd == "resume") {
      state_.paused = cmd == "pause";
      persist();
      spdlog::info("ctl: scaling {}", state_.paused ? "paused" : "resumed");
      publish_metrics();
      return {{"ok", true}, {"paused", state_.paused}};
    }
    if (cmd == "scale-to") {
      if (!request.contains("n") || !request["n"].is_number_integer() ||
          request["n"].get<int64_t>() < 0) {
        return fail("scale-to needs a non-negative integer n");
      }
      const int requested =
          static_cast<int>(std::min<int64_t>(request["n"].get<int64_t>(), 100000));
      state_.pinned = requested;
      persist();
      const int clamped = std::clamp(requested, bounds.min_bridges, bounds.max_bridges);
      spdlog::info("ctl: desired count pinned to {} (requested {})", clamped, requested);
      boost::asio::post(io_, [this] { tick(); });
      return {{"ok", true},
              {"override", clamped},
              {"requested", requested},
              {"clamped", clamped != requested},
              {"min", bounds.min_bridges},
              {"max", bounds.max_bridges}};
    }
    if (cmd == "auto") {
      state_.pinned.reset();
      persist();
      spdlog::info("ctl: back to automatic scaling");
      return {{"ok", true}, {"override", nullptr}, {"desired", last_decision_.desired}};
    }
    if (cmd == "drain") {
      // Queued for the policy, which drains it at the next period (after creating a
      // replacement first when it is the last ready bridge).
      const std::string name = request.value("bridge", "");
      auto it = bridges_.find(name);
      if (it == bridges_.end() || !it->second.managed || !it->second.linode_id) {
        return fail("no managed bridge named \"" + name +
                    "\" (ctl status lists them; unmanaged bridges are never drained)");
      }
      if (it->second.draining || it->second.deleting) {
        return fail("bridge " + name + " is already " + display_state(it->second));
      }
      manual_drains_.insert(name);
      spdlog::info("ctl: drain of bridge {} requested", name);
      boost::asio::post(io_, [this] { tick(); });
      return {{"ok", true}, {"bridge", name}, {"state", "drain requested"}};
    }
    if (cmd == "set") {
      const std::string key = request.value("key", "");
      if ((key != "min" && key != "max") || !request.contains("n") ||
          !request["n"].is_number_integer() || request["n"].get<int64_t>() < 0 ||
          request["n"].get<int64_t>() > 10000) {
        return fail("set needs key min or max and an integer n between 0 and 10000");
      }
      const int n = request["n"].get<int>();
      const int other_min = state_.min_override.value_or(config_.scaling.min_bridges);
      const int other_max = state_.max_override.value_or(config_.scaling.max_bridges);
      if (key == "min" && n > other_max) {
        return fail("min " + std::to_string(n) + " would exceed max " + std::to_string(other_max));
      }
      if (key == "max" && (n < other_min || n < 1)) {
        return fail("max " + std::to_string(n) + " would be below min " +
                    std::to_string(other_min) + " (or 0)");
      }
      (key == "min" ? state_.min_override : state_.max_override) = n;
      persist();
      current_effective_ = effective_config(now);
      publish_metrics();
      spdlog::info("ctl: {}_bridges set to {}", key, n);
      boost::asio::post(io_, [this] { tick(); });
      return {{"ok", true},
              {"key", key},
              {"n", n},
              {"min", current_effective_.config.min_bridges},
              {"max", current_effective_.config.max_bridges}};
    }
    if (cmd == "schedule") {
      json reply = schedule_->status_json(config_.scaling, to_time_point(now), 5);
      reply["ok"] = true;
      return reply;
    }
    if (cmd == "event-add") {
      std::vector<std::string> errors;
      json event = request;
      event.erase("cmd");
      auto parsed = schedule::event_from_json(event, "event", config_.scaling, errors);
      if (!parsed) return fail(errors.empty() ? "invalid event" : errors.front());
      if (auto error = schedule_->add_event(*parsed, config_.scaling)) return fail(*error);
      persist();
      spdlog::info("ctl: event {} added", parsed->name);
      boost::asio::post(io_, [this] { tick(); });
      return {{"ok", true}, {"event", schedule::event_to_json(*parsed)}};
    }
    if (cmd == "event-remove") {
      const std::string name = request.value("name", "");
      if (auto error = schedule_->remove_event(name)) return fail(*error);
      persist();
      spdlog::info("ctl: event {} removed", name);
      return {{"ok", true}, {"name", name}};
    }
    return fail("unknown command \"" + cmd + "\"");
  }

  Config config_;
  RunOptions options_;
  bool dry_run_ = false;
  boost::asio::io_context io_;
  StateStore store_;
  std::optional<StateLock> lock_;
  PersistentState state_;
  std::optional<schedule::Schedule> schedule_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<linode::Client> linode_;
  std::unique_ptr<xmpp::BreweryClient> brewery_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tick_timer_;
  scaling::Policy policy_;
  scaling::EffectiveConfig current_effective_;
  scaling::Decision last_decision_;
  std::map<std::string, Bridge> bridges_;
  std::set<std::string> manual_drains_;
  std::map<std::string, double> failed_recently_;  // deleted after a failed boot -> when  // ctl
                                                   // drain, handed to the policy each period
  std::deque<DecisionRecord> decisions_;
  std::string last_logged_reason_;
  std::string last_recorded_action_;
  bool stopping_ = false;
  bool xmpp_connected_ = false;
  bool ever_connected_ = false;
  double connected_since_ = 0;
  bool linode_ok_ = false;
  bool listed_once_ = false;
  std::string linode_error_;
  bool list_in_flight_ = false;
};

Daemon::Daemon(Config config, RunOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}
Daemon::~Daemon() = default;
int Daemon::run() { return impl_->run(); }

}  // namespace agent
