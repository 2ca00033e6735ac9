#pragma once
// What a simulated bridge reports, as pure functions of time (passed in): the load (from flags,
// a piecewise-linear profile or HTTP updates), drain mode, JVB's shutdown phases and Java's
// number formats. Modelled on jitsi-videobridge:
//  - Videobridge.java setDrainMode / rest/root/colibri/drain/Drain.java: drain is a flag in
//    memory only (lost on restart) that stops Jicofo from placing NEW conferences; it moves and
//    ends nothing. Jicofo still adds participants to conferences already on the bridge
//    (jicofo BridgeSelectionStrategy.kt: "Existing bridge does not have a relay, will not
//    consider other bridges"), so while draining the load goes wherever the load driver says.
//  - shutdown/ShutdownManager.kt + rest/root/colibri/shutdown/Shutdown.java: POST
//    {"graceful-shutdown": true} enters GRACEFUL_SHUTDOWN until the participants fall to
//    graceful-shutdown-min-participants (0) or graceful-shutdown-max-duration passes, then
//    SHUTTING_DOWN for shutting-down-delay (Jicofo moves the participants away), then the
//    process exits; {"graceful-shutdown": false} goes to SHUTTING_DOWN at once.

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

// One conference with a fixed length: it keeps its participants (and takes a newcomer every
// grow_every_seconds when > 0) until its end, whatever drain says.
struct Meeting {
  int64_t participants = 0;
  double seconds = 0;  // length
  double grow_every_seconds = 0;
};
// Parses "participants:seconds[:grow_every_seconds]", e.g. "12:7200" or "12:7200:60".
// Throws std::invalid_argument with one sentence.
Meeting parse_meeting(const std::string& text);

struct Load {
  int64_t participants = 0;
  int64_t conferences = 0;
  double stress = 0;
  bool drain = false;
  bool operator==(const Load&) const = default;
};

class LoadModel {
 public:
  // instant_drain: the old, unrealistic behaviour kept for tests that ask for it: a drain
  // makes participants fall linearly to 0 over drain_seconds and the load may then only fall.
  LoadModel(int64_t participants, int64_t conferences, double capacity,
            std::vector<ProfilePoint> profile, double drain_seconds, bool instant_drain = false);

  Load at(double seconds) const;
  // Sets the load (as Jicofo placing conferences would). With instant_drain, while draining
  // it may only fall; otherwise it is taken as given, drained or not.
  void set_load(double seconds, int64_t participants, int64_t conferences);
  // Adds a meeting starting at `seconds`; it is counted on top of the load above until its
  // end. Drain does not touch it (with instant_drain, the drain curve does).
  void add_meeting(double seconds, const Meeting& meeting);
  void start_drain(double seconds);
  void stop_drain(double seconds);
  bool draining() const { return drain_; }
  // A JVB restart: drain mode is forgotten and every conference is gone (Jicofo re-invites
  // its participants elsewhere).
  void restart(double seconds);

 private:
  Load undrained_at(double seconds) const;

  int64_t participants_;
  int64_t conferences_;
  double capacity_;
  std::vector<ProfilePoint> profile_;  // empty or replaced by set_load
  double drain_seconds_;
  bool instant_drain_;
  bool drain_ = false;
  std::optional<double> drain_started_;  // instant_drain only
  Load at_drain_start_;
  struct Running {
    Meeting meeting;
    double start;
  };
  std::vector<Running> meetings_;
};

enum class ShutdownState { kRunning, kGracefulShutdown, kShuttingDown, kGone };
std::string_view to_string(ShutdownState state);

// JVB's ShutdownManager.
class Shutdown {
 public:
  Shutdown(double graceful_max_seconds, double shutting_down_seconds)
      : graceful_max_seconds_(graceful_max_seconds),
        shutting_down_seconds_(shutting_down_seconds) {}
  void request(double seconds, bool graceful);
  // Advances the phases given the current participants.
  void tick(double seconds, int64_t participants);
  ShutdownState state() const { return state_; }
  void reset() { state_ = ShutdownState::kRunning; }

 private:
  double graceful_max_seconds_;
  double shutting_down_seconds_;
  ShutdownState state_ = ShutdownState::kRunning;
  double entered_ = 0;
};

// Java's Double.toString: "0.0", "0.25", "1.0E-4", "1.2345678E7".
std::string java_double(double value);

}  // namespace jvb_sim
