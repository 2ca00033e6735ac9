#include "scaling/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace scaling {
namespace {

constexpr double kEpsilon = 1e-9;
// Hard ceiling on replay steps: a 31-day trace at a 1 s period stays far below it.
constexpr long long kMaxSteps = 50'000'000;

struct SimBridge {
  std::string name;
  BridgeState state = BridgeState::kReady;
  bool held = false;  // ready but takes no new conference (reversible)
  double created = 0;
  double ready_at = 0;
  double state_since = 0;
  double deleted = 0;
  int participants = 0;
  bool alive = true;
  bool never_joins = false;  // simulation.failed_boots: stays provisioning until deleted
  bool failed = false;       // never joined: deleted at the boot timeout or never_joins
  std::vector<std::size_t> conferences;  // running on it, by trace index
};

double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

// The bridge model of DESIGN section 8, driven either by the policy (one decision per period)
// or by a fleet plan (timed actions).
class Replay {
 public:
  Replay(const std::vector<Conference>& conferences, const SimulationConfig& simulation,
         const ReplayHooks& hooks)
      : conferences_(conferences),
        simulation_(simulation),
        hooks_(hooks),
        bridge_of_(conferences.size(), -1) {}

  SimulationReport run_policy(const ConfigProvider& config) {
    config_ = &config;
    if (hooks_.learned_in) policy_.restore_learned_state(*hooks_.learned_in);
    const EffectiveConfig initial = config(0);
    report_.policy = initial.config.policy == PolicyKind::kTarget ? "target" : "threshold";
    const int initial_bridges =
        std::clamp(initial.config.min_bridges, 0, std::max(0, initial.config.max_bridges));
    return run(initial_bridges);
  }

  SimulationReport run_plan(const FleetPlan& plan) {
    plan_ = &plan;
    plan_order_.resize(plan.actions.size());
    std::iota(plan_order_.begin(), plan_order_.end(), 0);
    std::stable_sort(plan_order_.begin(), plan_order_.end(), [&](std::size_t a, std::size_t b) {
      return plan.actions[a].time < plan.actions[b].time;
    });
    report_.policy = "plan";
    return run(std::max(0, plan.initial_bridges));
  }

 private:
  SimulationReport run(int initial_bridges) {
    if (conferences_.empty()) throw std::invalid_argument("the trace has no conference");
    if (!(simulation_.capacity_participants > 0)) {
      throw std::invalid_argument("simulation.capacity_participants must be positive");
    }
    std::vector<std::size_t> order(conferences_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return conferences_[a].start_s < conferences_[b].start_s;
    });
    double end_time = 0;
    for (const auto& conference : conferences_) {
      end_time = std::max(end_time, conference.start_s + conference.duration_s);
      report_.participant_minutes += conference.participants * conference.duration_s / 60.0;
    }
    report_.conferences = static_cast<int>(conferences_.size());
    report_.duration_seconds = end_time;

    for (int i = 0; i < initial_bridges; ++i) add_bridge(0, BridgeState::kReady);
    update_peak();

    double now = 0;
    double next_tick = 0;
    std::size_t next_start = 0;
    std::size_t next_action = 0;
    using EndEvent = std::pair<double, std::size_t>;
    std::priority_queue<EndEvent, std::vector<EndEvent>, std::greater<>> ends;
    const double plan_period =
        hooks_.timeline_period_seconds > 0 ? hooks_.timeline_period_seconds : 60;

    for (long long step = 0;; ++step) {
      if (step > kMaxSteps) throw std::runtime_error("simulation exceeded its step limit");
      double next = next_tick;
      if (next_start < order.size()) next = std::min(next, conferences_[order[next_start]].start_s);
      if (!ends.empty()) next = std::min(next, ends.top().first);
      if (plan_ && next_action < plan_order_.size()) {
        next = std::min(next, std::max(now, plan_->actions[plan_order_[next_action]].time));
      }
      for (const auto& bridge : bridges_) {
        if (bridge.alive && bridge.state == BridgeState::kProvisioning && !bridge.never_joins) {
          next = std::min(next, bridge.ready_at);
        }
      }
      if (next > end_time) break;
      integrate_overload(now, next);
      now = next;

      while (!ends.empty() && ends.top().first <= now) {
        const std::size_t index = ends.top().second;
        ends.pop();
        detach(index);
      }
      for (auto& bridge : bridges_) {
        if (bridge.alive && bridge.state == BridgeState::kProvisioning && !bridge.never_joins &&
            bridge.ready_at <= now) {
          bridge.state = BridgeState::kReady;
          bridge.state_since = now;
          consecutive_failed_boots_ = 0;  // a boot worked (agent: Fleet::settle)
        }
      }
      if (plan_) {
        while (next_action < plan_order_.size() &&
               plan_->actions[plan_order_[next_action]].time <= now) {
          apply(plan_->actions[plan_order_[next_action++]], now);
        }
      }
      while (next_start < order.size() && conferences_[order[next_start]].start_s <= now) {
        const std::size_t index = order[next_start++];
        if (place(index, -1)) {
          ends.push({conferences_[index].start_s + conferences_[index].duration_s, index});
        } else {
          report_.dropped_participants += conferences_[index].participants;
        }
      }
      if (next_tick <= now) {
        int desired = 0;
        if (config_) {
          const EffectiveConfig effective = (*config_)(now);
          if (!(effective.config.period_seconds > 0)) {
            throw std::invalid_argument("scaling.period_seconds must be positive");
          }
          if (now < end_time) desired = decide(now, effective);
          next_tick = now + effective.config.period_seconds;
        } else {
          for (const auto& bridge : bridges_) {
            desired += bridge.alive && bridge.state != BridgeState::kDraining ? 1 : 0;
          }
          next_tick = now + plan_period;
        }
        if (hooks_.timeline && now < end_time) record(now, desired);
      }
      update_peak();
    }
    integrate_overload(now, end_time);

    for (auto& bridge : bridges_) {
      if (bridge.alive) delete_bridge(bridge, end_time);
    }
    for (const auto& bridge : bridges_) {
      const double hours = (bridge.deleted - bridge.created) / 3600.0;
      report_.bridge_hours += hours;
      const double billed = std::max(1.0, std::ceil(hours - kEpsilon));
      report_.billed_hours += billed;
      if (bridge.failed || bridge.never_joins) {
        ++report_.failed_boots;
        report_.failed_boot_billed_hours += billed;
      }
    }
    report_.oracle_bridge_hours =
        oracle_bridge_hours(conferences_, simulation_.capacity_participants);
    if (hooks_.learned_out) *hooks_.learned_out = policy_.learned_state();
    return report_;
  }

  int add_bridge(double now, BridgeState state) {
    SimBridge bridge;
    bridge.name = "sim-" + std::to_string(bridges_.size() + 1);
    bridge.state = state;
    bridge.created = now;
    bridge.state_since = now;
    bridge.ready_at = state == BridgeState::kReady ? now : now + simulation_.boot_seconds;
    if (state == BridgeState::kProvisioning) {
      bridge.never_joins = simulation_.failed_boots < 0 || creates_ < simulation_.failed_boots;
      ++creates_;
    }
    index_of_[bridge.name] = static_cast<int>(bridges_.size());
    bridges_.push_back(std::move(bridge));
    return static_cast<int>(bridges_.size()) - 1;
  }

  void detach(std::size_t index) {
    const int bridge = bridge_of_[index];
    bridge_of_[index] = -1;
    if (bridge < 0) return;
    auto& on = bridges_[bridge];
    on.participants -= conferences_[index].participants;
    const auto found = std::find(on.conferences.begin(), on.conferences.end(), index);
    if (found != on.conferences.end()) on.conferences.erase(found);
  }

  // At shutdown (drain timeout, plan delete) the conferences still on a bridge are re-placed
  // whole by the placement rule (Jicofo moves them); those nobody can take are dropped. The
  // end of the run deletes bridges only after every conference ended.
  void delete_bridge(SimBridge& bridge, double now) {
    bridge.alive = false;
    bridge.deleted = now;
    const int bridge_index = static_cast<int>(&bridge - bridges_.data());
    const std::vector<std::size_t> moving = bridge.conferences;
    for (const std::size_t index : moving) {
      detach(index);
      if (place(index, bridge_index)) {
        report_.migrated_participants += conferences_[index].participants;
      } else {
        report_.dropped_participants += conferences_[index].participants;
      }
    }
  }

  // Least-stressed ready bridge that takes new conferences (not draining, not held); if none
  // is ready, the least-stressed provisioning one; ties go to the oldest bridge. Returns false
  // when no bridge can take it.
  bool place(std::size_t index, int excluded) {
    int best = -1;
    for (BridgeState wanted : {BridgeState::kReady, BridgeState::kProvisioning}) {
      for (std::size_t i = 0; i < bridges_.size(); ++i) {
        const auto& bridge = bridges_[i];
        if (!bridge.alive || bridge.state != wanted || bridge.held || bridge.never_joins) continue;
        if (static_cast<int>(i) == excluded) continue;
        if (best < 0 || bridge.participants < bridges_[best].participants) {
          best = static_cast<int>(i);
        }
      }
      if (best >= 0) break;
    }
    if (best < 0) return false;
    bridge_of_[index] = best;
    bridges_[best].participants += conferences_[index].participants;
    bridges_[best].conferences.push_back(index);
    return true;
  }

  void integrate_overload(double from, double to) {
    if (to <= from) return;
    for (const auto& bridge : bridges_) {
      if (bridge.alive && bridge.participants > simulation_.capacity_participants) {
        report_.overload_participant_minutes += bridge.participants * (to - from) / 60.0;
      }
    }
  }

  void update_peak() {
    const int alive = static_cast<int>(std::count_if(bridges_.begin(), bridges_.end(),
                                                     [](const SimBridge& b) { return b.alive; }));
    report_.peak_bridges = std::max(report_.peak_bridges, alive);
  }

  void record(double now, int desired) {
    TimelineRow row;
    row.t = now;
    row.desired = desired;
    for (const auto& bridge : bridges_) {
      if (!bridge.alive) continue;
      row.participants += bridge.participants;
      if (bridge.participants > simulation_.capacity_participants) {
        row.overload_participants += bridge.participants;
      }
      if (bridge.state == BridgeState::kProvisioning) {
        ++row.provisioning;
      } else if (bridge.state == BridgeState::kDraining && bridge.participants == 0 && config_) {
        ++row.held;  // the policy keeps an emptied drain until its paid hour ends (steer_holds)
      } else if (bridge.state == BridgeState::kDraining) {
        ++row.draining;
      } else if (bridge.held) {
        ++row.held;
      } else {
        ++row.ready;
      }
    }
    hooks_.timeline->push_back(row);
  }

  SimBridge& plan_bridge(int id) {
    if (id < 0 || id >= static_cast<int>(bridges_.size()) || !bridges_[id].alive) {
      throw std::invalid_argument("the plan names bridge " + std::to_string(id) +
                                  ", which does not exist at that time");
    }
    return bridges_[id];
  }

  void apply(const PlannedAction& action, double now) {
    switch (action.step) {
      case PlanStep::kCreate:
        add_bridge(now, BridgeState::kProvisioning);
        if (now > 0) ++report_.scale_ups;
        break;
      case PlanStep::kHold: {
        SimBridge& bridge = plan_bridge(action.bridge);
        if (!bridge.held) ++report_.holds;
        bridge.held = true;
        break;
      }
      case PlanStep::kRelease: {
        SimBridge& bridge = plan_bridge(action.bridge);
        if (bridge.held) ++report_.releases;
        bridge.held = false;
        break;
      }
      case PlanStep::kDelete: {
        SimBridge& bridge = plan_bridge(action.bridge);
        ++report_.scale_downs;
        delete_bridge(bridge, now);
        break;
      }
    }
  }

  int decide(double now, const EffectiveConfig& effective) {
    Snapshot snapshot;
    snapshot.now = now + hooks_.policy_time_offset;
    snapshot.can_undrain = hooks_.can_undrain;
    snapshot.failed_boots = consecutive_failed_boots_;
    for (const auto& bridge : bridges_) {
      if (!bridge.alive) continue;
      BridgeView view;
      view.name = bridge.name;
      view.state = bridge.state;
      view.managed = true;
      view.participants = bridge.participants;
      view.stress = bridge.participants / simulation_.capacity_participants;
      view.state_since = bridge.state_since + hooks_.policy_time_offset;
      view.drained_empty = bridge.state == BridgeState::kDraining && bridge.participants == 0;
      view.created_at = bridge.created + hooks_.policy_time_offset;
      view.in_brewery = bridge.state != BridgeState::kProvisioning;
      if (!bridge.conferences.empty()) {
        double oldest = now;
        double newest = 0;
        int largest = 0;
        for (const std::size_t index : bridge.conferences) {
          oldest = std::min(oldest, conferences_[index].start_s);
          newest = std::max(newest, conferences_[index].start_s);
          largest = std::max(largest, conferences_[index].participants);
        }
        view.oldest_conference_age = now - oldest;
        view.newest_conference_age = now - newest;
        view.largest_conference = largest;
      }
      snapshot.bridges.push_back(std::move(view));
    }
    const Decision decision = policy_.decide(snapshot, effective);
    ++report_.decisions;
    // Deletes are of empty bridges (or failed boots); a shutdown is a bridge leaving the brewery
    // at once: Jicofo re-places its conferences and the instance is deleted.
    for (const auto* list : {&decision.deletes, &decision.shutdowns}) {
      for (const auto& action : *list) {
        const auto found = index_of_.find(action.bridge);
        if (found == index_of_.end() || !bridges_[found->second].alive) continue;
        if (action.reason == Reason::kBootTimeout) {
          ++report_.failed_bridges;
          ++consecutive_failed_boots_;
          bridges_[found->second].failed = true;
        }
        delete_bridge(bridges_[found->second], now);
      }
    }
    for (const auto& action : decision.undrains) {
      const auto found = index_of_.find(action.bridge);
      if (found == index_of_.end() || !bridges_[found->second].alive) continue;
      SimBridge& bridge = bridges_[found->second];
      if (bridge.state != BridgeState::kDraining) continue;
      bridge.state = BridgeState::kReady;
      bridge.state_since = now;
      ++report_.releases;
    }
    for (const auto& action : decision.drains) {
      const auto found = index_of_.find(action.bridge);
      if (found == index_of_.end() || !bridges_[found->second].alive) continue;
      bridges_[found->second].state = BridgeState::kDraining;
      bridges_[found->second].state_since = now;
      ++report_.scale_downs;
      // With steering holds a load-driven drain is reversible: undrained before any create.
      if (effective.config.steer_holds && hooks_.can_undrain &&
          action.reason == Reason::kStressLow) {
        ++report_.holds;
      }
    }
    const int creates = decision.create_count();
    for (int i = 0; i < creates; ++i) add_bridge(now, BridgeState::kProvisioning);
    report_.scale_ups += creates;
    if (hooks_.observer) hooks_.observer(snapshot, decision);
    return decision.desired;
  }

  const std::vector<Conference>& conferences_;
  const SimulationConfig& simulation_;
  const ReplayHooks& hooks_;
  const ConfigProvider* config_ = nullptr;
  const FleetPlan* plan_ = nullptr;
  std::vector<std::size_t> plan_order_;
  std::vector<int> bridge_of_;  // conference index -> bridge index, -1 when not running
  std::vector<SimBridge> bridges_;
  std::unordered_map<std::string, int> index_of_;
  Policy policy_;
  SimulationReport report_;
  int creates_ = 0;                   // bridges created after the initial fleet
  int consecutive_failed_boots_ = 0;  // Snapshot::failed_boots; a bridge joining resets it
};

std::string format_fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace

double SimulationReport::overload_percent() const {
  return participant_minutes > 0 ? 100.0 * overload_participant_minutes / participant_minutes : 0;
}

double SimulationReport::billed_over_oracle() const {
  return oracle_bridge_hours > 0 ? billed_hours / oracle_bridge_hours : 0;
}

SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const ConfigProvider& config,
                          const DecisionObserver& observer) {
  ReplayHooks hooks;
  hooks.observer = observer;
  return simulate(conferences, simulation, config, hooks);
}

SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const ConfigProvider& config,
                          const ReplayHooks& hooks) {
  return Replay(conferences, simulation, hooks).run_policy(config);
}

SimulationReport replay_plan(const std::vector<Conference>& conferences,
                             const SimulationConfig& simulation, const FleetPlan& plan,
                             const ReplayHooks& hooks) {
  return Replay(conferences, simulation, hooks).run_plan(plan);
}

SimulationReport simulate(const std::vector<Conference>& conferences,
                          const SimulationConfig& simulation, const EffectiveConfig& config,
                          const DecisionObserver& observer) {
  const ConfigProvider constant = [&config](double) { return config; };
  return simulate(conferences, simulation, constant, observer);
}

double oracle_bridge_hours(const std::vector<Conference>& conferences, double capacity,
                           int floor_bridges) {
  if (!(capacity > 0)) return 0;
  std::vector<std::pair<double, long long>> changes;
  changes.reserve(conferences.size() * 2 + 1);
  changes.push_back({0, 0});  // the fleet exists from t = 0
  for (const auto& conference : conferences) {
    if (conference.duration_s <= 0 || conference.participants == 0) continue;
    changes.push_back({conference.start_s, conference.participants});
    changes.push_back({conference.start_s + conference.duration_s, -conference.participants});
  }
  std::sort(changes.begin(), changes.end());
  double seconds = 0;
  long long load = 0;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    load += changes[i].second;
    if (i + 1 < changes.size()) {
      const double bridges =
          std::max(static_cast<double>(floor_bridges), std::ceil(load / capacity - kEpsilon));
      seconds += std::max(0.0, bridges) * (changes[i + 1].first - changes[i].first);
    }
  }
  return seconds / 3600.0;
}

double hourly_lower_bound(const std::vector<Conference>& conferences, double capacity,
                          int floor_bridges, double billing_period_seconds) {
  if (!(capacity > 0) || !(billing_period_seconds > 0)) return 0;
  // Demand changes: (time, participant delta); the demand is piecewise constant between them.
  std::vector<std::pair<double, long long>> changes;
  double end_time = 0;
  for (const auto& conference : conferences) {
    end_time = std::max(end_time, conference.start_s + conference.duration_s);
    if (conference.duration_s <= 0 || conference.participants == 0) continue;
    changes.push_back({conference.start_s, conference.participants});
    changes.push_back({conference.start_s + conference.duration_s, -conference.participants});
  }
  std::sort(changes.begin(), changes.end());
  std::priority_queue<double, std::vector<double>, std::greater<>> expiries;  // open blocks
  long long load = 0;
  long long blocks = 0;
  std::size_t next_change = 0;
  double now = 0;
  for (long long step = 0; now < end_time && step < kMaxSteps; ++step) {
    while (next_change < changes.size() && changes[next_change].first <= now) {
      load += changes[next_change++].second;
    }
    while (!expiries.empty() && expiries.top() <= now + kEpsilon) expiries.pop();
    const long long needed = std::max<long long>(
        std::max(0, floor_bridges), static_cast<long long>(std::ceil(load / capacity - kEpsilon)));
    for (long long open = static_cast<long long>(expiries.size()); open < needed; ++open) {
      expiries.push(now + billing_period_seconds);
      ++blocks;
    }
    double next = end_time;
    if (next_change < changes.size()) next = std::min(next, changes[next_change].first);
    if (!expiries.empty()) next = std::min(next, expiries.top());
    now = std::max(next, now + kEpsilon);
  }
  return static_cast<double>(blocks) * billing_period_seconds / 3600.0;
}

std::string timeline_to_csv(const std::vector<TimelineRow>& rows) {
  std::string csv =
      "t,participants,provisioning,ready,held,draining,desired,overload_participants\n";
  for (const auto& row : rows) {
    csv += format_fixed(row.t, 0) + "," + std::to_string(row.participants) + "," +
           std::to_string(row.provisioning) + "," + std::to_string(row.ready) + "," +
           std::to_string(row.held) + "," + std::to_string(row.draining) + "," +
           std::to_string(row.desired) + "," + std::to_string(row.overload_participants) + "\n";
  }
  return csv;
}

int peak_participants(const std::vector<Conference>& conferences) {
  std::vector<std::pair<double, long long>> changes;
  for (const auto& conference : conferences) {
    if (conference.duration_s <= 0) continue;
    changes.push_back({conference.start_s, conference.participants});
    changes.push_back({conference.start_s + conference.duration_s, -conference.participants});
  }
  // At equal times the ends (negative) sort first, so back-to-back meetings do not add up.
  std::sort(changes.begin(), changes.end());
  long long load = 0;
  long long peak = 0;
  for (const auto& change : changes) {
    load += change.second;
    peak = std::max(peak, load);
  }
  return static_cast<int>(std::min<long long>(peak, std::numeric_limits<int>::max()));
}

nlohmann::ordered_json report_to_json(const SimulationReport& report) {
  nlohmann::ordered_json json;
  json["policy"] = report.policy;
  json["conferences"] = report.conferences;
  json["duration_seconds"] = round_to(report.duration_seconds, 3);
  json["bridge_hours"] = round_to(report.bridge_hours, 3);
  json["billed_hours"] = round_to(report.billed_hours, 3);
  json["oracle_bridge_hours"] = round_to(report.oracle_bridge_hours, 3);
  json["billed_over_oracle"] = round_to(report.billed_over_oracle(), 3);
  json["participant_minutes"] = round_to(report.participant_minutes, 3);
  json["overload_participant_minutes"] = round_to(report.overload_participant_minutes, 3);
  json["overload_percent"] = round_to(report.overload_percent(), 4);
  json["peak_bridges"] = report.peak_bridges;
  json["scale_ups"] = report.scale_ups;
  json["scale_downs"] = report.scale_downs;
  json["failed_bridges"] = report.failed_bridges;
  json["failed_boots"] = report.failed_boots;
  json["failed_boot_billed_hours"] = round_to(report.failed_boot_billed_hours, 3);
  json["dropped_participants"] = report.dropped_participants;
  json["migrated_participants"] = report.migrated_participants;
  json["holds"] = report.holds;
  json["releases"] = report.releases;
  json["decisions"] = report.decisions;
  return json;
}

std::string report_to_table(const SimulationReport& report) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"policy", report.policy},
      {"conferences", std::to_string(report.conferences)},
      {"duration", format_fixed(report.duration_seconds / 3600.0, 2) + " h"},
      {"bridge hours", format_fixed(report.bridge_hours, 2)},
      {"billed hours", format_fixed(report.billed_hours, 0)},
      {"oracle bridge hours", format_fixed(report.oracle_bridge_hours, 2)},
      {"billed / oracle", format_fixed(report.billed_over_oracle(), 3)},
      {"overloaded participant-minutes", format_fixed(report.overload_participant_minutes, 1) +
                                             " (" + format_fixed(report.overload_percent(), 3) +
                                             " % of " +
                                             format_fixed(report.participant_minutes, 0) + ")"},
      {"peak bridges", std::to_string(report.peak_bridges)},
      {"scale ups (bridges created)", std::to_string(report.scale_ups)},
      {"scale downs (bridges drained)", std::to_string(report.scale_downs)},
      {"failed boots", std::to_string(report.failed_bridges)},
      {"never-joined boots", std::to_string(report.failed_boots) + " (" +
                                 format_fixed(report.failed_boot_billed_hours, 0) + " h billed)"},
      {"dropped participants", std::to_string(report.dropped_participants)},
      {"migrated participants", std::to_string(report.migrated_participants)},
      {"holds / releases", std::to_string(report.holds) + " / " + std::to_string(report.releases)},
      {"decisions", std::to_string(report.decisions)},
  };
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string table;
  for (const auto& row : rows) {
    table += row.first + std::string(width - row.first.size() + 2, ' ') + row.second + "\n";
  }
  return table;
}

}  // namespace scaling
