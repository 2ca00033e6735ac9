#pragma once
// Fuzz targets: the colibri stats parser of brewery presence (xmpp/brewery_client.h).
#include <string_view>

#include "fuzz_support.h"

namespace jvb_fuzz {

// The input is one <presence> stanza as received from Prosody.
// Properties: parse_presence never throws; what it returns is sane: stress finite and >= 0,
// participants and conferences >= 0, at most 256 other stats, kept strings valid UTF-8 of at
// most 1 KiB; and it is deterministic (same text, same stats).
class PresenceTarget {
 public:
  static constexpr std::string_view kName = "presence";
  Verdict check(std::string_view input);
};

// The input is a list of stats, one "name=value" per line (as a bridge could publish them).
// Properties: parse_stats never throws and is sane (as above); a stat given twice: the last one
// wins (same result as with the earlier duplicates removed); and the same stats sent inside a
// real presence stanza (XML-escaped) give exactly parse_stats' result.
class StatsTarget {
 public:
  static constexpr std::string_view kName = "stats";
  Verdict check(std::string_view input);
};

}  // namespace jvb_fuzz
