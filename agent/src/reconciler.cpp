#include "agent/reconciler.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "agent/linode_preflight.h"
#include "agent/schedule_section.h"

namespace agent {

namespace {

FleetRules rules_for(const Config& config) {
  // A bridge whose last presence is older than stats_timeout_seconds (or than 3 periods,
  // whichever is longer) has unknown stats.
  FleetRules rules;
  rules.silence_timeout = to_mono(
      Seconds(std::max(config.xmpp.stats_timeout_seconds, 3 * config.scaling.period_seconds)));
  return rules;
}

}  // namespace

Reconciler::Reconciler(Config config, bool dry_run, Deps deps)
    : config_(std::move(config)),
      deps_(std::move(deps)),
      state_(StateStore(config_.state_file), deps_.metrics),
      breaker_(config_.scaling.max_failed_boots),
      preflight_(deps_.io, deps_.clock, deps_.linode),
      fleet_(rules_for(config_)),
      pool_(config_, deps_.linode, state_, deps_.io),
      actuator_(Actuator::Deps{config_, fleet_, pool_, deps_.drains, state_, deps_.clock,
                               deps_.metrics, manual_drains_,
                               [this](const std::string& label) { on_failed_boot(label); },
                               [this] { return creation_blocked(); }},
                dry_run) {
  policy_epoch_ = unix_seconds(deps_.clock.wall_now()) - policy_seconds(deps_.clock.mono_now());
  learned_saved_at_ = deps_.clock.mono_now();
  state_.set_before_save([this](PersistentState& state) {
    if (schedule_) state.schedule_events = schedule::events_to_json(schedule_->runtime_events());
    // What the policy learnt rides along with every save (it is bounded: under ~20 kB).
    nlohmann::json learned = policy_.learned_state();
    if (auto problem = learned_state_problem(learned)) {
      if (!learned_too_large_logged_) {
        spdlog::warn("what the scaling policy learnt {}: not saved in {}", *problem,
                     config_.state_file);
        learned_too_large_logged_ = true;
      }
      learned = nullptr;
    }
    state.learned = std::move(learned);
    learned_saved_at_ = deps_.clock.mono_now();
  });
  request_tick_ = [this] { boost::asio::post(deps_.io, [this] { tick(); }); };
}

// ---- start-up --------------------------------------------------------------------------

bool Reconciler::start() {
  state_.load();
  if (!load_schedule()) return false;
  restore_learned();
  breaker_.from_json(state_.data().failed_boots);
  if (auto sentence = breaker_.sentence()) {
    spdlog::error("{} (restored from {})", *sentence, config_.state_file);
  }
  preflight_.start(linode_preflight_request(config_.linode));
  const MonoTime now = deps_.clock.mono_now();
  const WallTime wall_now = deps_.clock.wall_now();
  for (const auto& drain : state_.data().drains) {
    // The drain's start is persisted in wall time; its timeout runs on the monotonic clock.
    const auto age = wall_now - from_unix_seconds(static_cast<double>(drain.started_at));
    fleet_.restore_drain(drain.bridge, drain.linode_id, now - to_mono(age));
  }
  if (!state_.data().drains.empty()) {
    spdlog::info("resuming {} drain(s) from {}", state_.data().drains.size(), config_.state_file);
  }
  effective_ = bounds(wall_now);
  return true;
}

// Advisory: a missing `learned` (a file of the previous version) starts empty and silent; an
// unusable one is ignored with one warning, and nothing else in the file is affected.
void Reconciler::restore_learned() {
  nlohmann::json& learned = state_.data().learned;
  if (learned.is_null()) return;
  std::optional<std::string> problem = learned_state_problem(learned);
  if (!problem) {
    try {
      policy_.restore_learned_state(learned);
      // restore_learned_state ignores what it cannot read: say so when nothing was usable.
      const nlohmann::json empty = scaling::Policy{}.learned_state();
      if (learned != empty && policy_.learned_state() == empty) {
        problem = "holds nothing the scaling policy can use";
      }
    } catch (const std::exception& e) {
      policy_ = scaling::Policy{};
      problem = std::string("cannot be read: ") + e.what();
    }
  }
  if (problem) {
    spdlog::warn(
        "\"learned\" in {} {}: ignored, the scaling policy learns again from what it observes "
        "(the rest of the state file is used)",
        config_.state_file, *problem);
    learned = nullptr;
    return;
  }
  spdlog::info("restored what the scaling policy learnt from {}", config_.state_file);
}

void Reconciler::save_learned_if_due(MonoTime now) {
  if (now - learned_saved_at_ < kLearnedSaveInterval) return;
  if (policy_.learned_state() == state_.data().learned) {
    learned_saved_at_ = now;  // nothing new learnt: nothing to write
    return;
  }
  state_.save();  // the before-save hook takes the learnt state and restarts the interval
}

bool Reconciler::load_schedule() {
  std::vector<std::string> errors;
  // The schedule section was parsed (and validated) once by load_config.
  schedule_.emplace(config_.schedule_config ? config_.schedule_config->config
                                            : schedule::ScheduleConfig{});
  auto events = schedule::events_from_json(state_.data().schedule_events, "state.schedule_events",
                                           config_.scaling, errors);
  for (auto& event : events) {
    const std::string name = event.name;
    if (auto error = schedule_->add_event(std::move(event), config_.scaling)) {
      spdlog::error("event {} from {} is not restored: {}", name, config_.state_file, *error);
    }
  }
  for (const auto& error : errors) spdlog::error("{}", error);
  return errors.empty() || !config_.schedule_config;
}

void Reconciler::reload(const Config& fresh) {
  const bool policy_changed = fresh.scaling.policy != config_.scaling.policy;
  config_.scaling = fresh.scaling;
  config_.drain = fresh.drain;
  config_.linode.region = fresh.linode.region;
  config_.linode.type = fresh.linode.type;
  config_.linode.image = fresh.linode.image;
  config_.linode.user_data_template = fresh.linode.user_data_template;
  config_.schedule = fresh.schedule;
  config_.schedule_config = fresh.schedule_config;
  fleet_.set_rules(rules_for(config_));
  fleet_.reset_failed_boots();  // a reload may have fixed what made boots fail
  breaker_.set_max(config_.scaling.max_failed_boots);
  reset_breaker("the configuration was reloaded");
  preflight_.start(linode_preflight_request(config_.linode));
  load_schedule();
  if (policy_changed) policy_.reset();
  spdlog::info("SIGHUP: configuration reloaded from {} ({})", config_.path, describe_bounds());
}

void Reconciler::stop() {
  stopping_ = true;
  actuator_.stop();
  preflight_.stop();
}

// ---- issue 16: the failed-boot breaker and the runtime preflight ----------------------------

void Reconciler::on_failed_boot(const std::string& label) {
  const bool was_suspended = breaker_.suspended();
  if (!breaker_.on_failed(label, deps_.clock.wall_now())) return;
  state_.data().failed_boots = breaker_.to_json();
  state_.save();
  if (!was_suspended && breaker_.suspended()) {
    spdlog::error("{}", *breaker_.sentence());
    actuator_.block_logged(*breaker_.sentence());  // once, not again when a create is skipped
  }
}

void Reconciler::sync_breaker() {
  if (fleet_.boots_joined() == boots_joined_seen_) return;
  boots_joined_seen_ = fleet_.boots_joined();
  reset_breaker("a new bridge joined the brewery");
}

void Reconciler::reset_breaker(const char* why) {
  if (breaker_.count() == 0) return;
  spdlog::info("failed-boot count ({} in a row) reset: {}{}", breaker_.count(), why,
               breaker_.suspended() ? "; creation resumes" : "");
  breaker_.reset();
  state_.data().failed_boots = breaker_.to_json();
  state_.save();
}

std::optional<std::string> Reconciler::creation_blocked() const {
  if (auto sentence = breaker_.sentence()) return sentence;
  if (auto reason = preflight_.blocking_reason()) {
    return "creation stopped: " + *reason + " (observation and drains go on)";
  }
  return std::nullopt;
}

// ---- observation: the brewery -------------------------------------------------------------

void Reconciler::on_brewery_event(const xmpp::Event& event) {
  const MonoTime now = deps_.clock.mono_now();
  // A bridge that never publishes `participants` (JVB's stats filter): one clear warning.
  if (auto warning = missing_participants_.observe(event)) spdlog::warn("{}", *warning);
  Notes notes;
  switch (event.type) {
    case xmpp::Event::Type::kConnected:
      if (ever_connected_ && deps_.metrics) deps_.metrics->count_xmpp_reconnect();
      ever_connected_ = true;
      xmpp_connected_ = true;
      if (deps_.metrics) deps_.metrics->set_xmpp_connected(true);
      // The boot clock runs only while we can see the brewery.
      fleet_.on_connected(now);
      spdlog::info("brewery {} joined as {}", config_.xmpp.brewery,
                   deps_.nickname ? deps_.nickname() : config_.xmpp.nickname);
      break;
    case xmpp::Event::Type::kDisconnected:
      if (xmpp_connected_ || !event.message.empty()) {
        spdlog::warn(
            "brewery connection lost: {} (holding: nothing is drained or deleted "
            "until it is back)",
            event.message);
      }
      xmpp_connected_ = false;
      if (deps_.metrics) deps_.metrics->set_xmpp_connected(false);
      fleet_.on_disconnected();
      break;
    case xmpp::Event::Type::kJoined:
    case xmpp::Event::Type::kStats:
      fleet_.on_presence(event.bridge, event.stats, now, notes);
      break;
    case xmpp::Event::Type::kLeft:
      fleet_.on_left(event.bridge, now, notes);
      break;
    case xmpp::Event::Type::kError:
      spdlog::warn("brewery: {}", event.message);
      break;
  }
  write_notes(notes);
  sync_breaker();
}

void Reconciler::write_notes(const Notes& notes) const {
  for (const auto& note : notes) {
    if (note.level == Note::Level::kWarn) {
      spdlog::warn("{}", note.text);
    } else {
      spdlog::info("{}", note.text);
    }
  }
}

// ---- the period ----------------------------------------------------------------------------

MonoClock::duration Reconciler::period_length() const {
  return to_mono(Seconds(std::max(0.05, effective_.config.period_seconds)));
}

void Reconciler::tick() {
  if (stopping_) return;
  effective_ = bounds(deps_.clock.wall_now());
  if (list_in_flight_) return;  // a slow Linode API: decide on the next answer
  list_in_flight_ = true;
  pool_.list([this](linode::Result<std::vector<linode::Instance>> listed) {
    list_in_flight_ = false;
    if (stopping_) return;
    period(std::move(listed));
  });
}

// One period, one straight path.
void Reconciler::period(linode::Result<std::vector<linode::Instance>> listed) {
  state_.retry_if_unsaved();  // a state file that failed to save is retried every period
  preflight_.poll();          // retried with backoff while it reports problems
  observe(listed);
  sync_breaker();

  const MonoTime now = deps_.clock.mono_now();
  const WallTime wall_now = deps_.clock.wall_now();
  effective_ = bounds(wall_now);
  const scaling::Snapshot snapshot = this->snapshot(now, wall_now);

  const MonoTime started = deps_.clock.mono_now();
  const scaling::Decision decision = policy_.decide(snapshot, effective_);
  if (deps_.metrics) {
    deps_.metrics->observe_decision_duration(Seconds(deps_.clock.mono_now() - started).count());
  }
  last_decision_ = decision;
  record(decision);

  const std::optional<std::string> blind = blind_reason(visibility());
  actuator_.act(decision, blind);
  if (!blind) actuator_.retry_unfinished_drains();
  save_learned_if_due(deps_.clock.mono_now());

  publish();
}

void Reconciler::observe(const linode::Result<std::vector<linode::Instance>>& listed) {
  if (!listed.ok()) {
    const std::string message = listed.error().message();
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

  const MonoTime now = deps_.clock.mono_now();
  const std::vector<linode::Instance> owned = pool_.owned(listed.value());
  std::set<std::string> labels;
  for (const auto& instance : owned) labels.insert(instance.label);
  Notes notes;
  fleet_.merge_instances(owned, now, xmpp_connected_, notes);
  write_notes(notes);
  pool_.raise_label_counter(owned);

  // Pending creates: adopt what exists; forget what the API never created.
  const auto never_created =
      pool_.settle_pending(labels, deps_.clock.wall_now(), [this](const std::string& label) {
        const Bridge* bridge = fleet_.find(label);
        return bridge && bridge->create_in_flight;
      });
  for (const auto& label : never_created) fleet_.forget_unless_present(label);

  // Managed bridges missing from the list are gone (deleted by us or by hand).
  notes.clear();
  const auto gone = fleet_.drop_vanished(labels, pool_.pending_labels(), notes);
  write_notes(notes);
  for (const auto& name : gone) pool_.forget_drain(name);
  if (!gone.empty()) state_.save();
}

scaling::EffectiveConfig Reconciler::bounds(WallTime now) const {
  scaling::ScalingConfig base = config_.scaling;
  if (state_.data().min_override) base.min_bridges = *state_.data().min_override;
  if (state_.data().max_override) base.max_bridges = *state_.data().max_override;
  base.min_bridges = std::min(base.min_bridges, base.max_bridges);
  scaling::EffectiveConfig effective = schedule_->effective(base, now);
  effective.config.min_bridges =
      std::min(effective.config.min_bridges, effective.config.max_bridges);
  return effective;
}

Visibility Reconciler::visibility() const {
  return Visibility{xmpp_connected_, linode_ok_, listed_once_, !linode_error_.empty()};
}

scaling::Snapshot Reconciler::snapshot(MonoTime now, WallTime wall_now) const {
  scaling::Snapshot snapshot;
  snapshot.now = policy_seconds(now) + policy_epoch_;
  snapshot.blind = blind_reason(visibility()).has_value();
  snapshot.overrides.paused = state_.data().paused;
  if (state_.data().pinned) snapshot.overrides.pinned = *state_.data().pinned;
  for (const auto& name : manual_drains_) snapshot.overrides.drain_requests.push_back(name);
  snapshot.bridges = fleet_.views(now, wall_now);
  for (auto& view : snapshot.bridges) {  // into the policy's epoch (see policy_epoch_)
    view.state_since += policy_epoch_;
    if (view.created_at) *view.created_at += policy_epoch_;
  }
  snapshot.failed_boots = breaker_.count();
  snapshot.can_undrain = true;  // the Actuator carries out Decision::undrains
  return snapshot;
}

// Logs every decision that acts (info) or whose reason changed (debug), and keeps the recent
// ones that matter for `ctl status`: actions, and changes of action (e.g. entering hold or
// paused), not every "none" period.
void Reconciler::record(const scaling::Decision& decision) {
  const bool acts = decision.create_count() > 0 || !decision.drains.empty() ||
                    !decision.undrains.empty() || !decision.shutdowns.empty() ||
                    !decision.deletes.empty();
  const std::string action(scaling::to_string(decision.outcome));
  const std::string reason = scaling::explain(decision);
  if (acts || reason != last_logged_reason_) {
    if (acts || decision.outcome != scaling::Action::kNone) {
      spdlog::info("decision: {} (desired {}): {}", action, decision.desired, reason);
    } else {
      spdlog::debug("decision: {} (desired {}): {}", action, decision.desired, reason);
    }
    last_logged_reason_ = reason;
  }
  if (acts || action != last_recorded_action_) {
    decisions_.push_back({deps_.clock.wall_now(), action, reason});
    while (decisions_.size() > 20) decisions_.pop_front();
    last_recorded_action_ = action;
  }
}

void Reconciler::publish() {
  fleet_.prune_failures(deps_.clock.mono_now());
  if (deps_.metrics) agent::publish(status_view(/*with_schedule=*/false), *deps_.metrics);
}

// ---- the read model ------------------------------------------------------------------------

std::optional<int> Reconciler::pinned_clamped() const {
  if (!state_.data().pinned) return std::nullopt;
  return std::clamp(*state_.data().pinned, effective_.config.min_bridges,
                    effective_.config.max_bridges);
}

std::string Reconciler::describe_bounds() const {
  const auto effective = effective_.config.max_bridges > 0 ? effective_.config : config_.scaling;
  return fmt::format("min {} max {} bridges", effective.min_bridges, effective.max_bridges);
}

StatusView Reconciler::status_view(bool with_schedule) const {
  const MonoTime now = deps_.clock.mono_now();
  StatusView view;
  for (const auto& [name, bridge] : fleet_.bridges()) {
    BridgeRow row;
    row.name = name;
    row.state = Fleet::external_state(bridge);
    if (fleet_.fresh(bridge, now)) {
      row.stress = bridge.stats.stress_level;
      row.participants = bridge.stats.participants;
      row.conferences = bridge.stats.conferences;
    }
    row.managed = bridge.managed;
    row.private_ip = bridge.private_ip;
    row.linode_id = bridge.linode_id;
    view.bridges.push_back(std::move(row));
  }
  for (const auto& name : fleet_.recent_failures(now)) {
    BridgeRow row;
    row.name = name;
    row.state = "failed";
    row.managed = true;
    view.bridges.push_back(std::move(row));
  }
  view.decisions.assign(decisions_.begin(), decisions_.end());
  view.paused = state_.data().paused;
  view.override_count = pinned_clamped();
  view.min = effective_.config.min_bridges;
  view.max = effective_.config.max_bridges;
  view.desired = last_decision_.desired;
  view.cluster_stress = last_decision_.cluster_stress;
  view.xmpp_connected = xmpp_connected_;
  view.linode_ok = linode_ok_;
  view.blind_reason = blind_reason(visibility());
  view.dry_run = actuator_.dry_run();
  view.state_file_ok = state_.ok();
  view.state_file_error = state_.error();
  view.consecutive_failed_boots = breaker_.count();
  view.creation_suspended = breaker_.suspended();
  view.creation_suspended_reason = breaker_.sentence();
  view.preflight_ok = preflight_.ok();
  for (const auto& problem : preflight_.problems()) {
    view.preflight_problems.push_back(problem.key_path + ": " + problem.sentence);
  }
  if (!preflight_.answered()) view.preflight_problems.push_back(*preflight_.blocking_reason());
  if (!effective_.window.empty()) view.schedule_min = effective_.config.min_bridges;
  view.window = effective_.window;
  if (with_schedule) view.schedule = schedule_status(3);
  return view;
}

nlohmann::json Reconciler::schedule_status(std::size_t count) const {
  return schedule_->status_json(config_.scaling, deps_.clock.wall_now(), count);
}

// ---- ctl operations ------------------------------------------------------------------------

void Reconciler::request_tick() {
  if (request_tick_) request_tick_();
}

void Reconciler::set_paused(bool paused) {
  state_.data().paused = paused;
  if (!paused) {
    fleet_.reset_failed_boots();  // ctl resume also resumes a suspended creation
    reset_breaker("ctl resume");
  }
  state_.save();
  spdlog::info("ctl: scaling {}", paused ? "paused" : "resumed");
  publish();
}

Reconciler::Pin Reconciler::pin(int requested) {
  state_.data().pinned = requested;
  state_.save();
  const auto& bounds = effective_.config;
  const int clamped = std::clamp(requested, bounds.min_bridges, bounds.max_bridges);
  spdlog::info("ctl: desired count pinned to {} (requested {})", clamped, requested);
  request_tick();
  return {requested, clamped, bounds.min_bridges, bounds.max_bridges};
}

int Reconciler::unpin() {
  state_.data().pinned.reset();
  state_.save();
  spdlog::info("ctl: back to automatic scaling");
  return last_decision_.desired;
}

std::optional<std::string> Reconciler::request_drain(const std::string& name) {
  // Queued for the policy, which drains it at the next period (after creating a replacement
  // first when it is the last ready bridge).
  const Bridge* bridge = fleet_.find(name);
  if (!bridge || !bridge->managed || !bridge->linode_id) {
    return "no managed bridge named \"" + name +
           "\" (ctl status lists them; unmanaged bridges are never drained)";
  }
  if (bridge->draining() || bridge->deleting()) {
    return "bridge " + name + " is already " + Fleet::external_state(*bridge);
  }
  manual_drains_.insert(name);
  spdlog::info("ctl: drain of bridge {} requested", name);
  request_tick();
  return std::nullopt;
}

std::variant<Reconciler::Bounds, std::string> Reconciler::set_bound(const std::string& key, int n) {
  const int other_min = state_.data().min_override.value_or(config_.scaling.min_bridges);
  const int other_max = state_.data().max_override.value_or(config_.scaling.max_bridges);
  if (key == "min" && n > other_max) {
    return "min " + std::to_string(n) + " would exceed max " + std::to_string(other_max);
  }
  if (key == "max" && (n < other_min || n < 1)) {
    return "max " + std::to_string(n) + " would be below min " + std::to_string(other_min) +
           " (or 0)";
  }
  (key == "min" ? state_.data().min_override : state_.data().max_override) = n;
  state_.save();
  effective_ = bounds(deps_.clock.wall_now());
  publish();
  spdlog::info("ctl: {}_bridges set to {}", key, n);
  request_tick();
  return Bounds{effective_.config.min_bridges, effective_.config.max_bridges};
}

std::variant<schedule::Event, std::string> Reconciler::add_event(const nlohmann::json& request) {
  std::vector<std::string> errors;
  auto parsed = schedule::event_from_json(request, "event", config_.scaling, errors);
  if (!parsed) return errors.empty() ? std::string("invalid event") : errors.front();
  if (auto error = schedule_->add_event(*parsed, config_.scaling)) return *error;
  state_.save();
  spdlog::info("ctl: event {} added", parsed->name);
  request_tick();
  return *parsed;
}

std::optional<std::string> Reconciler::remove_event(const std::string& name) {
  if (auto error = schedule_->remove_event(name)) return error;
  state_.save();
  spdlog::info("ctl: event {} removed", name);
  return std::nullopt;
}

}  // namespace agent
