#pragma once
// A clairvoyant fleet planner: the yardstick of what is physically possible in the simulator's
// model (DESIGN section 8). It knows the whole trace (arrivals, sizes, durations) and plans
// creates, holds (reversible drains that steer Jicofo's placement), releases and deletes, under
// the model's rules: a bridge is ready `boot_seconds` after its create; a new conference goes
// whole to the least-stressed ready bridge that takes new conferences and stays there; an
// instance bills every started hour from create to delete. It never overloads a bridge when it
// can help it and never moves a conference.
//
// Test-only (tests/bench): not the daemon. Its plan is checked by replaying it through
// scaling::replay_plan, an independent implementation of the same model.
#include <vector>

#include "scaling/config.h"
#include "scaling/simulator.h"
#include "scaling/trace.h"

namespace bench {

struct PlannerOptions {
  int min_bridges = 1;                   // alive bridges never fewer (the fleet's floor)
  double billing_period_seconds = 3600;  // Linode bills started hours
  // Size-blind: the planner still knows when every conference starts and ends, but not its
  // size, so it places a conference only where one of `size_blind_room` participants would fit
  // (what an online policy must do when conferences up to that size can start at any moment).
  // 0: it knows the sizes (the yardstick).
  int size_blind_room = 0;
};

struct PlannerResult {
  scaling::FleetPlan plan;
  double billed_hours = 0;  // the planner's own count (the replay must agree)
  int bridges = 0;          // instances used
};

// Greedy with clairvoyance, in time order:
// * arrivals: the least-loaded open ready bridge if the conference fits there; otherwise release
//   a held bridge it fits on (instant, already paid); otherwise create a bridge exactly
//   boot_seconds before the arrival (never earlier than needed);
// * holds: every open bridge whose conferences all end before its paid hour ends is held, as long
//   as one open ready bridge remains, so that new conferences pack onto the bridges that pay for
//   another hour anyway and the held ones empty;
// * at a bridge's hour boundary: an empty bridge is deleted unless the fleet would need a new
//   bridge within the next hour without it (a dry run of the coming arrivals) or min_bridges.
PlannerResult plan_fleet(const std::vector<scaling::Conference>& conferences,
                         const scaling::SimulationConfig& simulation,
                         const PlannerOptions& options);

}  // namespace bench
