#include "agent/actuator.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace agent {

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

template <class T>
std::string format_optional(const std::optional<T>& value) {
  if (!value) return "unknown";
  return fmt::format("{}", *value);
}

constexpr std::chrono::seconds kDrainRequestTimeout{10};

}  // namespace

static bool acts(const scaling::Decision& decision) {
  return decision.create_count() > 0 || !decision.drains.empty() || !decision.undrains.empty() ||
         !decision.shutdowns.empty() || !decision.deletes.empty();
}

void Actuator::act(const scaling::Decision& decision,
                   const std::optional<std::string>& blind_reason) {
  if (blind_reason) {
    if (acts(decision)) {
      spdlog::warn("holding: {}; no instance is created, drained or deleted", *blind_reason);
    }
    return;
  }
  if (dry_run_) {
    const int creates = decision.create_count();
    if (creates > 0) spdlog::info("dry run: would create {} bridge(s)", creates);
    for (const auto& drain : decision.drains) spdlog::info("dry run: would drain {}", drain.bridge);
    for (const auto& undrain : decision.undrains) {
      spdlog::info("dry run: would undrain {}", undrain.bridge);
    }
    for (const auto& shutdown : decision.shutdowns) {
      spdlog::info("dry run: would shut down {}", shutdown.bridge);
    }
    for (const auto& del : decision.deletes) spdlog::info("dry run: would delete {}", del.bridge);
    return;
  }
  for (const auto& drain : decision.drains) {
    const bool manual = d_.manual_drains.count(drain.bridge) > 0;
    const bool started = start_drain(drain.bridge, drain.reason);
    // A manual request stays queued only while the state file refuses to record its drain.
    if (manual && (started || d_.state.ok())) d_.manual_drains.erase(drain.bridge);
  }
  for (const auto& undrain : decision.undrains) {
    if (Bridge* bridge = d_.fleet.find(undrain.bridge)) this->undrain(*bridge, undrain.reason);
  }
  for (const auto& shutdown : decision.shutdowns) {
    if (Bridge* bridge = d_.fleet.find(shutdown.bridge)) shut_down(*bridge, shutdown.reason);
  }
  for (const auto& del : decision.deletes) {
    Bridge* bridge = d_.fleet.find(del.bridge);
    if (bridge) remove(*bridge, del.reason);
  }
  // Creates last: a boot that failed in this very decision counts before anything is bought.
  const int max_failed = d_.config.scaling.max_failed_boots;
  const bool suspended = max_failed > 0 && d_.fleet.consecutive_failed_boots() >= max_failed;
  if (suspended && !suspension_logged_) {
    spdlog::error(
        "creation suspended: {} boots in a row never joined the brewery (ctl resume, a config "
        "reload or a bridge that joins resumes it)",
        d_.fleet.consecutive_failed_boots());
  }
  suspension_logged_ = suspended;
  if (suspended) return;
  bool refused = false;
  for (const auto& create : decision.creates) {
    for (int i = 0; i < create.count && !refused; ++i) {
      refused = !this->create(create.reason);  // the state file refuses: no further create
    }
  }
}

bool Actuator::create(scaling::Reason reason) {
  const MonoTime now = d_.clock.mono_now();
  const WallTime wall_now = d_.clock.wall_now();
  const std::optional<std::string> label = d_.pool.reserve_label(wall_now);
  if (!label) {
    spdlog::debug("create skipped: the state file {} cannot be written", d_.state.file().string());
    return false;
  }
  d_.fleet.add_created(*label, now, wall_now);
  count(ScalingAction::kCreate, reason);
  spdlog::info("creating bridge {} ({} in {}, reason {})", *label, d_.config.linode.type,
               d_.config.linode.region, scaling::to_string(reason));
  d_.pool.create(*label, [this, label = *label](linode::Result<linode::Instance> result) {
    on_created(label, result);
  });
  return true;
}

void Actuator::on_created(const std::string& label,
                          const linode::Result<linode::Instance>& result) {
  if (stopping_) return;
  if (result.ok()) {
    const auto& instance = result.value();
    spdlog::info("bridge {} created as Linode {} (status {})", label, instance.id, instance.status);
    bind(label, instance);
    return;
  }
  const linode::Error& error = result.error();
  const bool ambiguous = error.kind == linode::ErrorKind::kAmbiguous ||
                         error.kind == linode::ErrorKind::kTransport ||
                         (error.kind == linode::ErrorKind::kBadRequest && error.field == "label");
  if (ambiguous) {
    spdlog::warn("creating bridge {} got no clear answer ({}); looking it up by label", label,
                 error.message());
    d_.pool.find_by_label(label, [this, label](linode::Result<std::vector<linode::Instance>> r) {
      on_label_lookup(label, r);
    });
    return;
  }
  spdlog::error("creating bridge {} failed: {}", label, error.message());
  drop_pending(label);
}

void Actuator::on_label_lookup(const std::string& label,
                               const linode::Result<std::vector<linode::Instance>>& result) {
  if (stopping_) return;
  if (!result.ok()) {
    // Still unknown: keep the pending create; the periodic list settles it.
    spdlog::warn("looking up bridge {} by label failed: {}; the next list will settle it", label,
                 result.error().message());
    if (Bridge* bridge = d_.fleet.find(label)) bridge->create_in_flight = false;
    return;
  }
  for (const auto& instance : result.value()) {
    if (instance.label != label) continue;
    spdlog::info("bridge {} exists as Linode {}: adopted (no second instance created)", label,
                 instance.id);
    if (d_.metrics) d_.metrics->count_adoption(AdoptReason::kAmbiguousCreate);
    bind(label, instance);
    return;
  }
  spdlog::warn(
      "bridge {} does not exist after an unanswered create; it may be created again "
      "under a new label if load still needs it",
      label);
  drop_pending(label);
}

void Actuator::bind(const std::string& label, const linode::Instance& instance) {
  d_.fleet.bind_instance(label, instance);
  d_.pool.bind(label, instance.id);
}

void Actuator::drop_pending(const std::string& label) {
  d_.fleet.forget_unless_present(label);
  d_.pool.drop_pending(label);
}

bool Actuator::start_drain(const std::string& name, scaling::Reason reason) {
  Bridge* found = d_.fleet.find(name);
  if (!found || !found->managed || !found->linode_id) return false;
  Bridge& bridge = *found;
  if (bridge.draining() || bridge.deleting()) return false;
  const MonoTime now = d_.clock.mono_now();
  // Recorded in the state file first: a drain survives a restart, and a drain that cannot be
  // recorded is not started.
  const PersistentState before = d_.state.data();
  d_.state.data().drains.push_back(PendingDrain{
      name, *bridge.linode_id, static_cast<int64_t>(unix_seconds(d_.clock.wall_now()))});
  d_.state.data().last_scale_action_at = unix_seconds(d_.clock.wall_now());
  if (!d_.state.save()) {
    d_.state.data() = before;
    spdlog::debug("drain of {} skipped: the state file {} cannot be written", name,
                  d_.state.file().string());
    return false;
  }
  d_.fleet.move(bridge, Lifecycle::kDraining);
  bridge.drain_started = now;
  bridge.drain_posted = false;
  bridge.drain_effective = false;
  bridge.empty_since.reset();
  bridge.drained_empty = false;
  count(ScalingAction::kDrain, reason);
  spdlog::info("draining bridge {} (Linode {}, {} participants, reason {})", name,
               *bridge.linode_id, format_optional(bridge.stats.participants),
               scaling::to_string(reason));
  post_drain(bridge);
  return true;
}

std::string Actuator::drain_url(const Bridge& bridge) const {
  return fill_url(d_.config.drain.url, bridge);
}

std::string Actuator::fill_url(const std::string& pattern, const Bridge& bridge) {
  std::string url = pattern;
  url = replace_all(url, "{label}", bridge.name);
  url = replace_all(url, "{private_ip}", bridge.private_ip.value_or(""));
  url = replace_all(url, "{public_ip}", bridge.public_ip.value_or(""));
  url = replace_all(url, "{linode_id}", bridge.linode_id ? std::to_string(*bridge.linode_id) : "");
  return url;
}

void Actuator::post_drain(Bridge& bridge) {
  if (bridge.drain_in_flight || bridge.drain_posted) return;
  if (dry_run_) return;
  if (d_.config.drain.url.find("{private_ip}") != std::string::npos && !bridge.private_ip) {
    spdlog::warn("bridge {} has no private IP yet; drain request postponed", bridge.name);
    return;
  }
  bridge.drain_in_flight = true;
  const std::string url = drain_url(bridge);
  const std::string name = bridge.name;
  const MonoTime sent_at = d_.clock.mono_now();
  d_.drains.post(url, "{}", kDrainRequestTimeout, [this, name, url, sent_at](HttpOutcome outcome) {
    Bridge* bridge = d_.fleet.find(name);
    if (!bridge) return;
    bridge->drain_in_flight = false;
    if (outcome.status >= 200 && outcome.status < 300) {
      bridge->drain_posted = true;
      bridge->drain_posted_at = sent_at;
      spdlog::info("bridge {} accepted the drain request ({})", name, outcome.status);
    } else if (outcome.status >= 400 && outcome.status < 500 && bridge->draining()) {
      // Refused (e.g. 404: the endpoint is not enabled): the bridge keeps taking conferences,
      // so it is not draining; it stays ready and its drain record goes (DESIGN section 5).
      spdlog::error("bridge {} refused the drain request at {} (HTTP {}): it stays ready", name,
                    url, outcome.status);
      d_.fleet.move(*bridge, bridge->in_brewery ? Lifecycle::kReady : Lifecycle::kProvisioning);
      d_.pool.forget_drain(name);
      d_.state.save();
    } else {
      spdlog::warn("drain request to bridge {} at {} failed: {}; retrying next period", name, url,
                   outcome.status ? "HTTP " + std::to_string(outcome.status) : outcome.error);
    }
  });
}

void Actuator::retry_unfinished_drains() {
  for (auto& [name, bridge] : d_.fleet.bridges()) {
    if (bridge.draining()) post_drain(bridge);
  }
}

void Actuator::undrain(Bridge& bridge, scaling::Reason reason) {
  if (!bridge.managed || !bridge.draining() || bridge.drain_in_flight) return;
  if (d_.config.drain.disable_url.find("{private_ip}") != std::string::npos && !bridge.private_ip) {
    return;
  }
  bridge.drain_in_flight = true;
  const std::string url = fill_url(d_.config.drain.disable_url, bridge);
  const std::string name = bridge.name;
  spdlog::info("undraining bridge {} ({} participants, reason {}): load is back", name,
               format_optional(bridge.stats.participants), scaling::to_string(reason));
  d_.drains.post(url, "{}", kDrainRequestTimeout, [this, name, url, reason](HttpOutcome outcome) {
    Bridge* bridge = d_.fleet.find(name);
    if (!bridge) return;
    bridge->drain_in_flight = false;
    if (outcome.status < 200 || outcome.status >= 300) {
      spdlog::warn("undrain request to bridge {} at {} failed: {}; it keeps draining", name, url,
                   outcome.status ? "HTTP " + std::to_string(outcome.status) : outcome.error);
      return;
    }
    if (!bridge->draining()) return;
    d_.fleet.move(*bridge, bridge->in_brewery ? Lifecycle::kReady : Lifecycle::kProvisioning);
    bridge->drain_posted = false;
    bridge->drain_effective = false;
    bridge->empty_since.reset();
    bridge->drained_empty = false;
    count(ScalingAction::kUndrain, reason);
    spdlog::info("bridge {} is back in service (undrained)", name);
    d_.pool.forget_drain(name);
    d_.state.save();
  });
}

void Actuator::shut_down(Bridge& bridge, scaling::Reason reason) {
  if (!bridge.managed || !bridge.linode_id) {
    spdlog::error("refusing to shut down {}: not an instance this agent manages", bridge.name);
    return;
  }
  if (bridge.shutdown_in_flight || bridge.shutting_down()) return;
  const Lifecycle before = bridge.state;
  if (!d_.fleet.move(bridge, Lifecycle::kShuttingDown)) {
    spdlog::error("refusing to shut down {}: a {} bridge cannot be shut down", bridge.name,
                  to_string(bridge.state));
    return;
  }
  bridge.state_before_shutdown = before;
  bridge.shutdown_started = d_.clock.mono_now();
  bridge.shutdown_in_flight = true;
  count(ScalingAction::kShutdown, reason);
  if (reason == scaling::Reason::kDrainTimeout && d_.metrics) d_.metrics->count_drain_timeout();
  spdlog::info(
      "shutting down bridge {} gracefully (Linode {}, {} participants, reason {}): Jicofo moves "
      "its participants; the instance is deleted once the bridge has left the brewery",
      bridge.name, *bridge.linode_id, format_optional(bridge.stats.participants),
      scaling::to_string(reason));
  const std::string name = bridge.name;
  const auto& shutdown_url = d_.config.drain.shutdown_url;
  const bool needs_ip = shutdown_url && shutdown_url->find("{private_ip}") != std::string::npos;
  if (!shutdown_url || (needs_ip && !bridge.private_ip)) {
    shut_down_instance(name);
    return;
  }
  // JVB's graceful shutdown (Shutdown.java in jitsi-videobridge: the "graceful-shutdown"
  // property is required); if the endpoint fails, the Linode API shuts the instance down.
  const std::string url = fill_url(*shutdown_url, bridge);
  d_.drains.post(
      url, R"({"graceful-shutdown": true})", kDrainRequestTimeout,
      [this, name, url](HttpOutcome outcome) {
        if (stopping_) return;
        if (outcome.status >= 200 && outcome.status < 300) {
          Bridge* bridge = d_.fleet.find(name);
          if (bridge) bridge->shutdown_in_flight = false;
          spdlog::info("bridge {} accepted the graceful shutdown ({})", name, outcome.status);
          return;
        }
        spdlog::warn(
            "graceful shutdown request to bridge {} at {} failed: {}; shutting the "
            "instance down through the Linode API",
            name, url, outcome.status ? "HTTP " + std::to_string(outcome.status) : outcome.error);
        shut_down_instance(name);
      });
}

void Actuator::shut_down_instance(const std::string& name) {
  Bridge* found = d_.fleet.find(name);
  if (!found || !found->linode_id) return;
  d_.pool.shut_down(*found->linode_id, [this, name](linode::Result<linode::Done> result) {
    if (stopping_) return;
    Bridge* bridge = d_.fleet.find(name);
    if (!bridge) return;
    bridge->shutdown_in_flight = false;
    if (!result.ok()) {
      spdlog::error("shutting down bridge {} failed: {}; retrying next period", name,
                    result.error().message());
      if (bridge->shutting_down()) d_.fleet.move(*bridge, bridge->state_before_shutdown);
      return;
    }
    spdlog::info("bridge {} is shutting down", name);
  });
}

void Actuator::remove(Bridge& bridge, scaling::Reason reason) {
  if (!bridge.managed || !bridge.linode_id) {
    spdlog::error("refusing to delete {}: not an instance this agent manages", bridge.name);
    return;
  }
  if (bridge.delete_in_flight) return;
  const bool failed = reason == scaling::Reason::kBootTimeout;
  if (!bridge.deleting() &&
      !d_.fleet.move(bridge, failed ? Lifecycle::kFailed : Lifecycle::kDeleting)) {
    spdlog::error("refusing to delete {}: a {} bridge cannot be deleted", bridge.name,
                  to_string(bridge.state));
    return;
  }
  bridge.delete_in_flight = true;
  count(ScalingAction::kDelete, reason);
  spdlog::info("deleting bridge {} (Linode {}, reason {})", bridge.name, *bridge.linode_id,
               scaling::to_string(reason));
  const std::string name = bridge.name;
  d_.pool.remove(*bridge.linode_id, [this, name](linode::Result<linode::Done> result) {
    if (stopping_) return;
    Bridge* bridge = d_.fleet.find(name);
    if (!bridge) return;
    bridge->delete_in_flight = false;
    if (!result.ok()) {
      spdlog::error("deleting bridge {} failed: {}; retrying next period", name,
                    result.error().message());
      d_.fleet.move(*bridge, bridge->state_before_delete);
      return;
    }
    spdlog::info("bridge {} deleted", name);
    if (bridge->state == Lifecycle::kFailed) d_.fleet.remember_failed(name, d_.clock.mono_now());
    d_.pool.forget_drain(name);
    d_.fleet.erase(name);
    d_.pool.drop_pending(name);  // saves
  });
}

}  // namespace agent
