#include "load_model.h"

#include <algorithm>
#include <charconv>
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

Meeting parse_meeting(const std::string& text) {
  Meeting meeting;
  std::stringstream parts(text);
  std::string part;
  std::vector<double> values;
  try {
    while (std::getline(parts, part, ':')) {
      size_t used = 0;
      values.push_back(std::stod(part, &used));
      if (used != part.size() || !std::isfinite(values.back()) || values.back() < 0) {
        throw std::invalid_argument("bad");
      }
    }
  } catch (const std::exception&) {
    values.clear();
  }
  if (values.size() < 2 || values.size() > 3 || values[0] != std::floor(values[0])) {
    throw std::invalid_argument("--meeting '" + text +
                                "' is not 'participants:seconds[:grow_every_seconds]' (e.g. "
                                "12:7200:60)");
  }
  meeting.participants = static_cast<int64_t>(values[0]);
  meeting.seconds = values[1];
  if (values.size() == 3) meeting.grow_every_seconds = values[2];
  return meeting;
}

LoadModel::LoadModel(int64_t participants, int64_t conferences, double capacity,
                     std::vector<ProfilePoint> profile, double drain_seconds, bool instant_drain)
    : participants_(participants),
      conferences_(conferences),
      capacity_(capacity),
      profile_(std::move(profile)),
      drain_seconds_(drain_seconds),
      instant_drain_(instant_drain) {}

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
  for (const Running& running : meetings_) {
    const double age = seconds - running.start;
    if (age < 0 || age >= running.meeting.seconds) continue;
    int64_t participants = running.meeting.participants;
    if (running.meeting.grow_every_seconds > 0) {
      participants += static_cast<int64_t>(std::floor(age / running.meeting.grow_every_seconds));
    }
    load.participants += participants;
    load.conferences += 1;
  }
  return load;
}

void LoadModel::add_meeting(double seconds, const Meeting& meeting) {
  std::erase_if(meetings_, [&](const Running& running) {
    return seconds - running.start >= running.meeting.seconds;  // ended
  });
  meetings_.push_back({meeting, seconds});
}

Load LoadModel::at(double seconds) const {
  Load load = drain_started_ ? at_drain_start_ : undrained_at(seconds);
  load.drain = drain_;
  if (drain_started_) {
    const double remaining =
        drain_seconds_ <= 0
            ? 0
            : std::clamp(1.0 - (seconds - *drain_started_) / drain_seconds_, 0.0, 1.0);
    load.participants =
        std::min(at_drain_start_.participants,
                 static_cast<int64_t>(std::ceil(at_drain_start_.participants * remaining)));
    load.conferences =
        std::min(at_drain_start_.conferences,
                 static_cast<int64_t>(std::ceil(at_drain_start_.conferences * remaining)));
  }
  load.stress = capacity_ > 0 ? static_cast<double>(load.participants) / capacity_ : 0;
  return load;
}

void LoadModel::set_load(double seconds, int64_t participants, int64_t conferences) {
  if (drain_started_) {
    // Instant drain: conferences only end, the curve only falls.
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
  if (drain_) return;
  drain_ = true;
  if (instant_drain_) {
    at_drain_start_ = undrained_at(seconds);
    drain_started_ = seconds;
  }
}

void LoadModel::stop_drain(double seconds) {
  if (!drain_) return;
  if (drain_started_) {
    // Whatever is left of an instant drain stays as the static load.
    const Load now = at(seconds);
    profile_.clear();
    participants_ = now.participants;
    conferences_ = now.conferences;
    meetings_.clear();  // their participants are in the static load now
    drain_started_.reset();
  }
  drain_ = false;
}

void LoadModel::restart(double /*seconds*/) {
  drain_ = false;
  drain_started_.reset();
  profile_.clear();
  participants_ = 0;
  conferences_ = 0;
  meetings_.clear();
}

std::string_view to_string(ShutdownState state) {
  switch (state) {
    case ShutdownState::kRunning:
      return "running";
    case ShutdownState::kGracefulShutdown:
      return "graceful_shutdown";
    case ShutdownState::kShuttingDown:
      return "shutting_down";
    case ShutdownState::kGone:
      return "gone";
  }
  return "unknown";
}

void Shutdown::request(double seconds, bool graceful) {
  if (graceful) {
    if (state_ == ShutdownState::kRunning) {
      state_ = ShutdownState::kGracefulShutdown;
      entered_ = seconds;
    }
    return;
  }
  if (state_ == ShutdownState::kRunning || state_ == ShutdownState::kGracefulShutdown) {
    state_ = ShutdownState::kShuttingDown;
    entered_ = seconds;
  }
}

void Shutdown::tick(double seconds, int64_t participants) {
  if (state_ == ShutdownState::kGracefulShutdown &&
      (participants <= 0 || seconds - entered_ >= graceful_max_seconds_)) {
    state_ = ShutdownState::kShuttingDown;
    entered_ = seconds;
  }
  if (state_ == ShutdownState::kShuttingDown && seconds - entered_ >= shutting_down_seconds_) {
    state_ = ShutdownState::kGone;
  }
}

std::string java_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  char buffer[64];
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
    std::string text(buffer, result.ptr);
    if (text.find('.') == std::string::npos) text += ".0";
    return text;
  }
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  const std::string text(buffer, result.ptr);  // e.g. "1e-04", "1.2345678e+07"
  const size_t e = text.find('e');
  std::string mantissa = text.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  const int exponent = std::stoi(text.substr(e + 1));
  return mantissa + "E" + std::to_string(exponent);
}

}  // namespace jvb_sim
