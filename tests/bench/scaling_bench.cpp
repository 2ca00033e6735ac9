// scaling_bench: every profile (the defaults, the old contract profile, each lever alone, the
// levers combined) over 8 seeds of every trace kind (generated in-process by tools/trace-gen's
// generators), against the fluid oracle, the hourly lower bound and the clairvoyant planner
// (tests/bench/planner.h, its plan checked by replay); then the decision time at 2,000 bridges.
// A program that prints tables, not a timed test: ctest only runs `--quick` to keep it building.
//
//   scaling_bench [--seeds N] [--kinds a,b] [--profiles a,b] [--set key=value ...] [--quick]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "generators.h"
#include "planner.h"
#include "scaling/keys.h"
#include "scaling/policy.h"
#include "scaling/simulator.h"
#include "scaling/trace.h"
#include "schedule/schedule.h"
#include "test_support/classic_profile.h"

namespace {

namespace fs = std::filesystem;
using scaling::EffectiveConfig;
using scaling::PolicyKind;
using scaling::ScalingConfig;

// `--set key=value` for any scaling key of the key table (scaling/keys.h), used to tune the
// defaults: numbers, `true`/`false` (or 1/0) for switches, `threshold`/`target` for the policy.
// No range check: the benchmark may measure values check-config would refuse.
bool apply_setting(ScalingConfig& config, const std::string& setting) {
  const auto equals = setting.find('=');
  if (equals == std::string::npos) return false;
  const scaling::ScalingKey* key = scaling::find_scaling_key(setting.substr(0, equals));
  if (key == nullptr) return false;
  const std::string text = setting.substr(equals + 1);
  if (key->type == scaling::KeyType::kPolicy) {
    if (text != "threshold" && text != "target") return false;
    config.policy = text == "target" ? PolicyKind::kTarget : PolicyKind::kThreshold;
    return true;
  }
  double value = 0;
  if (key->type == scaling::KeyType::kBoolean && (text == "true" || text == "false")) {
    value = text == "true" ? 1 : 0;
  } else {
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0') return false;
  }
  switch (key->type) {
    case scaling::KeyType::kInteger:
      config.*key->integer = static_cast<int>(value);
      break;
    case scaling::KeyType::kNumber:
      config.*key->number = value;
      break;
    case scaling::KeyType::kBoolean:
      config.*key->flag = value != 0;
      break;
    case scaling::KeyType::kPolicy:
      break;
  }
  return true;
}

struct Profile {
  std::string name;
  ScalingConfig config;
  bool can_undrain = true;
};

// Sums over the seeds of one kind for one strategy.
struct Tally {
  int runs = 0;
  double over_oracle = 0;
  double over_planner = 0;
  double overload_percent = 0;
  double overload_max = 0;
  double billed = 0;
  long long dropped = 0;
  long long migrated = 0;
  long long participants = 0;
  double worst_over_planner = 0;

  void add(const scaling::SimulationReport& report, double oracle, double planner,
           long long total_participants) {
    ++runs;
    billed += report.billed_hours;
    over_oracle += report.billed_hours / oracle;
    over_planner += report.billed_hours / planner;
    worst_over_planner = std::max(worst_over_planner, report.billed_hours / planner);
    overload_percent += report.overload_percent();
    overload_max = std::max(overload_max, report.overload_percent());
    dropped += report.dropped_participants;
    migrated += report.migrated_participants;
    participants += total_participants;
  }
};

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// The webinar kind runs with its announced events (traces/webinar.schedule.json): the
// profile under test plus the file's schedule section, max_bridges 30.
struct WebinarSchedule {
  nlohmann::json schedule;
  scaling::SimulationConfig simulation;
};

scaling::ConfigProvider provider_for(const std::string& kind, const ScalingConfig& config,
                                     const WebinarSchedule* webinar) {
  if (kind != "webinar" || webinar == nullptr) {
    EffectiveConfig constant;
    constant.config = config;
    return [constant](double) { return constant; };
  }
  ScalingConfig base = config;
  base.max_bridges = std::max(base.max_bridges, 30);
  std::vector<std::string> errors;
  schedule::ScheduleConfig parsed = schedule::parse_schedule(webinar->schedule, base, errors);
  if (!errors.empty()) throw std::invalid_argument(errors.front());
  return schedule::make_simulation_provider(schedule::Schedule(std::move(parsed)), base,
                                            webinar->simulation);
}

long long total_participants(const std::vector<scaling::Conference>& trace) {
  long long total = 0;
  for (const auto& conference : trace) total += conference.participants;
  return total;
}

struct Timing {
  double median_us = 0;
  double p99_us = 0;
  int actions = 0;
};

// Decision time of Policy::decide over `bridges` bridges (mixed states, 10 % unmanaged).
// `scale_down_every_time`: light load and a fresh policy per call, so every decision sorts
// the candidates and drains (the most expensive path).
Timing time_decisions(int bridges, int repetitions, PolicyKind kind, bool scale_down_every_time,
                      const ScalingConfig& base = ScalingConfig{}) {
  std::mt19937 random(42);
  scaling::Snapshot snapshot;
  for (int i = 0; i < bridges; ++i) {
    scaling::BridgeView bridge;
    bridge.name = "jvb-as-" + std::to_string(i);
    bridge.state = i % 50 == 0 ? scaling::BridgeState::kProvisioning : scaling::BridgeState::kReady;
    bridge.managed = i % 10 != 0;
    bridge.created_at = 0;
    // Steady: mean stress ~0.4, inside both policies' hold band. Scale-down: ~0.05.
    const int participants = scale_down_every_time
                                 ? std::uniform_int_distribution<int>(0, 10)(random)
                                 : std::uniform_int_distribution<int>(30, 50)(random);
    if (bridge.state == scaling::BridgeState::kReady) {
      bridge.participants = participants;
      bridge.stress = *bridge.participants / 100.0;
    }
    snapshot.bridges.push_back(bridge);
  }
  EffectiveConfig effective;
  effective.config = base;
  effective.config.policy = kind;
  effective.config.max_bridges = bridges * 2;
  effective.config.scale_down_periods = 1;
  effective.config.cooldown_seconds = 0;
  effective.config.scale_down_step = 5;
  effective.config.billing_period_seconds = 0;
  scaling::Policy policy;
  std::vector<double> micros;
  Timing timing;
  for (int i = 0; i < repetitions; ++i) {
    snapshot.now = i * 10.0;
    if (scale_down_every_time) policy.reset();
    const auto start = std::chrono::steady_clock::now();
    const scaling::Decision decision = policy.decide(snapshot, effective);
    const auto stop = std::chrono::steady_clock::now();
    timing.actions += decision.drain.empty() && decision.create == 0 ? 0 : 1;
    micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(micros.begin(), micros.end());
  timing.median_us = micros[micros.size() / 2];
  timing.p99_us = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  return timing;
}

std::vector<Profile> all_profiles() {
  std::vector<Profile> profiles;
  profiles.push_back({"defaults", ScalingConfig{}});
  // The contract's old defaults, every lever off (the tests' pinned profile).
  const ScalingConfig old_contract = test_support::classic_scaling_profile();
  profiles.push_back({"old-contract", old_contract});
  ScalingConfig old_target = old_contract;
  old_target.policy = PolicyKind::kTarget;
  profiles.push_back({"old-contract-target", old_target});
  // The levers, each alone on top of the old recommended profile, then combined.
  ScalingConfig base = old_contract;
  base.scale_up_threshold = 0.45;
  base.scale_down_threshold = 0.18;
  base.target_stress = 0.4;
  base.drain_timeout_seconds = 7200;
  base.billing_period_seconds = 3600;
  base.billing_drain_lead_seconds = 600;
  base.trend_window_seconds = 60;
  base.lookahead_seconds = 180;
  profiles.push_back({"old-recommended", base});
  Profile no_undrain{"  without undrain", base, false};
  profiles.push_back(no_undrain);
  ScalingConfig headroom = base;
  headroom.predictive_headroom_seconds = 300;
  profiles.push_back({"  + predictive headroom", headroom});
  ScalingConfig lead = base;
  lead.learn_drain_lead = true;
  profiles.push_back({"  + learnt drain lead", lead});
  ScalingConfig age = base;
  age.drain_by_age = true;
  profiles.push_back({"  + drain by age", age});
  ScalingConfig yoyo = base;
  yoyo.no_yoyo = true;
  profiles.push_back({"  + no yo-yo", yoyo});
  ScalingConfig steer = base;
  steer.steer_holds = true;
  profiles.push_back({"  + steering holds", steer});
  ScalingConfig room = base;
  room.learn_largest_conference = true;
  profiles.push_back({"  + learnt room", room});
  ScalingConfig combined = base;
  combined.predictive_headroom_seconds = 300;
  combined.learn_drain_lead = true;
  combined.drain_by_age = true;
  combined.no_yoyo = true;
  combined.steer_holds = true;
  combined.learn_largest_conference = true;
  profiles.push_back({"  all levers", combined});
  profiles.push_back({"recommended (tuned)", scaling::recommended_scaling_config()});
  ScalingConfig tuned_target = scaling::recommended_scaling_config();
  tuned_target.policy = PolicyKind::kTarget;
  profiles.push_back({"recommended, target", tuned_target});
  return profiles;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path traces_dir = JVB_TRACES_DIR;
  bool quick = false;
  bool timing = true;
  // Warm: every policy run follows a run of the same kind (seed + 1000), with what the policy
  // learnt there (an agent that has been running, its learnt state kept in the state file).
  bool warm = false;
  std::string plan_timeline;    // the planner's timeline (first kind, seed 1) as CSV
  std::string policy_timeline;  // the first profile's timeline (first kind, seed 1) as CSV
  int seeds = 8;
  std::vector<std::string> kinds = tracegen::kinds();
  std::vector<std::string> wanted_profiles;
  std::vector<std::string> settings;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--quick") {
      quick = true;
    } else if (argument == "--no-timing") {
      timing = false;
    } else if (argument == "--warm") {
      warm = true;
    } else if (argument == "--plan-timeline" && i + 1 < argc) {
      plan_timeline = argv[++i];
    } else if (argument == "--timeline" && i + 1 < argc) {
      policy_timeline = argv[++i];
    } else if (argument == "--traces" && i + 1 < argc) {
      traces_dir = argv[++i];
    } else if (argument == "--seeds" && i + 1 < argc) {
      seeds = std::clamp(std::atoi(argv[++i]), 1, 64);
    } else if (argument == "--kinds" && i + 1 < argc) {
      kinds = split(argv[++i]);
    } else if (argument == "--profiles" && i + 1 < argc) {
      wanted_profiles = split(argv[++i]);
    } else if (argument == "--set" && i + 1 < argc) {
      settings.push_back(argv[++i]);
    } else {
      std::cerr
          << "usage: scaling_bench [--seeds N] [--kinds a,b] [--profiles a,b] "
             "[--set key=value ...] [--traces DIR] [--no-timing] [--warm] [--plan-timeline FILE] "
             "[--timeline FILE] "
             "[--quick]\n";
      return 2;
    }
  }
  std::vector<Profile> profiles;
  for (auto& profile : all_profiles()) {
    // "  + drain by age" is selected as "+-drain-by-age", "  all levers" as "all-levers".
    std::string key = profile.name.substr(profile.name.find_first_not_of(' '));
    std::replace(key.begin(), key.end(), ' ', '-');
    if (!wanted_profiles.empty() &&
        std::find(wanted_profiles.begin(), wanted_profiles.end(), key) == wanted_profiles.end()) {
      continue;
    }
    for (const auto& setting : settings) {
      if (!apply_setting(profile.config, setting)) {
        std::cerr << "scaling_bench: --set expects scaling_key=value (a key of check-config "
                     "--profile), got "
                  << setting << "\n";
        return 2;
      }
    }
    profiles.push_back(profile);
  }
  if (quick) {
    seeds = 1;
    kinds = {"workday"};
    if (profiles.size() > 2) profiles.resize(2);
  }

  if (!plan_timeline.empty()) {
    // What is physically possible, to plot next to the policy's timeline (docs/scaling.md).
    const auto trace = tracegen::generate(kinds.front(), 1);
    const scaling::SimulationConfig simulation;
    const bench::PlannerResult planned = bench::plan_fleet(trace, simulation, {});
    std::vector<scaling::TimelineRow> rows;
    scaling::ReplayHooks hooks;
    hooks.timeline = &rows;
    hooks.timeline_period_seconds = 10;
    const auto report = scaling::replay_plan(trace, simulation, planned.plan, hooks);
    std::ofstream out(plan_timeline);
    out << scaling::timeline_to_csv(rows);
    std::printf("planner on %s seed 1: billed %.0f h, overload %.3f %%, holds %d, releases %d\n",
                kinds.front().c_str(), report.billed_hours, report.overload_percent(), report.holds,
                report.releases);
    return out ? 0 : 1;
  }

  WebinarSchedule webinar;
  {
    std::ifstream in(traces_dir / "webinar.schedule.json");
    if (!in) {
      std::cerr << "scaling_bench: cannot read " << (traces_dir / "webinar.schedule.json") << "\n";
      return 2;
    }
    const nlohmann::json file = nlohmann::json::parse(in);
    webinar.schedule = file.at("schedule");
    webinar.simulation.start = file.at("simulation").at("start").get<std::string>();
  }

  const scaling::SimulationConfig simulation;  // capacity 100, boot 180 s
  std::printf(
      "%d seeds per kind; capacity %.0f, boot %.0f s; billed/planner: the clairvoyant "
      "planner's billed hours (tests/bench/planner.h)\n\n",
      seeds, simulation.capacity_participants, simulation.boot_seconds);
  std::printf("| %-22s | %-11s | %7s | %7s | %7s | %14s | %7s | %10s |\n", "strategy", "kind",
              "billed", "/oracle", "/planner", "overload % (max)", "dropped", "migrated %");
  std::printf(
      "|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(24, '-').c_str(), std::string(13, '-').c_str(),
      std::string(9, '-').c_str(), std::string(9, '-').c_str(), std::string(10, '-').c_str(),
      std::string(18, '-').c_str(), std::string(9, '-').c_str(), std::string(12, '-').c_str());
  const auto print = [](const std::string& strategy, const std::string& kind, const Tally& t) {
    const double n = std::max(1, t.runs);
    std::printf("| %-22s | %-11s | %7s | %7s | %8s | %7s (%6s) | %7lld | %10s |\n",
                strategy.c_str(), kind.c_str(), fixed(t.billed / n, 1).c_str(),
                fixed(t.over_oracle / n, 3).c_str(), fixed(t.over_planner / n, 3).c_str(),
                fixed(t.overload_percent / n, 3).c_str(), fixed(t.overload_max, 3).c_str(),
                t.dropped,
                fixed(t.participants > 0 ? 100.0 * t.migrated / t.participants : 0, 3).c_str());
  };

  for (const auto& kind : kinds) {
    std::vector<Tally> tallies(profiles.size());
    Tally planner_tally;
    Tally bound_tally;
    // The planner without knowing sizes: room for a 60- (30-) participant conference wherever
    // it places one (what an overload-free online policy must do on these traces).
    const std::vector<int> blind_rooms = {60, 30};
    std::vector<Tally> blind_tallies(blind_rooms.size());
    for (int seed = 1; seed <= seeds; ++seed) {
      std::vector<scaling::Conference> trace;
      try {
        trace = tracegen::generate(kind, static_cast<std::uint32_t>(seed));
      } catch (const std::invalid_argument& error) {
        std::cerr << "scaling_bench: " << error.what() << "\n";
        return 2;
      }
      const long long participants = total_participants(trace);
      const int floor = std::max(0, ScalingConfig{}.min_bridges);
      const double oracle = scaling::oracle_bridge_hours(trace, simulation.capacity_participants);
      bench::PlannerOptions options;
      options.min_bridges = floor;
      const bench::PlannerResult planned = bench::plan_fleet(trace, simulation, options);
      const scaling::SimulationReport replayed =
          scaling::replay_plan(trace, simulation, planned.plan);
      if (std::fabs(replayed.billed_hours - planned.billed_hours) > 1e-9 ||
          replayed.overload_participant_minutes > 0 || replayed.dropped_participants > 0 ||
          replayed.migrated_participants > 0) {
        std::fprintf(stderr,
                     "scaling_bench: the planner's plan for %s seed %d does not replay "
                     "as claimed (%.0f vs %.0f h, overload %.1f)\n",
                     kind.c_str(), seed, planned.billed_hours, replayed.billed_hours,
                     replayed.overload_participant_minutes);
        return 1;
      }
      planner_tally.add(replayed, oracle, planned.billed_hours, participants);
      for (std::size_t b = 0; b < blind_rooms.size(); ++b) {
        bench::PlannerOptions blind = options;
        blind.size_blind_room = blind_rooms[b];
        const bench::PlannerResult blind_plan = bench::plan_fleet(trace, simulation, blind);
        const scaling::SimulationReport blind_replay =
            scaling::replay_plan(trace, simulation, blind_plan.plan);
        if (std::fabs(blind_replay.billed_hours - blind_plan.billed_hours) > 1e-9) {
          std::fprintf(stderr,
                       "scaling_bench: the size-blind plan for %s seed %d does not replay\n",
                       kind.c_str(), seed);
          return 1;
        }
        blind_tallies[b].add(blind_replay, oracle, planned.billed_hours, participants);
      }
      scaling::SimulationReport bound;
      bound.billed_hours =
          scaling::hourly_lower_bound(trace, simulation.capacity_participants, floor);
      bound_tally.add(bound, oracle, planned.billed_hours, participants);
      for (std::size_t p = 0; p < profiles.size(); ++p) {
        scaling::ReplayHooks hooks;
        hooks.can_undrain = profiles[p].can_undrain;
        nlohmann::json learned;
        if (warm) {
          const auto before = tracegen::generate(kind, static_cast<std::uint32_t>(seed + 1000));
          scaling::ReplayHooks warming;
          warming.can_undrain = profiles[p].can_undrain;
          warming.learned_out = &learned;
          const auto warmed = scaling::simulate(
              before, simulation, provider_for(kind, profiles[p].config, &webinar), warming);
          hooks.learned_in = &learned;
          hooks.policy_time_offset = std::ceil(warmed.duration_seconds / 86400) * 86400;
        }
        std::vector<scaling::TimelineRow> rows;
        const bool record = !policy_timeline.empty() && p == 0 && seed == 1 && kind == kinds[0];
        if (record) hooks.timeline = &rows;
        const auto report = scaling::simulate(
            trace, simulation, provider_for(kind, profiles[p].config, &webinar), hooks);
        if (record) std::ofstream(policy_timeline) << scaling::timeline_to_csv(rows);
        tallies[p].add(report, oracle, planned.billed_hours, participants);
      }
    }
    print("planner (clairvoyant)", kind, planner_tally);
    print("lower bound (no sticky)", kind, bound_tally);
    for (std::size_t b = 0; b < blind_rooms.size(); ++b) {
      print("planner, size-blind " + std::to_string(blind_rooms[b]), kind, blind_tallies[b]);
    }
    for (std::size_t p = 0; p < profiles.size(); ++p) print(profiles[p].name, kind, tallies[p]);
  }
  std::printf("\n");

  if (!timing) return 0;
  const int repetitions = quick ? 20 : 2000;
  for (const bool tuned : {false, true}) {
    // The old contract profile, then the defaults (their levers learn every period).
    const ScalingConfig base = tuned ? ScalingConfig{} : test_support::classic_scaling_profile();
    for (PolicyKind kind : {PolicyKind::kThreshold, PolicyKind::kTarget}) {
      const std::string label =
          std::string(kind == PolicyKind::kThreshold ? "threshold" : "target") +
          (tuned ? " (defaults)" : " (old contract)");
      const Timing steady = time_decisions(2000, repetitions, kind, false, base);
      const Timing down = time_decisions(2000, repetitions, kind, true, base);
      std::printf(
          "decision time, 2000 bridges, %-24s: steady %.1f us median / %.1f us p99; "
          "scale-down %.1f us median / %.1f us p99 (%d decisions each)\n",
          label.c_str(), steady.median_us, steady.p99_us, down.median_us, down.p99_us, repetitions);
      if (down.actions == 0) {
        std::fprintf(stderr, "scaling_bench: the scale-down timing case never scaled down\n");
        return 1;
      }
    }
  }
  return 0;
}
