#include "xmpp/stats_filter.h"

namespace xmpp {

std::optional<std::string> MissingParticipantsDetector::observe(const Event& event) {
  if (event.type != Event::Type::kJoined && event.type != Event::Type::kStats) {
    if (event.type == Event::Type::kLeft) {
      const auto it = bridges_.find(event.bridge);
      if (it != bridges_.end()) it->second.without = 0;
    }
    return std::nullopt;
  }
  Seen& seen = bridges_[event.bridge];
  if (event.stats.participants) {
    seen.ever_published = true;
    seen.without = 0;
    return std::nullopt;
  }
  // No stress either: a presence without colibri stats (or garbage), not the filter.
  if (seen.ever_published || seen.warned || !event.stats.stress_level) return std::nullopt;
  if (++seen.without < 2) return std::nullopt;
  seen.warned = true;
  return missing_participants_warning(event.bridge);
}

std::string missing_participants_warning(const std::string& bridge) {
  return "bridge " + bridge +
         " publishes no 'participants' stat (JVB's stats filter is on). Scaling still works on "
         "stress_level, but a drain of this bridge can only end by graceful shutdown. On the "
         "bridge, set videobridge.apis.xmpp-client.stats-filter.enabled = false or add "
         "\"participants\" and \"conferences\" to its whitelist (see docs/bridges.md).";
}

}  // namespace xmpp
