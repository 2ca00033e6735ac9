#include "agent/boot_breaker.h"

#include <fmt/format.h>

#include <algorithm>

#include "schedule/schedule.h"

namespace agent {

bool BootBreaker::on_failed(const std::string& label, WallTime at) {
  const bool known = std::any_of(last_.begin(), last_.end(),
                                 [&](const FailedBoot& boot) { return boot.label == label; });
  if (known) return false;
  if (count_ == 0) since_ = at;
  ++count_;
  last_.push_back({label, at});
  while (last_.size() > kNamed) last_.pop_front();
  return true;
}

void BootBreaker::reset() {
  count_ = 0;
  since_.reset();
  last_.clear();
}

std::optional<std::string> BootBreaker::sentence() const {
  if (!suspended()) return std::nullopt;
  std::string names;
  for (const auto& boot : last_) {
    if (!names.empty()) names += ", ";
    names += boot.label + " at " + schedule::format_utc(boot.at);
  }
  return fmt::format(
      "creation suspended: {} boots in a row never joined the brewery within "
      "scaling.boot_timeout_seconds (last: {}; failing since {}); check linode.region, "
      "linode.image and linode.user_data_file, then run `jvb-autoscaler ctl resume` or reload "
      "the configuration",
      count_, names, since_ ? schedule::format_utc(*since_) : std::string("unknown"));
}

nlohmann::json BootBreaker::to_json() const {
  if (count_ == 0) return nullptr;
  nlohmann::json last = nlohmann::json::array();
  for (const auto& boot : last_) {
    last.push_back({{"label", boot.label}, {"at", unix_seconds(boot.at)}});
  }
  return {{"count", count_}, {"since", since_ ? unix_seconds(*since_) : 0.0}, {"last", last}};
}

void BootBreaker::from_json(const nlohmann::json& value) {
  reset();
  if (!value.is_object()) return;
  const auto count = value.find("count");
  if (count == value.end() || !count->is_number_integer() || count->get<int>() <= 0) return;
  count_ = std::min(count->get<int>(), 1'000'000);
  if (auto since = value.find("since"); since != value.end() && since->is_number()) {
    since_ = from_unix_seconds(since->get<double>());
  }
  if (auto last = value.find("last"); last != value.end() && last->is_array()) {
    for (const auto& boot : *last) {
      if (!boot.is_object() || !boot.contains("label") || !boot["label"].is_string()) continue;
      const double at =
          boot.contains("at") && boot["at"].is_number() ? boot["at"].get<double>() : 0.0;
      last_.push_back({boot["label"].get<std::string>(), from_unix_seconds(at)});
    }
    while (last_.size() > kNamed) last_.pop_front();
  }
}

}  // namespace agent
