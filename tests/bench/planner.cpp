#include "planner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace bench {
namespace {

constexpr double kEpsilon = 1e-9;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct Bridge {
  double created = 0;
  double ready_at = 0;
  bool initial = false;  // ready at t = 0 (the plan's initial bridges)
  bool alive = true;
  bool held = false;
  double deleted = 0;
  double boundary = 0;  // end of the current paid hour
  int load = 0;
  std::vector<std::size_t> conferences;
};

class Planner {
 public:
  Planner(const std::vector<scaling::Conference>& conferences,
          const scaling::SimulationConfig& simulation, const PlannerOptions& options)
      : trace_(conferences), simulation_(simulation), options_(options) {
    order_.resize(trace_.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
      return trace_[a].start_s < trace_[b].start_s;
    });
    for (const auto& conference : trace_) {
      end_time_ = std::max(end_time_, conference.start_s + conference.duration_s);
    }
    capacity_ = static_cast<int>(std::floor(simulation.capacity_participants + kEpsilon));
  }

  PlannerResult run() {
    const int floor = std::max(0, options_.min_bridges);
    for (int i = 0; i < floor; ++i) add_initial(0);
    using End = std::pair<double, std::size_t>;
    std::priority_queue<End, std::vector<End>, std::greater<>> ends;
    std::size_t next_start = 0;
    double now = 0;
    for (long long step = 0; step < 50'000'000; ++step) {
      double next = kInfinity;
      if (next_start < order_.size()) next = trace_[order_[next_start]].start_s;
      if (!ends.empty()) next = std::min(next, ends.top().first);
      for (const auto& bridge : bridges_) {
        if (bridge.alive) next = std::min(next, bridge.boundary);
      }
      if (next > end_time_ || next == kInfinity) break;
      now = std::max(now, next);
      while (!ends.empty() && ends.top().first <= now) {
        detach(ends.top().second);
        ends.pop();
      }
      boundaries(now, next_start);
      update_holds(now);
      std::vector<std::size_t> batch;
      while (next_start < order_.size() && trace_[order_[next_start]].start_s <= now) {
        batch.push_back(order_[next_start++]);
      }
      if (!batch.empty()) arrive_batch(batch, now);
      for (const std::size_t index : batch) {
        ends.push({trace_[index].start_s + trace_[index].duration_s, index});
      }
    }
    return finish();
  }

 private:
  int add_initial(double now) {
    Bridge bridge;
    bridge.initial = true;
    bridge.created = 0;
    bridge.ready_at = 0;
    bridge.boundary = options_.billing_period_seconds;
    bridges_.push_back(bridge);
    const int id = static_cast<int>(bridges_.size()) - 1;
    if (now > 0) {
      // Added for an arrival before one boot time had passed: it existed since t = 0 and must
      // not have taken the earlier conferences.
      actions_.push_back({0, scaling::PlanStep::kHold, id});
      actions_.push_back({now, scaling::PlanStep::kRelease, id});
    }
    return id;
  }

  int add_created(double now) {
    const double created = now - simulation_.boot_seconds;
    if (created < 0) return add_initial(now);
    Bridge bridge;
    bridge.created = created;
    bridge.ready_at = now;
    bridge.boundary = created + options_.billing_period_seconds;
    bridges_.push_back(bridge);
    const int id = static_cast<int>(bridges_.size()) - 1;
    actions_.push_back({created, scaling::PlanStep::kCreate, id});
    return id;
  }

  // Room a conference of `participants` is given: its size, or the size-blind room if larger.
  int needed(int participants) const { return std::max(participants, options_.size_blind_room); }

  // The replay's tie-break: the oldest bridge (creation order).
  std::tuple<bool, double, int> age_key(int id) const {
    return {!bridges_[id].initial, bridges_[id].created, id};
  }

  bool open_ready(const Bridge& bridge, double now) const {
    return bridge.alive && !bridge.held && bridge.ready_at <= now;
  }

  int least_loaded_open(const std::vector<Bridge>& bridges, double now) const {
    int best = -1;
    for (int i = 0; i < static_cast<int>(bridges.size()); ++i) {
      const auto& bridge = bridges[i];
      if (!bridge.alive || bridge.held || bridge.ready_at > now) continue;
      if (best < 0 || bridge.load < bridges[best].load ||
          (bridge.load == bridges[best].load && age_key(i) < age_key(best))) {
        best = i;
      }
    }
    return best;
  }

  double max_end(const Bridge& bridge) const {
    double latest = 0;
    for (const std::size_t index : bridge.conferences) {
      latest = std::max(latest, trace_[index].start_s + trace_[index].duration_s);
    }
    return latest;
  }

  void detach(std::size_t index) {
    for (auto& bridge : bridges_) {
      const auto found = std::find(bridge.conferences.begin(), bridge.conferences.end(), index);
      if (found != bridge.conferences.end()) {
        bridge.conferences.erase(found);
        bridge.load -= trace_[index].participants;
        return;
      }
    }
  }

  // A held bridge the conference fits on, preferring the one with the most paid time left.
  static int releasable(const std::vector<Bridge>& bridges, int participants, int capacity,
                        double now) {
    int best = -1;
    for (int i = 0; i < static_cast<int>(bridges.size()); ++i) {
      const auto& bridge = bridges[i];
      if (!bridge.alive || !bridge.held || bridge.ready_at > now) continue;
      if (bridge.load + participants > capacity) continue;
      if (best < 0 || bridge.boundary > bridges[best].boundary) best = i;
    }
    return best;
  }

  struct Arrival {
    bool created = false;
    int released = -1;
  };

  Arrival arrive(std::size_t index, double now) {
    Arrival arrival;
    const int participants = needed(trace_[index].participants);
    int target = least_loaded_open(bridges_, now);
    if (target < 0 || bridges_[target].load + participants > capacity_) {
      const int held = releasable(bridges_, participants, capacity_, now);
      if (held >= 0) {
        bridges_[held].held = false;
        actions_.push_back({now, scaling::PlanStep::kRelease, held});
        arrival.released = held;
      } else if (participants <= capacity_ || target < 0) {
        add_created(now);
        arrival.created = true;
      }
      target = least_loaded_open(bridges_, now);
    }
    if (target < 0) throw std::logic_error("planner: no bridge for a conference");
    bridges_[target].load += trace_[index].participants;
    bridges_[target].conferences.push_back(index);
    return arrival;
  }

  // Conferences starting at the same instant: every release and create the batch needs must be
  // in place before the first of them is placed (the replay applies the plan's actions at t
  // before the starts at t), so the batch is placed again with them until it needs no more.
  void arrive_batch(const std::vector<std::size_t>& batch, double now) {
    const std::vector<Bridge> saved_bridges = bridges_;
    const std::size_t saved_actions = actions_.size();
    std::vector<int> releases;
    int creates = 0;
    for (std::size_t attempt = 0; attempt <= batch.size() + 1; ++attempt) {
      if (attempt > 0) {
        bridges_ = saved_bridges;
        actions_.resize(saved_actions);
        for (const int id : releases) {
          bridges_[id].held = false;
          actions_.push_back({now, scaling::PlanStep::kRelease, id});
        }
        for (int i = 0; i < creates; ++i) add_created(now);
      }
      bool more = false;
      for (const std::size_t index : batch) {
        const Arrival arrival = arrive(index, now);
        if (arrival.created) ++creates;
        if (arrival.released >= 0) releases.push_back(arrival.released);
        more = more || arrival.created || arrival.released >= 0;
      }
      if (!more || batch.size() == 1) return;
    }
  }

  // Would the fleet need a new bridge before `until` if `without` were deleted now? A dry run of
  // the coming conference starts and ends with the same placement and release rules.
  bool needs_create(double now, double until, int without, std::size_t next_start) const {
    std::vector<Bridge> bridges = bridges_;
    bridges[without].alive = false;
    using End = std::pair<double, int>;  // end time, participants
    std::vector<std::vector<End>> ends(bridges.size());
    for (std::size_t b = 0; b < bridges.size(); ++b) {
      for (const std::size_t index : bridges[b].conferences) {
        ends[b].push_back(
            {trace_[index].start_s + trace_[index].duration_s, trace_[index].participants});
      }
    }
    for (std::size_t i = next_start; i < order_.size(); ++i) {
      const auto& conference = trace_[order_[i]];
      if (conference.start_s >= until) break;
      const double t = std::max(now, conference.start_s);
      for (std::size_t b = 0; b < bridges.size(); ++b) {
        auto& list = ends[b];
        for (std::size_t k = 0; k < list.size();) {
          if (list[k].first <= t) {
            bridges[b].load -= list[k].second;
            list[k] = list.back();
            list.pop_back();
          } else {
            ++k;
          }
        }
      }
      int target = least_loaded_open(bridges, t);
      if (target < 0 || bridges[target].load + needed(conference.participants) > capacity_) {
        const int held = releasable(bridges, needed(conference.participants), capacity_, t);
        if (held < 0) return true;
        bridges[held].held = false;
        target = held;
      }
      bridges[target].load += conference.participants;
      ends[target].push_back({conference.start_s + conference.duration_s, conference.participants});
    }
    return false;
  }

  void boundaries(double now, std::size_t next_start) {
    for (int id = 0; id < static_cast<int>(bridges_.size()); ++id) {
      Bridge& bridge = bridges_[id];
      if (!bridge.alive || bridge.boundary > now + kEpsilon) continue;
      const int alive = static_cast<int>(
          std::count_if(bridges_.begin(), bridges_.end(), [](const Bridge& b) { return b.alive; }));
      const bool keep =
          !bridge.conferences.empty() || alive <= options_.min_bridges ||
          needs_create(now, now + options_.billing_period_seconds - simulation_.boot_seconds, id,
                       next_start);
      if (keep) {
        bridge.boundary += options_.billing_period_seconds;
        continue;
      }
      bridge.alive = false;
      bridge.deleted = now;
      actions_.push_back({now, scaling::PlanStep::kDelete, id});
    }
  }

  void update_holds(double now) {
    // Candidates: open ready bridges that can empty before their paid hour ends.
    std::vector<int> open;
    std::vector<int> candidates;
    for (int id = 0; id < static_cast<int>(bridges_.size()); ++id) {
      const Bridge& bridge = bridges_[id];
      if (!open_ready(bridge, now)) continue;
      open.push_back(id);
      if (max_end(bridge) <= bridge.boundary + kEpsilon) candidates.push_back(id);
    }
    if (open.empty()) return;
    if (candidates.size() == open.size()) {
      // Keep the one with the most paid time left open (then the fullest).
      const auto keep = std::max_element(candidates.begin(), candidates.end(), [&](int a, int b) {
        return std::make_pair(bridges_[a].boundary, bridges_[a].load) <
               std::make_pair(bridges_[b].boundary, bridges_[b].load);
      });
      candidates.erase(keep);
    }
    for (const int id : candidates) {
      bridges_[id].held = true;
      actions_.push_back({now, scaling::PlanStep::kHold, id});
    }
  }

  PlannerResult finish() {
    PlannerResult result;
    for (auto& bridge : bridges_) {
      if (bridge.alive) {
        bridge.alive = false;
        bridge.deleted = end_time_;
      }
      const double hours = (bridge.deleted - bridge.created) / 3600.0;
      result.billed_hours += std::max(1.0, std::ceil(hours - kEpsilon));
    }
    result.bridges = static_cast<int>(bridges_.size());
    // Renumber: initial bridges first, then creates in the order the replay applies them.
    std::vector<int> by_age(bridges_.size());
    std::iota(by_age.begin(), by_age.end(), 0);
    std::sort(by_age.begin(), by_age.end(), [&](int a, int b) { return age_key(a) < age_key(b); });
    std::vector<int> id_of(bridges_.size());
    for (std::size_t i = 0; i < by_age.size(); ++i) id_of[by_age[i]] = static_cast<int>(i);
    for (const auto& bridge : bridges_) result.plan.initial_bridges += bridge.initial ? 1 : 0;
    std::stable_sort(actions_.begin(), actions_.end(),
                     [](const scaling::PlannedAction& a, const scaling::PlannedAction& b) {
                       return a.time < b.time;
                     });
    // At equal times the actions keep the order they were decided in; creates at equal times
    // were decided in creation order, which is also their age order.
    for (auto action : actions_) {
      action.bridge = id_of[action.bridge];
      result.plan.actions.push_back(action);
    }
    return result;
  }

  const std::vector<scaling::Conference>& trace_;
  const scaling::SimulationConfig& simulation_;
  const PlannerOptions& options_;
  std::vector<std::size_t> order_;
  double end_time_ = 0;
  int capacity_ = 100;
  std::vector<Bridge> bridges_;
  std::vector<scaling::PlannedAction> actions_;
};

}  // namespace

PlannerResult plan_fleet(const std::vector<scaling::Conference>& conferences,
                         const scaling::SimulationConfig& simulation,
                         const PlannerOptions& options) {
  if (conferences.empty()) throw std::invalid_argument("the trace has no conference");
  return Planner(conferences, simulation, options).run();
}

}  // namespace bench
