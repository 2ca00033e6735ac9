#include "scaling/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

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

std::string format_number(double value, int decimals = 2) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

constexpr int kNamedVictims = 5;  // drains named one by one in a reason

bool has_known_stats(const BridgeView& bridge) {
  return bridge.stress.has_value() && bridge.participants.has_value() &&
         std::isfinite(*bridge.stress);
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

void Policy::reset() noexcept {
  periods_above_ = 0;
  periods_below_ = 0;
  last_action_time_.reset();
  recommendations_.clear();
  load_samples_.clear();
}

Decision Policy::decide(const Snapshot& snapshot, const EffectiveConfig& effective) {
  const ScalingConfig& config = effective.config;
  const double now = snapshot.now;
  Decision decision;

  const int max_bridges = std::max(0, config.max_bridges);
  const int min_bridges = std::clamp(config.min_bridges, 0, max_bridges);

  int ready_count = 0;
  int provisioning_count = 0;
  int draining_count = 0;
  int deleting_count = 0;
  int known_ready_count = 0;
  double stress_sum = 0;
  std::string unknown_bridge;  // first ready bridge whose stats are unknown
  for (const auto& bridge : snapshot.bridges) {
    switch (bridge.state) {
      case BridgeState::kReady:
        ++ready_count;
        if (has_known_stats(bridge)) {
          ++known_ready_count;
          stress_sum += std::max(0.0, *bridge.stress);
        } else if (unknown_bridge.empty()) {
          unknown_bridge = bridge.name;
        }
        break;
      case BridgeState::kProvisioning:
        ++provisioning_count;
        break;
      case BridgeState::kDraining:
        ++draining_count;
        break;
      case BridgeState::kDeleting:
      case BridgeState::kShuttingDown:
      case BridgeState::kUnhealthy:
      case BridgeState::kLost:
        ++deleting_count;  // exist (max_bridges counts them), not capacity
        break;
      case BridgeState::kFailed:
        break;
    }
  }

  if (snapshot.blind) {
    // What the agent cannot see must not drive any action: keep everything as it is.
    periods_above_ = 0;
    periods_below_ = 0;
    load_samples_.clear();
    decision.desired = ready_count + provisioning_count;
    decision.outcome = Action::kHold;
    decision.notes.push_back("blind (brewery or instance list unavailable): hold at " +
                             std::to_string(decision.desired) +
                             " bridges, nothing created, drained or deleted");
    fill_deprecated_fields(decision);
    return decision;
  }

  std::vector<std::string> notes;

  // 1. Cleanup: drained or timed-out drains, and boots that never joined.
  std::set<std::string> removed;
  for (const auto& bridge : snapshot.bridges) {
    if (!bridge.managed) continue;  // never delete what this agent did not create
    if (bridge.state == BridgeState::kDraining) {
      const double draining_for = now - bridge.state_since;
      if (bridge.drained_empty) {
        decision.deletes.push_back({bridge.name, Reason::kDrainedEmpty});
        notes.push_back(bridge.name + " drained empty: delete");
      } else if (draining_for >= config.drain_timeout_seconds) {
        decision.deletes.push_back({bridge.name, Reason::kDrainTimeout});
        notes.push_back(bridge.name + " drain timed out after " + format_number(draining_for, 0) +
                        " s with " +
                        (bridge.participants ? std::to_string(*bridge.participants) : "unknown") +
                        " participants: delete");
      } else {
        continue;
      }
      removed.insert(bridge.name);
      --draining_count;
    } else if (bridge.state == BridgeState::kProvisioning &&
               now - bridge.state_since >= config.boot_timeout_seconds) {
      decision.deletes.push_back({bridge.name, Reason::kBootTimeout});
      removed.insert(bridge.name);
      --provisioning_count;
      notes.push_back(bridge.name + " did not join within " +
                      format_number(config.boot_timeout_seconds, 0) + " s: delete (failed)");
    }
  }

  // Capacity in flight counts at zero stress; draining bridges never count.
  const int stress_denominator = known_ready_count + provisioning_count;
  if (stress_denominator > 0) decision.cluster_stress = stress_sum / stress_denominator;

  // 2. Operator drain requests.
  const bool paused = snapshot.overrides.paused;
  std::set<std::string> draining_now;
  int ready_remaining = ready_count;
  bool last_ready_deferred = false;
  std::set<std::string> requests_seen;
  for (const auto& name : snapshot.overrides.drain_requests) {
    if (!requests_seen.insert(name).second) continue;
    const auto found = std::find_if(snapshot.bridges.begin(), snapshot.bridges.end(),
                                    [&](const BridgeView& b) { return b.name == name; });
    if (found == snapshot.bridges.end()) {
      notes.push_back("drain request for " + name + " ignored: no such bridge");
      continue;
    }
    if (!found->managed) {
      notes.push_back("drain request for " + name + " ignored: not managed by this agent");
      continue;
    }
    if (found->state != BridgeState::kReady && found->state != BridgeState::kProvisioning) {
      continue;  // already draining, deleting or gone
    }
    if (removed.count(name) != 0) continue;
    if (paused) {
      notes.push_back("drain of " + name + " deferred: paused");
      continue;
    }
    if (found->state == BridgeState::kProvisioning) {
      // Not in the brewery yet, so it carries no conference: delete it directly.
      decision.deletes.push_back({name, Reason::kOperator});
      removed.insert(name);
      --provisioning_count;
      notes.push_back(name + " drain requested while provisioning: delete");
      continue;
    }
    if (ready_remaining <= 1) {
      last_ready_deferred = true;
      notes.push_back("drain of " + name + " deferred: it is the last ready bridge");
      continue;
    }
    decision.drains.push_back({name, Reason::kOperator});
    draining_now.insert(name);
    --ready_remaining;
    notes.push_back(name + " drained on request");
  }

  const int current = ready_remaining + provisioning_count;  // non-draining after the above
  const int existing = ready_count + provisioning_count + draining_count + deleting_count;

  // 3. What the load asks for.
  int desired = current;
  std::string load_reason;
  const bool cooling_down =
      last_action_time_.has_value() && now - *last_action_time_ < config.cooldown_seconds;
  const std::string cooldown_note =
      cooling_down
          ? " but cooling down (" +
                format_number(config.cooldown_seconds - (now - *last_action_time_), 0) + " s left)"
          : "";
  const std::string current_text = std::to_string(current);

  // Trend of Σ stress: only growth is projected (a fall is handled by the slow scale-down).
  double projected_sum = stress_sum;
  if (decision.cluster_stress && unknown_bridge.empty() && config.trend_window_seconds > 0 &&
      config.lookahead_seconds > 0) {
    while (!load_samples_.empty() &&
           load_samples_.front().time < now - config.trend_window_seconds) {
      load_samples_.pop_front();
    }
    if (!load_samples_.empty() && now > load_samples_.front().time) {
      const double slope =
          (stress_sum - load_samples_.front().stress_sum) / (now - load_samples_.front().time);
      projected_sum += std::max(0.0, slope) * config.lookahead_seconds;
    }
    load_samples_.push_back({now, stress_sum});
  } else {
    load_samples_.clear();
  }
  const std::string projection_note = projected_sum > stress_sum + 1e-9
                                          ? " (rising: " + format_number(projected_sum) +
                                                " projected in " +
                                                format_number(config.lookahead_seconds, 0) + " s)"
                                          : "";

  if (config.policy == PolicyKind::kThreshold) {
    if (!decision.cluster_stress) {
      periods_above_ = 0;
      periods_below_ = 0;
      load_reason = "no ready bridge reports stress: hold at " + current_text;
    } else {
      const double mean = *decision.cluster_stress;
      const double projected_mean = projected_sum / stress_denominator;
      const std::string mean_text =
          "mean stress " + format_number(mean) +
          (projected_mean > mean + 1e-9 ? " (" + format_number(projected_mean) + " projected)"
                                        : "");
      if (projected_mean > config.scale_up_threshold) {
        ++periods_above_;
        periods_below_ = 0;
        load_reason = mean_text + " > " + format_number(config.scale_up_threshold) + " for " +
                      std::to_string(periods_above_) + " periods";
        if (periods_above_ >= config.scale_up_periods) {
          if (cooling_down) {
            load_reason += cooldown_note;
          } else {
            desired = current + std::max(1, config.scale_up_step);
            load_reason += ": scale up " + current_text + " -> " + std::to_string(desired);
          }
        } else {
          load_reason += " (of " + std::to_string(config.scale_up_periods) + "): hold";
        }
      } else if (mean < config.scale_down_threshold) {
        ++periods_below_;
        periods_above_ = 0;
        load_reason = mean_text + " < " + format_number(config.scale_down_threshold) + " for " +
                      std::to_string(periods_below_) + " periods";
        if (periods_below_ >= config.scale_down_periods) {
          if (cooling_down) {
            load_reason += cooldown_note;
          } else {
            desired = current - std::max(1, config.scale_down_step);
            load_reason += ": scale down " + current_text + " -> " + std::to_string(desired);
          }
        } else {
          load_reason += " (of " + std::to_string(config.scale_down_periods) + "): hold";
        }
      } else {
        periods_above_ = 0;
        periods_below_ = 0;
        load_reason = mean_text + " within [" + format_number(config.scale_down_threshold) + ", " +
                      format_number(config.scale_up_threshold) + "]: hold at " + current_text;
      }
    }
  } else {
    int recommendation = current;
    std::string basis;
    if (decision.cluster_stress && config.target_stress > 0) {
      const double ratio = projected_sum / stress_denominator / config.target_stress;
      basis = "stress sum " + format_number(stress_sum) + projection_note + " / target " +
              format_number(config.target_stress);
      if (std::fabs(ratio - 1.0) > kTargetTolerance) {
        // Small epsilon: 1.8 / 0.6 must give 3, not 4.
        recommendation = static_cast<int>(std::ceil(projected_sum / config.target_stress - 1e-9));
      }
      basis += " -> " + std::to_string(recommendation);
    } else {
      basis = "no ready bridge reports stress";
    }
    const double window = std::max(0, config.scale_down_periods) * config.period_seconds;
    recommendations_.push_back({now, recommendation});
    while (!recommendations_.empty() && recommendations_.front().time <= now - window &&
           recommendations_.size() > 1) {
      recommendations_.pop_front();
    }
    if (recommendation > current) {
      desired = recommendation;
      load_reason = basis + ": scale up " + current_text + " -> " + std::to_string(desired);
    } else {
      int stabilised = recommendation;
      for (const auto& past : recommendations_) stabilised = std::max(stabilised, past.count);
      if (stabilised < current) {
        load_reason = basis + ", highest of the last " + format_number(window, 0) + " s is " +
                      std::to_string(stabilised);
        if (cooling_down) {
          load_reason += cooldown_note;
        } else {
          desired = stabilised;
          load_reason += ": scale down " + current_text + " -> " + std::to_string(desired);
        }
      } else {
        load_reason = basis + ": hold at " + current_text;
      }
    }
  }

  bool pinned = false;
  if (snapshot.overrides.pinned) {
    pinned = true;
    desired = *snapshot.overrides.pinned;
    load_reason = "pinned to " + std::to_string(desired) + " (load says: " + load_reason + ")";
  }
  bool replacement = false;
  if (last_ready_deferred && provisioning_count == 0 && desired <= current) {
    replacement = true;
    desired = current + 1;  // a replacement first, then the requested drain
    notes.push_back("a replacement is created before the last ready bridge drains");
  }
  const int clamped = std::clamp(desired, min_bridges, max_bridges);
  const bool capped_by_max = clamped < desired;
  const bool raised_by_min = clamped > desired;
  if (clamped != desired) {
    notes.push_back(clamped > desired
                        ? "min_bridges " + std::to_string(min_bridges) + " raises " +
                              std::to_string(desired) + " to " + std::to_string(clamped)
                        : "max_bridges " + std::to_string(max_bridges) + " caps " +
                              std::to_string(desired) + " to " + std::to_string(clamped));
    desired = clamped;
  }
  decision.desired = desired;

  // 4. Act on the difference.
  bool acted_up = false;
  bool acted_down = false;
  bool blocked = false;
  if (desired > current) {
    const int wanted = desired - current;
    const int room = std::max(0, max_bridges - existing);
    if (paused) {
      blocked = true;
      notes.push_back("paused: would create " + std::to_string(wanted));
    } else {
      const int count = std::min(wanted, room);
      if (count < wanted) {
        notes.push_back("max_bridges " + std::to_string(max_bridges) + " reached (" +
                        std::to_string(existing) + " bridges exist, draining included): create " +
                        std::to_string(count) + " of " + std::to_string(wanted));
        if (count == 0) blocked = true;
      }
      if (count > 0) {
        const Reason why = pinned          ? Reason::kPinned
                           : raised_by_min ? Reason::kBelowMin
                           : replacement   ? Reason::kReplacement
                                           : Reason::kStressHigh;
        decision.creates.push_back({count, why});
      }
      acted_up = count > 0;
    }
  } else if (desired < current) {
    const int wanted = current - desired;
    if (paused) {
      blocked = true;
      notes.push_back("paused: would drain " + std::to_string(wanted));
    } else if (effective.inhibit_scale_down) {
      blocked = true;
      notes.push_back("scale-down inhibited by schedule window" +
                      (effective.window.empty() ? std::string() : " " + effective.window));
    } else if (!unknown_bridge.empty()) {
      blocked = true;
      notes.push_back("stats of " + unknown_bridge + " unknown: no scale-down");
    } else {
      std::vector<const BridgeView*> candidates;
      for (const auto& bridge : snapshot.bridges) {
        if (bridge.managed && bridge.state == BridgeState::kReady &&
            draining_now.count(bridge.name) == 0) {
          candidates.push_back(&bridge);
        }
      }
      std::sort(candidates.begin(), candidates.end(), [](const BridgeView* a, const BridgeView* b) {
        const int pa = a->participants.value_or(0);
        const int pb = b->participants.value_or(0);
        return pa != pb ? pa < pb : a->name < b->name;
      });
      // Only a load-driven scale-down waits for the paid hour; an operator's pin or a lowered
      // max_bridges acts at once.
      const bool billing_may_wait = !pinned && !capped_by_max && config.billing_period_seconds > 0;
      int drained = 0;
      bool waiting_for_billing = false;
      for (const BridgeView* victim : candidates) {
        if (drained == wanted || ready_remaining <= 1) break;
        if (billing_may_wait && victim->created_at) {
          const double age = std::max(0.0, now - *victim->created_at);
          const double paid_left =
              config.billing_period_seconds - std::fmod(age, config.billing_period_seconds);
          if (paid_left > config.billing_drain_lead_seconds) {
            notes.push_back("scale-down waits until " + victim->name + "'s paid hour ends (" +
                            format_number(paid_left / 60, 0) + " min left)");
            waiting_for_billing = true;
            break;
          }
        }
        decision.drains.push_back({victim->name, pinned          ? Reason::kPinned
                                                 : capped_by_max ? Reason::kAboveMax
                                                                 : Reason::kStressLow});
        // Keep the reason one readable line: name the first few victims only.
        if (drained < kNamedVictims) {
          notes.push_back("drain " + victim->name + " (" +
                          std::to_string(victim->participants.value_or(0)) + " participants)");
        } else if (drained == kNamedVictims) {
          notes.push_back("and more");
        }
        --ready_remaining;
        ++drained;
      }
      if (drained > kNamedVictims) {
        std::replace(notes.begin(), notes.end(), std::string("and more"),
                     "and " + std::to_string(drained - kNamedVictims) + " more");
      }
      if (waiting_for_billing) {
        if (drained == 0) blocked = true;
      } else if (drained < wanted) {
        notes.push_back("only " + std::to_string(drained) + " of " + std::to_string(wanted) +
                        " can drain (managed ready bridges only, never the last ready one)");
        if (drained == 0) blocked = true;
      }
      acted_down = drained > 0;
    }
  }

  if (acted_up || acted_down) {
    last_action_time_ = now;
    periods_above_ = 0;
    periods_below_ = 0;
  }
  if (acted_up) {
    decision.outcome = pinned ? Action::kPinned : Action::kScaleUp;
  } else if (acted_down) {
    decision.outcome = pinned ? Action::kPinned : Action::kScaleDown;
  } else if (paused && blocked) {
    decision.outcome = Action::kPaused;
  } else if (blocked) {
    decision.outcome = Action::kHold;
  } else if (!decision.drains.empty()) {
    decision.outcome = Action::kDrain;
  } else if (!decision.deletes.empty() || !decision.shutdowns.empty()) {
    decision.outcome = Action::kRemove;
  } else if (pinned) {
    decision.outcome = Action::kPinned;
  }
  notes.insert(notes.begin(), load_reason);
  decision.notes = std::move(notes);
  fill_deprecated_fields(decision);
  return decision;
}

}  // namespace scaling
