#pragma once
// The load a simulated bridge reports: from flags, a piecewise-linear profile, HTTP updates,
// and a drain that lets participants fall linearly to zero. Pure: time is passed in.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jvb_sim {

struct ProfilePoint {
  double seconds;
  double participants;
};
// Parses "t0:p0,t1:p1,..." (seconds since start, participants; t increasing, p >= 0).
// Throws std::invalid_argument with one sentence naming the bad item.
std::vector<ProfilePoint> parse_profile(const std::string& text);

struct Load {
  int64_t participants = 0;
  int64_t conferences = 0;
  double stress = 0;
  bool drain = false;
  bool operator==(const Load&) const = default;
};

class LoadModel {
 public:
  LoadModel(int64_t participants, int64_t conferences, double capacity,
            std::vector<ProfilePoint> profile, double drain_seconds);

  Load at(double seconds) const;
  // Sets the load (as Jicofo placing conferences would). While draining it may only fall.
  void set_load(double seconds, int64_t participants, int64_t conferences);
  void start_drain(double seconds);
  bool draining() const { return drain_started_.has_value(); }

 private:
  Load undrained_at(double seconds) const;

  int64_t participants_;
  int64_t conferences_;
  double capacity_;
  std::vector<ProfilePoint> profile_;  // empty or replaced by set_load
  double drain_seconds_;
  std::optional<double> drain_started_;
  Load at_drain_start_;
};

}  // namespace jvb_sim
