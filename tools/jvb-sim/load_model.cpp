#include "load_model.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace jvb_sim {

std::vector<ProfilePoint> parse_profile(const std::string& text) {
  std::vector<ProfilePoint> points;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const size_t colon = item.find(':');
    size_t used_t = 0, used_p = 0;
    ProfilePoint point{};
    try {
      if (colon == std::string::npos) throw std::invalid_argument("no colon");
      point.seconds = std::stod(item.substr(0, colon), &used_t);
      point.participants = std::stod(item.substr(colon + 1), &used_p);
    } catch (const std::exception&) {
      throw std::invalid_argument("--profile item '" + item +
                                  "' is not 'seconds:participants' (e.g. 0:10,60:80)");
    }
    if (used_t != colon || used_p != item.size() - colon - 1 || !std::isfinite(point.seconds) ||
        !std::isfinite(point.participants) || point.seconds < 0 || point.participants < 0 ||
        (!points.empty() && point.seconds <= points.back().seconds)) {
      throw std::invalid_argument("--profile item '" + item +
                                  "' must have seconds >= 0 increasing and participants >= 0");
    }
    points.push_back(point);
  }
  if (points.empty()) throw std::invalid_argument("--profile is empty (e.g. 0:10,60:80)");
  return points;
}

LoadModel::LoadModel(int64_t participants, int64_t conferences, double capacity,
                     std::vector<ProfilePoint> profile, double drain_seconds)
    : participants_(participants),
      conferences_(conferences),
      capacity_(capacity),
      profile_(std::move(profile)),
      drain_seconds_(drain_seconds) {}

Load LoadModel::undrained_at(double seconds) const {
  Load load{participants_, conferences_, 0, false};
  if (!profile_.empty()) {
    double value = profile_.back().participants;
    if (seconds <= profile_.front().seconds) {
      value = profile_.front().participants;
    } else {
      for (size_t i = 1; i < profile_.size(); ++i) {
        if (seconds <= profile_[i].seconds) {
          const auto& a = profile_[i - 1];
          const auto& b = profile_[i];
          value = a.participants + (b.participants - a.participants) * (seconds - a.seconds) /
                                       (b.seconds - a.seconds);
          break;
        }
      }
    }
    load.participants = std::llround(value);
    // A profile gives participants only; assume conferences of about 5.
    load.conferences = (load.participants + 4) / 5;
  }
  return load;
}

Load LoadModel::at(double seconds) const {
  Load load = drain_started_ ? at_drain_start_ : undrained_at(seconds);
  if (drain_started_) {
    load.drain = true;
    const double remaining =
        drain_seconds_ <= 0
            ? 0
            : std::clamp(1.0 - (seconds - *drain_started_) / drain_seconds_, 0.0, 1.0);
    const double scale = remaining;
    load.participants =
        std::min(at_drain_start_.participants,
                 static_cast<int64_t>(std::ceil(at_drain_start_.participants * scale)));
    load.conferences =
        std::min(at_drain_start_.conferences,
                 static_cast<int64_t>(std::ceil(at_drain_start_.conferences * scale)));
  }
  load.stress = capacity_ > 0 ? static_cast<double>(load.participants) / capacity_ : 0;
  return load;
}

void LoadModel::set_load(double seconds, int64_t participants, int64_t conferences) {
  if (drain_started_) {
    // While draining, conferences only end: lower the curve, never raise it.
    const Load now = at(seconds);
    at_drain_start_.participants = std::min(now.participants, participants);
    at_drain_start_.conferences = std::min(now.conferences, conferences);
    drain_started_ = seconds;
    return;
  }
  profile_.clear();
  participants_ = participants;
  conferences_ = conferences;
}

void LoadModel::start_drain(double seconds) {
  if (drain_started_) return;
  at_drain_start_ = undrained_at(seconds);
  drain_started_ = seconds;
}

}  // namespace jvb_sim
