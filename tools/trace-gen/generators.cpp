#include "generators.h"

#include <cmath>
#include <random>
#include <stdexcept>

namespace tracegen {
namespace {

constexpr double kMinute = 60;
constexpr double kHour = 3600;

// Portable draws on top of mt19937 (whose output sequence is fixed by the standard).
class Draw {
 public:
  explicit Draw(std::uint32_t seed) : engine_(seed) {}
  // Uniform integer in [low, high].
  int integer(int low, int high) {
    const std::uint32_t span = static_cast<std::uint32_t>(high - low) + 1;
    return low + static_cast<int>(engine_() % span);
  }
  double unit() { return engine_() / 4294967296.0; }  // [0, 1)
  bool chance(double p) { return unit() < p; }
  // Poisson by inversion (small means only).
  int poisson(double mean) {
    const double limit = std::exp(-mean);
    double product = unit();
    int count = 0;
    while (product > limit && count < 10000) {
      product *= unit();
      ++count;
    }
    return count;
  }

 private:
  std::mt19937 engine_;
};

// Meeting sizes: mostly small, some team meetings, rare all-hands of up to 60.
int meeting_size(Draw& draw) {
  const double u = draw.unit();
  if (u < 0.55) return draw.integer(2, 5);
  if (u < 0.85) return draw.integer(6, 12);
  if (u < 0.97) return draw.integer(13, 30);
  return draw.integer(31, 60);
}

// Scheduled meetings last 15/30/45/60/90 minutes and end a little early or late.
double meeting_duration(Draw& draw) {
  static constexpr int kMinutes[] = {15, 30, 30, 30, 45, 60, 60, 60, 90};
  const int nominal = kMinutes[draw.integer(0, 8)];
  return (nominal + draw.integer(-5, 10)) * kMinute;
}

// Working-day intensity (meeting starts per half hour) by hour of day; lunch dip at 12.
double workday_rate(int hour) {
  static constexpr double kRate[24] = {0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 4, 14,  24, 26,  22,
                                       12,  20,  25,  24,  18,  9,   4,   2, 1.5, 1,  0.7, 0.5};
  return kRate[hour];
}

std::vector<scaling::Conference> workday(Draw& draw, double day_start, double scale) {
  std::vector<scaling::Conference> trace;
  for (int slot = 0; slot < 48; ++slot) {
    const double slot_start = day_start + slot * 30 * kMinute;
    const double rate = workday_rate(slot / 2) * scale;
    // Most meetings start on the hour or half hour (people join within ~2 minutes) ...
    const int on_the_mark = draw.poisson(rate * 0.7);
    for (int i = 0; i < on_the_mark; ++i) {
      trace.push_back(
          {slot_start + draw.integer(0, 120), meeting_duration(draw), meeting_size(draw)});
    }
    // ... the rest are ad-hoc calls at any time.
    const int ad_hoc = draw.poisson(rate * 0.3);
    for (int i = 0; i < ad_hoc; ++i) {
      trace.push_back({slot_start + draw.integer(0, 30 * 60 - 1),
                       static_cast<double>(draw.integer(5, 50)) * kMinute, draw.integer(2, 6)});
    }
  }
  return trace;
}

// Six hours of ordinary load (starting from an empty cluster), then a flash crowd: ~450 extra
// participants arrive within 10 minutes at t = 2 h (a viral link, an emergency all-hands split in
// rooms) and leave over the next 60-100 minutes.
std::vector<scaling::Conference> flash_crowd(Draw& draw) {
  std::vector<scaling::Conference> trace;
  for (int slot = 0; slot < 12; ++slot) {
    const double slot_start = slot * 30 * kMinute;
    const int starts = draw.poisson(14);
    for (int i = 0; i < starts; ++i) {
      trace.push_back(
          {slot_start + draw.integer(0, 30 * 60 - 1), meeting_duration(draw), draw.integer(2, 10)});
    }
  }
  int crowd = 0;
  while (crowd < 450) {
    const int size = draw.integer(3, 15);
    trace.push_back({2 * kHour + draw.integer(0, 600),
                     static_cast<double>(draw.integer(60, 100)) * kMinute, size});
    crowd += size;
  }
  return trace;
}

// Saturday and Sunday: family and hobby calls, afternoons and evenings, a few hundred
// participant-hours in all; the night is mostly empty.
std::vector<scaling::Conference> weekend(Draw& draw) {
  static constexpr double kRate[24] = {0.4, 0.2, 0.1, 0,   0, 0, 0.1, 0.3, 0.8, 1.5, 2.5, 3,
                                       3,   3,   3.5, 3.5, 4, 4, 4.5, 5,   4,   3,   2,   1};
  std::vector<scaling::Conference> trace;
  for (int day = 0; day < 2; ++day) {
    for (int hour = 0; hour < 24; ++hour) {
      const int starts = draw.poisson(kRate[hour]);
      for (int i = 0; i < starts; ++i) {
        trace.push_back({day * 24 * kHour + hour * kHour + draw.integer(0, 3599),
                         static_cast<double>(draw.integer(15, 120)) * kMinute, draw.integer(2, 8)});
      }
    }
  }
  return trace;
}

// One working day 07:00-19:00 local (t = 0 is 07:00, Monday 2026-01-05 in
// traces/webinar.schedule.json) of background meetings plus three announced webinars of 12 rooms
// x 70 participants (the C++ form of traces/webinar_gen.py, which made traces/webinar.csv).
std::vector<scaling::Conference> webinar(Draw& draw) {
  constexpr double kDay = 12 * kHour;
  constexpr double kPeakRate = 0.015;  // meeting starts per second on the plateau
  const auto shape = [](double t) {
    const double hour = 7 + t / kHour;
    if (hour < 9) return (hour - 7) / 2;
    if (hour < 12) return 1.0;
    if (hour < 13) return 0.7;
    if (hour < 17) return 1.0;
    if (hour < 18.5) return 1.0 - (hour - 17) / 1.5;
    return 0.0;
  };
  std::vector<scaling::Conference> trace;
  double t = 0;
  for (int i = 0; i < 100000; ++i) {
    t += -std::log(1.0 - draw.unit()) / kPeakRate;
    if (t >= kDay) break;
    if (draw.unit() >= shape(t)) continue;
    // Log-normal size around 5 (sigma 0.45), 2..12 people; 15-55 minutes.
    const double u1 = 1.0 - draw.unit();
    const double u2 = draw.unit();
    const double normal = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
    const int size = std::min(
        12, std::max(2, static_cast<int>(std::lround(std::exp(std::log(5.0) + 0.45 * normal)))));
    trace.push_back({std::round(t), std::round(draw.integer(15 * 60, 55 * 60)), size});
  }
  constexpr double kWebinars[3][2] = {
      {3 * kHour, 4.5 * kHour}, {6.5 * kHour, 7.5 * kHour}, {9 * kHour, 10 * kHour}};
  for (const auto& webinar : kWebinars) {
    for (int room = 0; room < 12; ++room) {
      const double start = webinar[0] + draw.integer(-60, 120);
      const double end = webinar[1] + draw.integer(-180, 180);
      trace.push_back({start, end - start, 70});
    }
  }
  return trace;
}

}  // namespace

std::vector<scaling::Conference> generate(const std::string& kind, std::uint32_t seed,
                                          double scale) {
  Draw draw(seed);
  if (kind == "workday") return workday(draw, 0, scale);
  if (kind == "flash-crowd") return flash_crowd(draw);
  if (kind == "weekend") return weekend(draw);
  if (kind == "webinar") return webinar(draw);
  throw std::invalid_argument("unknown trace kind " + kind);
}

}  // namespace tracegen
