#include "agent/fleet.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <limits>

#include "schedule/schedule.h"

namespace agent {

namespace {

template <class T>
std::string format_optional(const std::optional<T>& value) {
  if (!value) return "unknown";
  return fmt::format("{}", *value);
}

std::optional<WallTime> parse_created(const std::string& created) {
  if (created.empty()) return std::nullopt;
  // The API gives UTC without an offset, e.g. "2026-01-05T10:00:00".
  const std::string text = created.back() == 'Z' ? created : created + "Z";
  auto when = schedule::parse_instant(text);
  if (!when) return std::nullopt;
  return std::chrono::time_point_cast<WallClock::duration>(*when);
}

}  // namespace

std::string_view to_string(Lifecycle state) noexcept {
  switch (state) {
    case Lifecycle::kProvisioning:
      return "provisioning";
    case Lifecycle::kReady:
      return "ready";
    case Lifecycle::kDraining:
      return "draining";
    case Lifecycle::kShuttingDown:
      return "shutting_down";
    case Lifecycle::kDeleting:
      return "deleting";
    case Lifecycle::kFailed:
      return "failed";
    case Lifecycle::kUnhealthy:
      return "unhealthy";
    case Lifecycle::kLost:
      return "lost";
  }
  return "unknown";
}

bool legal_transition(Lifecycle from, Lifecycle to) noexcept {
  using L = Lifecycle;
  switch (from) {
    case L::kProvisioning:  // joined; drained by ctl; boot timeout; deleted
      return to == L::kReady || to == L::kDraining || to == L::kDeleting || to == L::kFailed ||
             to == L::kUnhealthy;
    case L::kReady:  // left the brewery; drained; unhealthy; deleted
      return to == L::kProvisioning || to == L::kDraining || to == L::kDeleting ||
             to == L::kUnhealthy || to == L::kLost || to == L::kShuttingDown;
    case L::kDraining:  // undrained, refused or vanished; shut down at the timeout; deleted
      return to == L::kReady || to == L::kProvisioning || to == L::kShuttingDown ||
             to == L::kDeleting;
    case L::kShuttingDown:  // left the brewery and deleted; vanished; a failed request returns
      return to == L::kDeleting || to == L::kReady || to == L::kDraining || to == L::kUnhealthy ||
             to == L::kLost;
    case L::kDeleting:  // a failed DELETE returns to where it was; vanished while in the brewery
      return to == L::kProvisioning || to == L::kReady || to == L::kDraining ||
             to == L::kShuttingDown || to == L::kUnhealthy || to == L::kLost;
    case L::kFailed:  // a failed DELETE; vanished while in the brewery
      return to == L::kProvisioning || to == L::kReady;
    case L::kUnhealthy:
      return to == L::kReady || to == L::kDraining || to == L::kShuttingDown ||
             to == L::kDeleting || to == L::kLost;
    case L::kLost:
      return to == L::kReady || to == L::kProvisioning || to == L::kDraining ||
             to == L::kShuttingDown || to == L::kDeleting;
  }
  return false;
}

std::optional<std::string> blind_reason(const Visibility& visibility) {
  if (!visibility.xmpp_connected) return "brewery connection down";
  if (!visibility.linode_ok || !visibility.listed_once) {
    return visibility.linode_error_seen ? "Linode API failing"
                                        : "Linode instance list not read yet";
  }
  return std::nullopt;
}

bool Fleet::move(Bridge& bridge, Lifecycle to) {
  if (!legal_transition(bridge.state, to)) return false;
  if (to == Lifecycle::kDeleting || to == Lifecycle::kFailed) {
    bridge.state_before_delete = bridge.state;
  }
  bridge.state = to;
  return true;
}

void Fleet::settle(Bridge& bridge) {
  if (bridge.state != Lifecycle::kProvisioning && bridge.state != Lifecycle::kReady) return;
  const Lifecycle want =
      bridge.managed && !bridge.in_brewery ? Lifecycle::kProvisioning : Lifecycle::kReady;
  if (want == bridge.state) return;
  if (bridge.managed && want == Lifecycle::kReady) {
    consecutive_failed_boots_ = 0;  // a boot worked
    ++boots_joined_;
  }
  move(bridge, want);
}

void Fleet::on_connected(MonoTime now) {
  for (auto& [name, bridge] : bridges_) {
    if (bridge.in_brewery) continue;
    // The boot and lost clocks run only while we can see the brewery.
    bridge.boot_clock_start = now;
    if (bridge.state == Lifecycle::kLost || bridge.state == Lifecycle::kDraining) {
      bridge.lost_since = now;
    }
  }
}

void Fleet::on_disconnected() {
  for (auto it = bridges_.begin(); it != bridges_.end();) {
    it->second.in_brewery = false;
    if (!it->second.managed && !it->second.linode_id) {
      it = bridges_.erase(it);
    } else {
      settle(it->second);
      ++it;
    }
  }
}

void Fleet::on_presence(const std::string& name, const xmpp::BridgeStats& stats, MonoTime now,
                        Notes& notes) {
  Bridge& bridge = bridges_[name];
  const bool is_new = !bridge.in_brewery;
  bridge.name = name;
  bridge.in_brewery = true;
  bridge.stats = stats;
  bridge.last_update = now;
  if (bridge.state == Lifecycle::kLost) move(bridge, Lifecycle::kReady);  // back in the brewery
  settle(bridge);
  follow_health(bridge, stats, now, notes);
  if (bridge.draining() || bridge.shutting_down()) follow_drain(bridge, stats, now, notes);
  if (is_new) {
    notes.push_back(
        {Note::Level::kInfo,
         fmt::format("bridge {} is in the brewery ({}, stress {}, {} participants)", name,
                     bridge.managed ? "managed" : "not managed yet",
                     format_optional(stats.stress_level), format_optional(stats.participants))});
  }
}

// DESIGN section 5 "Health": a managed bridge publishing healthy = false is unhealthy (not
// capacity, replaced after unhealthy_timeout_seconds); healthy again (or unknown) is ready.
void Fleet::follow_health(Bridge& bridge, const xmpp::BridgeStats& stats, MonoTime now,
                          Notes& notes) {
  if (!bridge.managed) return;
  const bool unhealthy = stats.healthy == std::optional<bool>(false);
  if (unhealthy && bridge.state == Lifecycle::kReady) {
    move(bridge, Lifecycle::kUnhealthy);
    bridge.unhealthy_since = now;
    notes.push_back({Note::Level::kWarn,
                     fmt::format("bridge {} publishes healthy = false: not capacity; replaced if "
                                 "it stays unhealthy",
                                 bridge.name)});
  } else if (!unhealthy && bridge.state == Lifecycle::kUnhealthy) {
    move(bridge, Lifecycle::kReady);
    notes.push_back({Note::Level::kInfo, fmt::format("bridge {} is healthy again", bridge.name)});
  }
}

// A drain's progress, from the presences after its request (DESIGN section 5).
void Fleet::follow_drain(Bridge& bridge, const xmpp::BridgeStats& stats, MonoTime now,
                         Notes& notes) {
  if (!bridge.drain_posted || now < bridge.drain_posted_at) return;
  const bool says_drain = stats.drain.value_or(false);
  if (says_drain && !bridge.drain_effective) {
    bridge.drain_effective = true;
    bridge.drain_effective_at = now;
    notes.push_back(
        {Note::Level::kInfo,
         fmt::format("bridge {} publishes drain = true: the drain took effect", bridge.name)});
  } else if (!says_drain && bridge.drain_effective) {
    // A JVB restart forgets drain mode (it lives in memory only): ask again.
    bridge.drain_posted = false;
    bridge.drain_effective = false;
    bridge.empty_since.reset();
    notes.push_back({Note::Level::kWarn,
                     fmt::format("bridge {} publishes drain = false after its drain took effect "
                                 "(restarted?); sending the drain request again",
                                 bridge.name)});
    return;
  }
  const bool empty = bridge.drain_effective && says_drain && stats.participants &&
                     *stats.participants == 0 && stats.conferences && *stats.conferences == 0;
  if (!empty) {
    bridge.empty_since.reset();
    return;
  }
  if (!bridge.empty_since) bridge.empty_since = now;
  if (!bridge.drained_empty && now - *bridge.empty_since >= rules_.stats_interval) {
    bridge.drained_empty = true;
    notes.push_back(
        {Note::Level::kInfo,
         fmt::format("bridge {} is drained (0 participants) with 0 conferences for {} s: "
                     "it will be deleted",
                     bridge.name, Seconds(now - *bridge.empty_since).count())});
  }
}

void Fleet::on_left(const std::string& name, MonoTime now, Notes& notes) {
  auto it = bridges_.find(name);
  if (it == bridges_.end()) return;
  notes.push_back({Note::Level::kInfo, fmt::format("bridge {} left the brewery", name)});
  Bridge& bridge = it->second;
  bridge.in_brewery = false;
  bridge.boot_clock_start = now;
  if (!bridge.managed && !bridge.linode_id) {
    bridges_.erase(it);
    return;
  }
  if (bridge.managed && bridge.state == Lifecycle::kReady) {
    // It was ready and left while its instance runs: lost, not booting capacity again.
    move(bridge, Lifecycle::kLost);
    bridge.lost_since = now;
    return;
  }
  if (bridge.managed && bridge.state == Lifecycle::kDraining) {
    // Left without being asked to shut down: most often a JVB restart, which rejoins with
    // drain = false (drain mode lives in memory only) and is drained again. Until it is back
    // the policy sees it as lost (deleted only after unhealthy_timeout_seconds out of the
    // brewery), never deleted on the spot.
    bridge.lost_since = now;
    return;
  }
  settle(bridge);
}

void Fleet::merge_instances(const std::vector<linode::Instance>& owned, MonoTime now,
                            bool xmpp_connected, Notes& notes) {
  for (const auto& instance : owned) {
    Bridge& bridge = bridges_[instance.label];
    if (!bridge.managed) {
      notes.push_back(
          {Note::Level::kInfo, fmt::format("instance {} (Linode {}) is managed by this agent "
                                           "(status {})",
                                           instance.label, instance.id, instance.status)});
      // The boot clock runs only while the brewery is visible.
      bridge.boot_clock_start = xmpp_connected ? std::optional<MonoTime>(now) : std::nullopt;
    }
    bridge.name = instance.label;
    bridge.managed = true;
    bridge.linode_id = instance.id;
    bridge.linode_status = instance.status;
    if (!bridge.created_at) bridge.created_at = parse_created(instance.created);
    bridge.private_ip = instance.private_ipv4;
    bridge.public_ip = instance.public_ipv4;
    bridge.create_in_flight = false;
    settle(bridge);
  }
}

std::vector<std::string> Fleet::drop_vanished(const std::set<std::string>& listed,
                                              const std::set<std::string>& pending, Notes& notes) {
  std::vector<std::string> gone;
  for (auto it = bridges_.begin(); it != bridges_.end();) {
    Bridge& bridge = it->second;
    const bool is_pending = bridge.create_in_flight || pending.count(it->first) != 0;
    if (!bridge.managed || listed.count(it->first) != 0 || is_pending) {
      ++it;
      continue;
    }
    if (!bridge.deleting()) {
      notes.push_back({Note::Level::kWarn,
                       fmt::format("instance {} is no longer in the Linode list (deleted outside "
                                   "the agent?)",
                                   it->first)});
    }
    gone.push_back(it->first);
    if (bridge.in_brewery) {
      // Still in the brewery: counted as capacity, never touched.
      bridge.managed = false;
      bridge.linode_id.reset();
      if (bridge.state != Lifecycle::kReady) move(bridge, Lifecycle::kReady);
      ++it;
    } else {
      it = bridges_.erase(it);
    }
  }
  return gone;
}

Bridge& Fleet::add_created(const std::string& label, MonoTime now, WallTime wall_now) {
  Bridge& bridge = bridges_[label];
  bridge.name = label;
  bridge.managed = true;
  bridge.create_in_flight = true;
  bridge.boot_clock_start = now;
  bridge.created_at = wall_now;
  settle(bridge);
  return bridge;
}

void Fleet::restore_drain(const std::string& name, int64_t linode_id, MonoTime started) {
  Bridge& bridge = bridges_[name];
  bridge.name = name;
  bridge.managed = true;
  bridge.linode_id = linode_id;
  if (bridge.state != Lifecycle::kDraining) move(bridge, Lifecycle::kDraining);
  bridge.drain_started = started;
  // The drain POST may not have reached the bridge before the restart: send it again.
  bridge.drain_posted = false;
}

void Fleet::bind_instance(const std::string& label, const linode::Instance& instance) {
  auto it = bridges_.find(label);
  if (it == bridges_.end()) return;
  it->second.linode_id = instance.id;
  it->second.private_ip = instance.private_ipv4;
  it->second.public_ip = instance.public_ipv4;
  it->second.create_in_flight = false;
}

void Fleet::forget_unless_present(const std::string& name) {
  auto it = bridges_.find(name);
  if (it != bridges_.end() && !it->second.in_brewery) bridges_.erase(it);
}

int Fleet::consecutive_failed_boots() const {
  int in_progress = 0;
  for (const auto& [name, bridge] : bridges_) {
    if (bridge.state == Lifecycle::kFailed) ++in_progress;
  }
  return consecutive_failed_boots_ + in_progress;
}

std::vector<std::string> Fleet::recent_failures(MonoTime now) const {
  std::vector<std::string> names;
  for (const auto& [name, when] : failed_recently_) {
    if (bridges_.count(name) == 0 && now - when <= kFailedVisible) names.push_back(name);
  }
  return names;
}

void Fleet::prune_failures(MonoTime now) {
  std::erase_if(failed_recently_,
                [&](const auto& entry) { return now - entry.second > kFailedVisible; });
}

Bridge* Fleet::find(const std::string& name) {
  auto it = bridges_.find(name);
  return it == bridges_.end() ? nullptr : &it->second;
}

const Bridge* Fleet::find(const std::string& name) const {
  auto it = bridges_.find(name);
  return it == bridges_.end() ? nullptr : &it->second;
}

bool Fleet::fresh(const Bridge& bridge, MonoTime now) const {
  return bridge.in_brewery && now - bridge.last_update <= rules_.silence_timeout;
}

std::string Fleet::external_state(const Bridge& bridge) {
  switch (bridge.state) {
    case Lifecycle::kDeleting:
    case Lifecycle::kFailed:
    case Lifecycle::kDraining:
    case Lifecycle::kShuttingDown:
      return std::string(to_string(bridge.state));
    default:
      break;
  }
  if (!bridge.managed) return "unmanaged";
  return std::string(to_string(bridge.state));
}

std::vector<scaling::BridgeView> Fleet::views(MonoTime now, WallTime wall_now) const {
  std::vector<scaling::BridgeView> views;
  views.reserve(bridges_.size());
  const double now_seconds = policy_seconds(now);
  for (const auto& [name, bridge] : bridges_) {
    scaling::BridgeView view;
    view.name = name;
    view.managed = bridge.managed;
    view.in_brewery = bridge.in_brewery;
    if (bridge.created_at) {
      view.created_at = now_seconds - Seconds(wall_now - *bridge.created_at).count();
    }
    if (fresh(bridge, now)) {
      view.stress = bridge.stats.stress_level;
      // Participants connected to this bridge (relayed endpoints excluded where published).
      if (auto local = bridge.stats.local_participants()) {
        view.participants = static_cast<int>(*local);
      }
      // JVB's largest_conference (participants of its largest conference), for the learnt room
      // (ScalingConfig::learn_largest_conference); absent or stale: unknown.
      if (auto largest = bridge.stats.largest_conference) {
        view.largest_conference =
            static_cast<int>(std::min<int64_t>(*largest, std::numeric_limits<int>::max()));
      }
    }
    switch (bridge.state) {
      case Lifecycle::kDeleting:
      case Lifecycle::kFailed:
        view.state = scaling::BridgeState::kDeleting;
        break;
      case Lifecycle::kShuttingDown:
        view.state = scaling::BridgeState::kShuttingDown;
        view.state_since = policy_seconds(bridge.shutdown_started);
        view.drained_empty = bridge.drained_empty;
        break;
      case Lifecycle::kUnhealthy:
        view.state = scaling::BridgeState::kUnhealthy;
        view.state_since = policy_seconds(bridge.unhealthy_since);
        break;
      case Lifecycle::kDraining:
        if (!bridge.in_brewery) {
          // Out of the brewery while draining (restarting?): lost until it is back.
          view.state = scaling::BridgeState::kLost;
          view.state_since = policy_seconds(bridge.lost_since);
          break;
        }
        view.state = scaling::BridgeState::kDraining;
        // The drain timeout runs from when the drain took effect (the request time until then).
        view.state_since = policy_seconds(bridge.drain_effective ? bridge.drain_effective_at
                                                                 : bridge.drain_started);
        view.drained_empty = bridge.drained_empty;
        break;
      case Lifecycle::kLost:
        view.state = scaling::BridgeState::kLost;
        view.state_since = policy_seconds(bridge.lost_since);
        break;
      case Lifecycle::kProvisioning:
        view.state = scaling::BridgeState::kProvisioning;
        view.state_since = policy_seconds(bridge.boot_clock_start.value_or(now));
        view.stress = 0.0;
        view.participants = 0;
        break;
      default:
        if (bridge.stats.refuses_new_conferences()) {
          // Someone else (an operator) drains it: not capacity, and never touched by the policy.
          view.state = scaling::BridgeState::kDraining;
          view.state_since = now_seconds;
          view.foreign_drain = true;
        } else {
          view.state = scaling::BridgeState::kReady;
        }
        break;
    }
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace agent
