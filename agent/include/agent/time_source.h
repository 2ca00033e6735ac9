#pragma once
// The agent's clocks, injected (the idea of Envoy's TimeSource, envoy/common/time.h: production
// code never calls a clock directly, tests drive a simulated one).
//
// Two clocks, two purposes:
// - wall time (system_clock) for what is persisted and shown: the state file, `ctl status`,
//   the schedule's calendar, Linode's `created`;
// - monotonic time (steady_clock) for everything measured as a duration: boot and drain
//   timeouts, cooldowns, stats silence. A wall clock stepped by NTP never fires a timeout.
#include <chrono>

namespace agent {

using WallClock = std::chrono::system_clock;
using MonoClock = std::chrono::steady_clock;
using WallTime = WallClock::time_point;
using MonoTime = MonoClock::time_point;
using Seconds = std::chrono::duration<double>;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual WallTime wall_now() const = 0;
  virtual MonoTime mono_now() const = 0;
};

// The real clocks.
class RealTimeSource final : public TimeSource {
 public:
  WallTime wall_now() const override { return WallClock::now(); }
  MonoTime mono_now() const override { return MonoClock::now(); }
};

// A clock that moves only when told (tests). Both clocks advance together.
class FakeTimeSource final : public TimeSource {
 public:
  explicit FakeTimeSource(WallTime wall = WallTime(std::chrono::seconds(1'767'000'000)))
      : wall_(wall), mono_(MonoTime(std::chrono::hours(1000))) {}
  WallTime wall_now() const override { return wall_; }
  MonoTime mono_now() const override { return mono_; }
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> step) {
    wall_ += std::chrono::duration_cast<WallClock::duration>(step);
    mono_ += std::chrono::duration_cast<MonoClock::duration>(step);
  }

 private:
  WallTime wall_;
  MonoTime mono_;
};

// Unix seconds of a wall time (the state file's representation), and back.
inline double unix_seconds(WallTime time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}
inline WallTime from_unix_seconds(double seconds) {
  return WallTime(std::chrono::duration_cast<WallClock::duration>(Seconds(seconds)));
}
// The scaling policy works in `double` seconds of one fixed epoch: the agent hands it monotonic
// time (conversion happens only at that boundary, see Fleet::views), which the Reconciler
// anchors on the wall clock once at start-up (Reconciler::policy_epoch_) so that what the policy
// learns by time of day and week stays meaningful across restarts.
inline double policy_seconds(MonoTime time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}
template <class Rep, class Period>
MonoClock::duration to_mono(std::chrono::duration<Rep, Period> duration) {
  return std::chrono::duration_cast<MonoClock::duration>(duration);
}

}  // namespace agent
