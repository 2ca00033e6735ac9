#pragma once
// Noticing bridges that run JVB's stats filter (videobridge.apis.xmpp-client.stats-filter in
// jitsi-videobridge's reference.conf): their presences carry stress_level but never
// `participants`. Scaling still works on stress_level (DESIGN.md section 5, "Stats a decision
// needs"); only the drain-completion test cannot see such a bridge empty itself. Shared by
// `watch` and `run` so both print the same one warning per bridge. Pure, not thread-safe.

#include <map>
#include <optional>
#include <string>

#include "xmpp/brewery_client.h"

namespace xmpp {

class MissingParticipantsDetector {
 public:
  // Feed every event. Returns the warning sentence the first time a bridge that never
  // published `participants` sends a second stats presence in a row without it (while
  // publishing stress_level); std::nullopt otherwise. A bridge that leaves is forgotten only
  // in its count, not in "already warned".
  std::optional<std::string> observe(const Event& event);

 private:
  struct Seen {
    bool ever_published = false;
    bool warned = false;
    int without = 0;
  };
  std::map<std::string, Seen> bridges_;
};

// The sentence: names the bridge and how to configure JVB.
std::string missing_participants_warning(const std::string& bridge);

}  // namespace xmpp
