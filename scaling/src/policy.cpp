#include "scaling/policy.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "format.h"

namespace scaling {

std::string_view to_string(BridgeState state) noexcept {
  switch (state) {
    case BridgeState::kProvisioning:
      return "provisioning";
    case BridgeState::kReady:
      return "ready";
    case BridgeState::kDraining:
      return "draining";
    case BridgeState::kShuttingDown:
      return "shutting_down";
    case BridgeState::kDeleting:
      return "deleting";
    case BridgeState::kFailed:
      return "failed";
    case BridgeState::kUnhealthy:
      return "unhealthy";
    case BridgeState::kLost:
      return "lost";
  }
  return "unknown";
}

std::string_view to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::kStressHigh:
      return "stress_high";
    case Reason::kStressLow:
      return "stress_low";
    case Reason::kBelowMin:
      return "below_min";
    case Reason::kAboveMax:
      return "above_max";
    case Reason::kPinned:
      return "pinned";
    case Reason::kOperator:
      return "manual";
    case Reason::kReplacement:
      return "replacement";
    case Reason::kDrainedEmpty:
      return "drained";
    case Reason::kDrainTimeout:
      return "drain_timeout";
    case Reason::kLeftBrewery:
      return "left_brewery";
    case Reason::kBootTimeout:
      return "boot_timeout";
    case Reason::kUnhealthy:
      return "unhealthy";
    case Reason::kLost:
      return "lost";
  }
  return "unknown";
}

std::string_view to_string(Action action) noexcept {
  switch (action) {
    case Action::kNone:
      return "none";
    case Action::kScaleUp:
      return "scale_up";
    case Action::kScaleDown:
      return "scale_down";
    case Action::kHold:
      return "hold";
    case Action::kPinned:
      return "pinned";
    case Action::kPaused:
      return "paused";
    case Action::kDrain:
      return "drain";
    case Action::kRemove:
      return "remove";
  }
  return "unknown";
}

int Decision::create_count() const noexcept {
  int count = 0;
  for (const auto& create : creates) count += create.count;
  return count;
}

namespace {

constexpr int kNamedVictims = 5;  // drains named one by one in a reason

// Stress alone drives scaling; participants only refine (DESIGN §5 "Stats a decision needs").
bool has_known_stress(const BridgeView& bridge) {
  return bridge.stress.has_value() && std::isfinite(*bridge.stress);
}

std::string participants_text(const BridgeView& bridge) {
  return bridge.participants ? std::to_string(*bridge.participants) : "unknown";
}

std::string join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!joined.empty()) joined += "; ";
    joined += part;
  }
  return joined;
}

// How many bridges of each kind there are (stage 0).
struct Census {
  int ready = 0;         // kReady: capacity
  int provisioning = 0;  // kProvisioning: capacity at zero stress
  int other = 0;         // exist (max_bridges counts them) but are not capacity
  int known_ready = 0;   // ready with a known stress
  double stress_sum = 0;
  std::string unknown_bridge;  // first ready bridge whose stress is unknown
};

Census take_census(const Snapshot& snapshot) {
  Census census;
  for (const auto& bridge : snapshot.bridges) {
    switch (bridge.state) {
      case BridgeState::kReady:
        ++census.ready;
        if (has_known_stress(bridge)) {
          ++census.known_ready;
          census.stress_sum += std::max(0.0, *bridge.stress);
        } else if (census.unknown_bridge.empty()) {
          census.unknown_bridge = bridge.name;
        }
        break;
      case BridgeState::kProvisioning:
        ++census.provisioning;
        break;
      case BridgeState::kDraining:
      case BridgeState::kShuttingDown:
      case BridgeState::kDeleting:
      case BridgeState::kUnhealthy:
      case BridgeState::kLost:
        ++census.other;
        break;
      case BridgeState::kFailed:
        break;
    }
  }
  return census;
}

// What the stages share within one decide() call.
struct Work {
  Work(const Snapshot& s, const ScalingConfig& c, Decision& d)
      : snapshot(s), config(c), decision(d), census(take_census(s)) {}
  const Snapshot& snapshot;
  const ScalingConfig& config;
  Decision& decision;
  Census census;
  std::vector<std::string> notes;
  std::set<std::string> acted_on;  // deleted, shut down or drained this period
  int ready_remaining = 0;         // ready bridges not drained this period
  bool last_ready_deferred = false;
  bool replacement_needed = false;  // an unhealthy bridge waits for a replacement
  double projected_sum = 0;         // Σ stress with trend and predicted arrivals (no yo-yo)
  std::set<std::string> held;       // drained, empty, kept until their paid hour ends
  double drain_lead = 0;            // billing-aware drain lead in force (learnt or configured)

  void remove(const BridgeView& bridge, Reason reason, std::string note) {
    decision.deletes.push_back({bridge.name, reason});
    acted_on.insert(bridge.name);
    if (bridge.state == BridgeState::kProvisioning) {
      --census.provisioning;
    } else {
      --census.other;
    }
    notes.push_back(std::move(note));
  }
  void shut_down(const BridgeView& bridge, Reason reason, std::string note) {
    decision.shutdowns.push_back({bridge.name, reason});
    acted_on.insert(bridge.name);
    notes.push_back(std::move(note));
  }
};

// Stage 1: the lifecycle's own steps — drained or timed-out drains, shut-down bridges that left,
// boots that never joined, bridges unhealthy or lost for too long. Never an instance whose
// bridge is in the brewery with participants: those get a graceful shutdown.
void cleanup(Work& work) {
  const ScalingConfig& config = work.config;
  const double now = work.snapshot.now;
  for (const auto& bridge : work.snapshot.bridges) {
    if (!bridge.managed) continue;  // never delete what this agent did not create
    const double since = now - bridge.state_since;
    switch (bridge.state) {
      case BridgeState::kDraining:
        if (bridge.foreign_drain) break;
        if (bridge.drained_empty) {
          if (config.steer_holds && config.billing_period_seconds > 0 && bridge.created_at &&
              bridge.in_brewery) {
            const double age = std::max(0.0, now - *bridge.created_at);
            const double left =
                config.billing_period_seconds - std::fmod(age, config.billing_period_seconds);
            if (left > 2 * config.period_seconds) {
              work.held.insert(bridge.name);
              break;  // held: paid anyway, released before anything is created
            }
          }
          work.remove(bridge, Reason::kDrainedEmpty, bridge.name + " drained empty: delete");
        } else if (!bridge.in_brewery) {
          work.remove(bridge, Reason::kLeftBrewery,
                      bridge.name + " left the brewery while draining: delete");
        } else if (since >= config.drain_timeout_seconds) {
          work.shut_down(bridge, Reason::kDrainTimeout,
                         bridge.name + " drain timed out after " + format_number(since, 0) +
                             " s with " + participants_text(bridge) +
                             " participants: shut down gracefully");
        }
        break;
      case BridgeState::kShuttingDown:
        if (bridge.foreign_drain) break;
        if (!bridge.in_brewery) {
          work.remove(bridge, Reason::kLeftBrewery,
                      bridge.name + " left the brewery after its shutdown: delete");
        } else if (bridge.drained_empty) {
          work.remove(bridge, Reason::kDrainedEmpty,
                      bridge.name + " shutting down and empty: delete");
        }
        break;
      case BridgeState::kProvisioning:
        if (since >= config.boot_timeout_seconds) {
          work.remove(bridge, Reason::kBootTimeout,
                      bridge.name + " did not join within " +
                          format_number(config.boot_timeout_seconds, 0) + " s: delete (failed)");
        }
        break;
      case BridgeState::kUnhealthy:
        if (since < config.unhealthy_timeout_seconds) break;
        if (!bridge.in_brewery || bridge.drained_empty) {
          work.remove(bridge, Reason::kUnhealthy,
                      bridge.name + " unhealthy for " + format_number(since, 0) + " s: delete");
        } else if (work.census.ready > 0) {
          work.shut_down(bridge, Reason::kUnhealthy,
                         bridge.name + " unhealthy for " + format_number(since, 0) + " s with " +
                             participants_text(bridge) + " participants: shut down gracefully");
        } else {
          work.replacement_needed = true;
          work.notes.push_back(bridge.name + " unhealthy for " + format_number(since, 0) +
                               " s: shut down once a replacement is ready");
        }
        break;
      case BridgeState::kLost:
        if (since >= config.unhealthy_timeout_seconds) {
          work.remove(bridge, Reason::kLost,
                      bridge.name + " out of the brewery for " + format_number(since, 0) +
                          " s: delete (lost)");
        }
        break;
      case BridgeState::kReady:
      case BridgeState::kDeleting:
      case BridgeState::kFailed:
        break;
    }
  }
}

// Stage 2: the operator's `ctl drain` requests.
void operator_requests(Work& work) {
  const Snapshot& snapshot = work.snapshot;
  std::set<std::string> seen;
  for (const auto& name : snapshot.overrides.drain_requests) {
    if (!seen.insert(name).second) continue;
    const auto found = std::find_if(snapshot.bridges.begin(), snapshot.bridges.end(),
                                    [&](const BridgeView& b) { return b.name == name; });
    if (found == snapshot.bridges.end()) {
      work.notes.push_back("drain request for " + name + " ignored: no such bridge");
      continue;
    }
    if (!found->managed) {
      work.notes.push_back("drain request for " + name + " ignored: not managed by this agent");
      continue;
    }
    if (found->state != BridgeState::kReady && found->state != BridgeState::kProvisioning) {
      continue;  // already draining, deleting or gone
    }
    if (work.acted_on.count(name) != 0) continue;
    if (snapshot.overrides.paused) {
      work.notes.push_back("drain of " + name + " deferred: paused");
      continue;
    }
    if (found->state == BridgeState::kProvisioning) {
      // Not in the brewery yet, so it carries no conference: delete it directly.
      work.remove(*found, Reason::kOperator, name + " drain requested while provisioning: delete");
      continue;
    }
    if (work.ready_remaining <= 1) {
      work.last_ready_deferred = true;
      work.notes.push_back("drain of " + name + " deferred: it is the last ready bridge");
      continue;
    }
    work.decision.drains.push_back({name, Reason::kOperator});
    work.acted_on.insert(name);
    --work.ready_remaining;
    work.notes.push_back(name + " drained on request");
  }
}

// Stage 4: pin, replacement and the [min, max] bounds. Returns the reason a create would carry.
struct Bounded {
  int desired = 0;
  bool pinned = false;
  bool capped_by_max = false;
  Reason up_reason = Reason::kStressHigh;
};

Bounded bound(Work& work, int desired, std::string& load_reason, int current) {
  const ScalingConfig& config = work.config;
  const int max_bridges = std::max(0, config.max_bridges);
  const int min_bridges = std::clamp(config.min_bridges, 0, max_bridges);
  Bounded out;
  if (work.snapshot.overrides.pinned) {
    out.pinned = true;
    desired = *work.snapshot.overrides.pinned;
    load_reason = "pinned to " + std::to_string(desired) + " (load says: " + load_reason + ")";
  }
  bool replacement = false;
  if ((work.last_ready_deferred || work.replacement_needed) && work.census.provisioning == 0 &&
      desired <= current) {
    replacement = true;
    desired = current + 1;  // a replacement first, then the requested drain or shutdown
    if (work.last_ready_deferred) {
      work.notes.push_back("a replacement is created before the last ready bridge drains");
    }
  }
  const int clamped = std::clamp(desired, min_bridges, max_bridges);
  out.capped_by_max = clamped < desired;
  const bool raised_by_min = clamped > desired;
  if (clamped != desired) {
    work.notes.push_back(clamped > desired
                             ? "min_bridges " + std::to_string(min_bridges) + " raises " +
                                   std::to_string(desired) + " to " + std::to_string(clamped)
                             : "max_bridges " + std::to_string(max_bridges) + " caps " +
                                   std::to_string(desired) + " to " + std::to_string(clamped));
    desired = clamped;
  }
  out.desired = desired;
  out.up_reason = out.pinned      ? Reason::kPinned
                  : raised_by_min ? Reason::kBelowMin
                  : replacement   ? Reason::kReplacement
                                  : Reason::kStressHigh;
  return out;
}

// Bridges this agent drained that still hold participants, fullest first: undoing their drain
// is instant and their hour is paid (DESIGN §5 "Undrain before create").
std::vector<const BridgeView*> undrain_candidates(const Work& work) {
  std::vector<const BridgeView*> candidates;
  for (const auto& bridge : work.snapshot.bridges) {
    if (!bridge.managed || bridge.state != BridgeState::kDraining || bridge.foreign_drain ||
        !bridge.in_brewery || (bridge.drained_empty && work.held.count(bridge.name) == 0) ||
        work.acted_on.count(bridge.name) != 0) {
      continue;
    }
    const bool holds = bridge.participants ? *bridge.participants > 0
                                           : has_known_stress(bridge) && *bridge.stress > 0;
    if (holds || work.held.count(bridge.name) != 0) candidates.push_back(&bridge);
  }
  std::sort(candidates.begin(), candidates.end(), [](const BridgeView* a, const BridgeView* b) {
    const double la = a->participants ? *a->participants : a->stress.value_or(0) * 1e6;
    const double lb = b->participants ? *b->participants : b->stress.value_or(0) * 1e6;
    return la != lb ? la > lb : a->name < b->name;
  });
  return candidates;
}

// Stage 5a: more bridges — undrain first, then create within max_bridges.
bool scale_up(Work& work, const Bounded& bounded, int wanted, bool& blocked) {
  const ScalingConfig& config = work.config;
  if (work.snapshot.overrides.paused) {
    blocked = true;
    work.notes.push_back("paused: would create " + std::to_string(wanted));
    return false;
  }
  int undrained = 0;
  if (work.snapshot.can_undrain) {
    for (const BridgeView* bridge : undrain_candidates(work)) {
      if (undrained == wanted) break;
      work.decision.undrains.push_back({bridge->name, bounded.up_reason});
      work.acted_on.insert(bridge->name);
      work.notes.push_back("undrain " + bridge->name + " (" + participants_text(*bridge) +
                           " participants) instead of creating");
      ++undrained;
    }
    wanted -= undrained;
  }
  if (wanted == 0) return undrained > 0;
  if (config.max_failed_boots > 0 && work.snapshot.failed_boots >= config.max_failed_boots) {
    work.notes.push_back("creation suspended after " + std::to_string(work.snapshot.failed_boots) +
                         " failed boots (a bridge joining, a reload or ctl resume lifts it)");
    if (undrained == 0) blocked = true;
    return undrained > 0;
  }
  const int max_bridges = std::max(0, config.max_bridges);
  const int existing = work.census.ready + work.census.provisioning + work.census.other;
  const int room = std::max(0, max_bridges - existing);
  const int count = std::min(wanted, room);
  if (count < wanted) {
    work.notes.push_back("max_bridges " + std::to_string(max_bridges) + " reached (" +
                         std::to_string(existing) + " bridges exist, draining included): create " +
                         std::to_string(count) + " of " + std::to_string(wanted));
    if (count == 0 && undrained == 0) blocked = true;
  }
  if (count > 0) work.decision.creates.push_back({count, bounded.up_reason});
  return count > 0 || undrained > 0;
}

// Victims: managed ready bridges, fewest participants first; those that publish no participants
// after them, least stress first; ties by name.
std::vector<const BridgeView*> victims(const Work& work) {
  std::vector<const BridgeView*> candidates;
  for (const auto& bridge : work.snapshot.bridges) {
    if (bridge.managed && bridge.state == BridgeState::kReady &&
        work.acted_on.count(bridge.name) == 0) {
      candidates.push_back(&bridge);
    }
  }
  if (work.config.drain_by_age) {
    // The bridge whose newest conference is oldest empties first (older conferences end
    // sooner); bridges whose ages are unknown after those, by participants.
    std::sort(candidates.begin(), candidates.end(), [](const BridgeView* a, const BridgeView* b) {
      const double age_a = a->newest_conference_age.value_or(-1);
      const double age_b = b->newest_conference_age.value_or(-1);
      const bool empty_a = a->participants.value_or(1) == 0;
      const bool empty_b = b->participants.value_or(1) == 0;
      if (empty_a != empty_b) return empty_a;
      if (age_a != age_b) return age_a > age_b;
      const int pa = a->participants.value_or(0);
      const int pb = b->participants.value_or(0);
      return pa != pb ? pa < pb : a->name < b->name;
    });
    return candidates;
  }
  std::sort(candidates.begin(), candidates.end(), [](const BridgeView* a, const BridgeView* b) {
    if (a->participants.has_value() != b->participants.has_value()) {
      return a->participants.has_value();
    }
    if (a->participants && *a->participants != *b->participants) {
      return *a->participants < *b->participants;
    }
    if (!a->participants && a->stress != b->stress) {
      return a->stress.value_or(0) < b->stress.value_or(0);
    }
    return a->name < b->name;
  });
  return candidates;
}

// Stage 5b: fewer bridges — drain victims, waiting for the paid hour when billing-aware.
bool scale_down(Work& work, const EffectiveConfig& effective, const Bounded& bounded, int wanted,
                bool& blocked) {
  const ScalingConfig& config = work.config;
  const double now = work.snapshot.now;
  if (work.snapshot.overrides.paused) {
    blocked = true;
    work.notes.push_back("paused: would drain " + std::to_string(wanted));
    return false;
  }
  if (effective.inhibit_scale_down) {
    blocked = true;
    work.notes.push_back("scale-down inhibited by schedule window" +
                         (effective.window.empty() ? std::string() : " " + effective.window));
    return false;
  }
  if (!work.census.unknown_bridge.empty()) {
    blocked = true;
    work.notes.push_back("stats of " + work.census.unknown_bridge + " unknown: no scale-down");
    return false;
  }
  // Only a load-driven scale-down waits for the paid hour; an operator's pin or a lowered
  // max_bridges acts at once.
  const bool billing_may_wait = !bounded.pinned && !bounded.capped_by_max &&
                                config.billing_period_seconds > 0 && !config.steer_holds;
  const Reason reason = bounded.pinned          ? Reason::kPinned
                        : bounded.capped_by_max ? Reason::kAboveMax
                                                : Reason::kStressLow;
  int drained = 0;
  bool waiting_for_billing = false;
  std::size_t and_more = 0;  // index of the "and N more" note
  const auto paid_left = [&](const BridgeView* bridge) {
    const double age = std::max(0.0, now - *bridge->created_at);
    return config.billing_period_seconds - std::fmod(age, config.billing_period_seconds);
  };
  std::vector<const BridgeView*> candidates = victims(work);
  if (billing_may_wait) {
    // The bridges whose paid hour ends within the lead go first (in victim order).
    std::stable_partition(candidates.begin(), candidates.end(), [&](const BridgeView* bridge) {
      return !bridge->created_at || paid_left(bridge) <= work.drain_lead;
    });
  }
  // No yo-yo: the fleet left must not be above the scale-up line, or the next periods would
  // create again what this one drains.
  const bool guard = config.no_yoyo && !bounded.pinned && !bounded.capped_by_max;
  const double guard_line = config.policy == PolicyKind::kTarget
                                ? config.target_stress * (1 + kTargetTolerance)
                                : config.scale_up_threshold;
  double remaining_sum = work.projected_sum;
  int remaining_count = work.census.known_ready + work.census.provisioning -
                        (work.census.ready - work.ready_remaining);
  for (const BridgeView* victim : candidates) {
    if (drained == wanted || work.ready_remaining <= 1) break;
    if (guard) {
      const double victim_stress = victim->stress.value_or(0);
      const double mean_after =
          remaining_count > 1 ? (remaining_sum - victim_stress) / (remaining_count - 1) : 1e9;
      if (mean_after > guard_line) {
        work.notes.push_back("no scale-down: " + std::to_string(remaining_count - 1) +
                             " bridges would run at mean stress " + format_number(mean_after) +
                             " > " + format_number(guard_line) + " (no yo-yo)");
        if (drained == 0) blocked = true;
        return drained > 0;
      }
      remaining_sum -= victim_stress;
      --remaining_count;
    }
    if (billing_may_wait && victim->created_at) {
      const double left = paid_left(victim);
      if (left > work.drain_lead) {
        work.notes.push_back("scale-down waits until " + victim->name + "'s paid hour ends (" +
                             format_number(left / 60, 0) + " min left)");
        waiting_for_billing = true;
        break;
      }
    }
    work.decision.drains.push_back({victim->name, reason});
    work.acted_on.insert(victim->name);
    // Keep the reason one readable line: name the first few victims only.
    if (drained < kNamedVictims) {
      work.notes.push_back("drain " + victim->name + " (" +
                           std::to_string(victim->participants.value_or(0)) + " participants)");
    } else if (drained == kNamedVictims) {
      and_more = work.notes.size();
      work.notes.push_back("and more");
    }
    --work.ready_remaining;
    ++drained;
  }
  if (drained > kNamedVictims) {
    work.notes[and_more] = "and " + std::to_string(drained - kNamedVictims) + " more";
  }
  if (waiting_for_billing) {
    if (drained == 0) blocked = true;
  } else if (drained < wanted) {
    work.notes.push_back("only " + std::to_string(drained) + " of " + std::to_string(wanted) +
                         " can drain (managed ready bridges only, never the last ready one)");
    if (drained == 0) blocked = true;
  }
  return drained > 0;
}

// The deprecated string/name fields, derived from the typed ones.
void fill_deprecated_fields(Decision& decision) {
  decision.create = decision.create_count();
  decision.drain.clear();
  for (const auto& drain : decision.drains) decision.drain.push_back(drain.bridge);
  decision.remove.clear();
  decision.failed.clear();
  for (const auto& deletion : decision.deletes) {
    decision.remove.push_back(deletion.bridge);
    if (deletion.reason == Reason::kBootTimeout) decision.failed.push_back(deletion.bridge);
  }
  for (const auto& shutdown : decision.shutdowns) decision.remove.push_back(shutdown.bridge);
  decision.action = std::string(to_string(decision.outcome));
  decision.reason = explain(decision);
}

}  // namespace

std::string explain(const Decision& decision) { return join(decision.notes); }

// Stage 0: arrivals (gross increases of each bridge's stress) for the predictor, and how long
// this agent's drains take. Bounded by the bridges in the snapshot.
void Policy::learn(const Snapshot& snapshot, const ScalingConfig& config) {
  if (snapshot.blind) return;
  if (!(config.predictive_headroom_seconds > 0) && !config.learn_drain_lead &&
      !config.learn_largest_conference) {
    return;
  }
  // The bridge list keeps its order between snapshots in practice: compare by position and
  // fall back to a lookup by name only for the bridges that moved (O(n) at 2,000 bridges).
  std::unordered_map<std::string, double> moved;
  bool moved_built = false;
  const std::size_t count = snapshot.bridges.size();
  std::vector<double> stress(count, -1);
  double arrivals = 0;
  std::vector<std::pair<std::string, double>> draining;
  const auto find_since = [&](const std::string& name) -> const double* {
    for (const auto& entry : draining_since_) {
      if (entry.first == name) return &entry.second;
    }
    return nullptr;
  };
  double largest = 0;  // the largest conference on any bridge, in stress
  for (std::size_t i = 0; i < count; ++i) {
    const BridgeView& bridge = snapshot.bridges[i];
    if (bridge.largest_conference && *bridge.largest_conference > 0 && bridge.participants &&
        *bridge.participants > 0 && has_known_stress(bridge)) {
      largest = std::max(largest, std::max(0.0, *bridge.stress) / *bridge.participants *
                                      std::min(*bridge.largest_conference, *bridge.participants));
    }
    const bool carries =
        bridge.state == BridgeState::kReady || bridge.state == BridgeState::kDraining;
    if (carries && has_known_stress(bridge)) {
      stress[i] = std::max(0.0, *bridge.stress);
      double before = 0;
      if (i < last_names_.size() && last_names_[i] == bridge.name) {
        before = std::max(0.0, last_stress_[i]);
      } else {
        if (!moved_built) {
          moved.reserve(last_names_.size());
          for (std::size_t k = 0; k < last_names_.size(); ++k) {
            moved.emplace(last_names_[k], last_stress_[k]);
          }
          moved_built = true;
        }
        const auto found = moved.find(bridge.name);
        if (found != moved.end()) before = std::max(0.0, found->second);
      }
      arrivals += std::max(0.0, stress[i] - before);
    }
    if (bridge.managed && !bridge.foreign_drain && bridge.state == BridgeState::kDraining) {
      if (bridge.drained_empty || !bridge.in_brewery) {
        if (find_since(bridge.name)) drain_durations_.record(snapshot.now - bridge.state_since);
      } else {
        draining.emplace_back(bridge.name, bridge.state_since);
      }
    } else if (bridge.managed && bridge.state == BridgeState::kShuttingDown) {
      // A drain that timed out: it took at least this long.
      if (const double* since = find_since(bridge.name)) {
        drain_durations_.record(snapshot.now - *since);
      }
    }
  }
  last_names_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (last_names_[i] != snapshot.bridges[i].name) last_names_[i] = snapshot.bridges[i].name;
  }
  last_stress_ = std::move(stress);
  draining_since_ = std::move(draining);
  arrivals_.observe(snapshot.now, arrivals);
  largest_conference_.observe(snapshot.now, largest);
}

nlohmann::json Policy::learned_state() const {
  return nlohmann::json{{"arrivals", arrivals_.to_json()},
                        {"drain_durations", drain_durations_.to_json()},
                        {"largest_conference", largest_conference_.to_json()}};
}

void Policy::restore_learned_state(const nlohmann::json& state) {
  if (!state.is_object()) return;
  if (state.contains("arrivals")) arrivals_ = ArrivalPredictor::from_json(state["arrivals"]);
  if (state.contains("drain_durations")) {
    drain_durations_ = DrainDurations::from_json(state["drain_durations"]);
  }
  if (state.contains("largest_conference")) {
    largest_conference_ = LargestConference::from_json(state["largest_conference"]);
  }
}

void Policy::reset() noexcept {
  threshold_.reset();
  target_.reset();
  last_action_time_.reset();
  load_samples_.clear();
}

Recommender& Policy::recommender(PolicyKind kind) noexcept {
  if (kind == PolicyKind::kTarget) return target_;
  return threshold_;
}

// Stage 3a: the trend of Σ stress; only growth is projected (a fall is handled by the slow
// scale-down).
double Policy::project(double now, double stress_sum, bool enabled, const ScalingConfig& config) {
  if (!enabled || config.trend_window_seconds <= 0 || config.lookahead_seconds <= 0) {
    load_samples_.clear();
    return stress_sum;
  }
  double projected = stress_sum;
  while (!load_samples_.empty() && load_samples_.front().time < now - config.trend_window_seconds) {
    load_samples_.pop_front();
  }
  if (!load_samples_.empty() && now > load_samples_.front().time) {
    const double slope =
        (stress_sum - load_samples_.front().stress_sum) / (now - load_samples_.front().time);
    projected += std::max(0.0, slope) * config.lookahead_seconds;
  }
  load_samples_.push_back({now, stress_sum});
  return projected;
}

Decision Policy::decide(const Snapshot& snapshot, const EffectiveConfig& given) {
  // 0: what the levers learn from every snapshot the agent sees, and the room for the largest
  // conference they learnt (ScalingConfig::learn_largest_conference).
  if (!snapshot.blind) learn(snapshot, given.config);
  EffectiveConfig adapted;
  std::string room_note;
  if (!snapshot.blind && given.config.learn_largest_conference &&
      given.config.scale_up_threshold > 0) {
    const double room =
        largest_conference_.room(snapshot.now, given.config.largest_conference_stress);
    const double line = 1 - room;
    if (line > given.config.scale_up_threshold) {
      adapted = given;
      const double factor = line / given.config.scale_up_threshold;
      adapted.config.scale_up_threshold = line;
      adapted.config.scale_down_threshold *= factor;
      adapted.config.target_stress = std::min(line, given.config.target_stress * factor);
      room_note = "scale-up line " + format_number(line) + ": the largest conference of the last " +
                  "week needs " + format_number(room / 2) + ", room kept for twice that";
    }
  }
  const EffectiveConfig& effective = room_note.empty() ? given : adapted;
  const ScalingConfig& config = effective.config;
  const double now = snapshot.now;
  Decision decision;
  Work work(snapshot, config, decision);
  if (!room_note.empty()) work.notes.push_back(room_note);

  if (snapshot.blind) {
    // What the agent cannot see must not drive any action: keep everything as it is.
    threshold_.blinded();
    target_.blinded();
    load_samples_.clear();
    decision.desired = work.census.ready + work.census.provisioning;
    decision.outcome = Action::kHold;
    decision.notes.push_back("blind (brewery or instance list unavailable): hold at " +
                             std::to_string(decision.desired) +
                             " bridges, nothing created, drained or deleted");
    fill_deprecated_fields(decision);
    return decision;
  }

  work.drain_lead = config.learn_drain_lead
                        ? std::max(config.billing_drain_lead_seconds,
                                   drain_durations_.lead(config.billing_drain_lead_seconds))
                        : config.billing_drain_lead_seconds;
  cleanup(work);  // 1
  // Capacity in flight counts at zero stress; what is not ready never counts.
  const int denominator = work.census.known_ready + work.census.provisioning;
  if (denominator > 0) decision.cluster_stress = work.census.stress_sum / denominator;

  work.ready_remaining = work.census.ready;
  operator_requests(work);  // 2
  const int current = work.ready_remaining + work.census.provisioning;

  // 3. What the load asks for.
  LoadView load;
  load.now = now;
  load.current = current;
  load.mean = decision.cluster_stress;
  load.stress_sum = work.census.stress_sum;
  load.denominator = denominator;
  load.cooling_down =
      last_action_time_.has_value() && now - *last_action_time_ < config.cooldown_seconds;
  if (load.cooling_down) {
    load.cooldown_note = " but cooling down (" +
                         format_number(config.cooldown_seconds - (now - *last_action_time_), 0) +
                         " s left)";
  }
  load.projected_sum = project(
      now, load.stress_sum, decision.cluster_stress && work.census.unknown_bridge.empty(), config);
  if (load.projected_sum > load.stress_sum + 1e-9) {
    load.projection_note = " (rising: " + format_number(load.projected_sum) + " projected in " +
                           format_number(config.lookahead_seconds, 0) + " s)";
  }
  if (config.predictive_headroom_seconds > 0 && decision.cluster_stress) {
    const double expected = arrivals_.expected(now, config.predictive_headroom_seconds);
    if (expected > 1e-9) {
      load.projected_sum += expected;
      load.projection_note += " (+" + format_number(expected) + " expected to arrive in " +
                              format_number(config.predictive_headroom_seconds, 0) + " s)";
    }
  }
  work.projected_sum = load.projected_sum;
  Recommendation recommendation = recommender(config.policy).recommend(load, config);

  // 4. Bounds.
  const Bounded bounded = bound(work, recommendation.desired, recommendation.reason, current);
  decision.desired = bounded.desired;

  // 5. Act on the difference.
  bool acted_up = false;
  bool acted_down = false;
  bool blocked = false;
  if (bounded.desired > current) {
    acted_up = scale_up(work, bounded, bounded.desired - current, blocked);
  } else if (bounded.desired < current) {
    acted_down = scale_down(work, effective, bounded, current - bounded.desired, blocked);
  }

  // 6. Remember and summarise.
  if (acted_up || acted_down) {
    last_action_time_ = now;
    threshold_.acted();
    target_.acted();
  }
  const bool paused = snapshot.overrides.paused;
  if (acted_up) {
    decision.outcome = bounded.pinned ? Action::kPinned : Action::kScaleUp;
  } else if (acted_down) {
    decision.outcome = bounded.pinned ? Action::kPinned : Action::kScaleDown;
  } else if (paused && blocked) {
    decision.outcome = Action::kPaused;
  } else if (blocked) {
    decision.outcome = Action::kHold;
  } else if (!decision.drains.empty()) {
    decision.outcome = Action::kDrain;
  } else if (!decision.deletes.empty() || !decision.shutdowns.empty()) {
    decision.outcome = Action::kRemove;
  } else if (bounded.pinned) {
    decision.outcome = Action::kPinned;
  }
  work.notes.insert(work.notes.begin(), recommendation.reason);
  decision.notes = std::move(work.notes);
  fill_deprecated_fields(decision);
  return decision;
}

}  // namespace scaling
