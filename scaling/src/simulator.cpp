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
  double created = 0;
  double ready_at = 0;
  double state_since = 0;
  double deleted = 0;
  int participants = 0;
  bool alive = true;
};

double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

class Replay {
 public:
  Replay(const std::vector<Conference>& conferences, const SimulationConfig& simulation,
         const ConfigProvider& config, const DecisionObserver& observer)
      : conferences_(conferences),
        simulation_(simulation),
        config_(config),
        observer_(observer),
        bridge_of_(conferences.size(), -1) {}

  SimulationReport run() {
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

    const EffectiveConfig initial = config_(0);
    report_.policy = initial.config.policy == PolicyKind::kTarget ? "target" : "threshold";
    const int initial_bridges =
        std::clamp(initial.config.min_bridges, 0, std::max(0, initial.config.max_bridges));
    for (int i = 0; i < initial_bridges; ++i) add_bridge(0, BridgeState::kReady);
    update_peak();

    double now = 0;
    double next_tick = 0;
    std::size_t next_start = 0;
    using EndEvent = std::pair<double, std::size_t>;
    std::priority_queue<EndEvent, std::vector<EndEvent>, std::greater<>> ends;

    for (long long step = 0;; ++step) {
      if (step > kMaxSteps) throw std::runtime_error("simulation exceeded its step limit");
      double next = next_tick;
      if (next_start < order.size()) next = std::min(next, conferences_[order[next_start]].start_s);
      if (!ends.empty()) next = std::min(next, ends.top().first);
      for (const auto& bridge : bridges_) {
        if (bridge.alive && bridge.state == BridgeState::kProvisioning) {
          next = std::min(next, bridge.ready_at);
        }
      }
      if (next > end_time) break;
      integrate_overload(now, next);
      now = next;

      while (!ends.empty() && ends.top().first <= now) {
        const std::size_t index = ends.top().second;
        ends.pop();
        const int bridge = bridge_of_[index];
        if (bridge >= 0) bridges_[bridge].participants -= conferences_[index].participants;
        bridge_of_[index] = -1;
      }
      for (auto& bridge : bridges_) {
        if (bridge.alive && bridge.state == BridgeState::kProvisioning && bridge.ready_at <= now) {
          bridge.state = BridgeState::kReady;
          bridge.state_since = now;
        }
      }
      while (next_start < order.size() && conferences_[order[next_start]].start_s <= now) {
        const std::size_t index = order[next_start++];
        place(index);
        ends.push({conferences_[index].start_s + conferences_[index].duration_s, index});
      }
      if (next_tick <= now) {
        const EffectiveConfig effective = config_(now);
        if (!(effective.config.period_seconds > 0)) {
          throw std::invalid_argument("scaling.period_seconds must be positive");
        }
        if (now < end_time) decide(now, effective);
        next_tick = now + effective.config.period_seconds;
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
      report_.billed_hours += std::max(1.0, std::ceil(hours - kEpsilon));
    }
    report_.oracle_bridge_hours =
        oracle_bridge_hours(conferences_, simulation_.capacity_participants);
    return report_;
  }

 private:
  int add_bridge(double now, BridgeState state) {
    SimBridge bridge;
    bridge.name = "sim-" + std::to_string(bridges_.size() + 1);
    bridge.state = state;
    bridge.created = now;
    bridge.state_since = now;
    bridge.ready_at = state == BridgeState::kReady ? now : now + simulation_.boot_seconds;
    index_of_[bridge.name] = static_cast<int>(bridges_.size());
    bridges_.push_back(std::move(bridge));
    return static_cast<int>(bridges_.size()) - 1;
  }

  void delete_bridge(SimBridge& bridge, double now) {
    bridge.alive = false;
    bridge.deleted = now;
    if (bridge.participants > 0) {
      // Conferences still on it are cut (drain timeout): count their participants as dropped.
      const int bridge_index = static_cast<int>(&bridge - bridges_.data());
      for (std::size_t i = 0; i < bridge_of_.size(); ++i) {
        if (bridge_of_[i] == bridge_index) {
          report_.dropped_participants += conferences_[i].participants;
          bridge_of_[i] = -1;
        }
      }
      bridge.participants = 0;
    }
  }

  // Least-stressed ready non-draining bridge; if none is ready, the least-stressed
  // provisioning one; ties go to the oldest bridge.
  void place(std::size_t index) {
    int best = -1;
    for (BridgeState wanted : {BridgeState::kReady, BridgeState::kProvisioning}) {
      for (std::size_t i = 0; i < bridges_.size(); ++i) {
        const auto& bridge = bridges_[i];
        if (!bridge.alive || bridge.state != wanted) continue;
        if (best < 0 || bridge.participants < bridges_[best].participants) {
          best = static_cast<int>(i);
        }
      }
      if (best >= 0) break;
    }
    if (best < 0) {
      report_.dropped_participants += conferences_[index].participants;
      return;
    }
    bridge_of_[index] = best;
    bridges_[best].participants += conferences_[index].participants;
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

  void decide(double now, const EffectiveConfig& effective) {
    Snapshot snapshot;
    snapshot.now = now;
    for (const auto& bridge : bridges_) {
      if (!bridge.alive) continue;
      BridgeView view;
      view.name = bridge.name;
      view.state = bridge.state;
      view.managed = true;
      view.participants = bridge.participants;
      view.stress = bridge.participants / simulation_.capacity_participants;
      view.state_since = bridge.state_since;
      view.drained_empty = bridge.state == BridgeState::kDraining && bridge.participants == 0;
      view.created_at = bridge.created;
      snapshot.bridges.push_back(std::move(view));
    }
    const Decision decision = policy_.decide(snapshot, effective);
    ++report_.decisions;
    for (const auto& name : decision.remove) {
      const auto found = index_of_.find(name);
      if (found == index_of_.end() || !bridges_[found->second].alive) continue;
      delete_bridge(bridges_[found->second], now);
    }
    report_.failed_bridges += static_cast<int>(decision.failed.size());
    for (const auto& name : decision.drain) {
      const auto found = index_of_.find(name);
      if (found == index_of_.end() || !bridges_[found->second].alive) continue;
      bridges_[found->second].state = BridgeState::kDraining;
      bridges_[found->second].state_since = now;
      ++report_.scale_downs;
    }
    for (int i = 0; i < decision.create; ++i) add_bridge(now, BridgeState::kProvisioning);
    report_.scale_ups += decision.create;
    if (observer_) observer_(snapshot, decision);
  }

  const std::vector<Conference>& conferences_;
  const SimulationConfig& simulation_;
  const ConfigProvider& config_;
  const DecisionObserver& observer_;
  std::vector<int> bridge_of_;  // conference index -> bridge index, -1 when not running
  std::vector<SimBridge> bridges_;
  std::unordered_map<std::string, int> index_of_;
  Policy policy_;
  SimulationReport report_;
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
  return Replay(conferences, simulation, config, observer).run();
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
  json["dropped_participants"] = report.dropped_participants;
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
      {"dropped participants", std::to_string(report.dropped_participants)},
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
