#include "stats_target.h"

#include <cmath>
#include <exception>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "xmpp/brewery_client.h"

namespace jvb_fuzz {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxOtherStats = 256;
constexpr std::size_t kMaxValueBytes = 1024;

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80             ? 1
                         : (byte & 0xE0) == 0xC0 ? 2
                         : (byte & 0xF0) == 0xE0 ? 3
                         : (byte & 0xF8) == 0xF0 ? 4
                                                 : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code_point = length == 1 ? byte : byte & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::optional<std::string> sanity_violation(const xmpp::BridgeStats& stats) {
  if (stats.stress_level && (!std::isfinite(*stats.stress_level) || *stats.stress_level < 0)) {
    return "stress_level is NaN, infinite or negative";
  }
  if (stats.participants && *stats.participants < 0) return "participants is negative";
  if (stats.conferences && *stats.conferences < 0) return "conferences is negative";
  if (stats.largest_conference && *stats.largest_conference < 0) {
    return "largest_conference is negative";
  }
  if (stats.other.size() > kMaxOtherStats) return "more than 256 other stats kept";
  for (const auto* text :
       {stats.region ? &*stats.region : nullptr, stats.version ? &*stats.version : nullptr}) {
    if (text != nullptr && (text->size() > kMaxValueBytes || !valid_utf8(*text))) {
      return "region/version is too long or not UTF-8";
    }
  }
  for (const auto& [name, value] : stats.other) {
    if (name.empty() || name.size() > kMaxValueBytes || value.size() > kMaxValueBytes ||
        !valid_utf8(name) || !valid_utf8(value)) {
      return "an other stat is empty, too long or not UTF-8: " + printable(name, 60);
    }
  }
  return std::nullopt;
}

Pairs split_pairs(std::string_view input) {
  Pairs pairs;
  std::size_t begin = 0;
  while (begin <= input.size() && pairs.size() < 2'000) {
    std::size_t end = input.find('\n', begin);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(begin, end - begin);
    const std::size_t equals = line.find('=');
    if (!line.empty()) {
      pairs.emplace_back(
          std::string(line.substr(0, equals)),
          equals == std::string_view::npos ? std::string() : std::string(line.substr(equals + 1)));
    }
    begin = end + 1;
  }
  return pairs;
}

// Keeps only the last occurrence of each name, in the order of those last occurrences.
Pairs last_occurrences(const Pairs& pairs) {
  Pairs kept;
  std::set<std::string> seen;
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it) {
    if (seen.insert(it->first).second) kept.push_back(*it);
  }
  return Pairs(kept.rbegin(), kept.rend());
}

// XML attribute text: escapes what must be escaped; nullopt when the text cannot travel in
// XML at all (invalid UTF-8, control characters).
std::optional<std::string> xml_attribute(const std::string& text) {
  if (!valid_utf8(text)) return std::nullopt;
  // U+FFFE and U+FFFF are not XML characters either.
  if (text.find("\xef\xbf\xbe") != std::string::npos ||
      text.find("\xef\xbf\xbf") != std::string::npos) {
    return std::nullopt;
  }
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20) return std::nullopt;  // even escaped, XML 1.0 refuses most of them
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

Verdict PresenceTarget::check(std::string_view input) {
  std::optional<xmpp::BridgeStats> stats;
  try {
    stats = xmpp::parse_presence(input);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("parse_presence threw: ") + error.what());
  }
  if (!stats) return Verdict::ok(false);
  if (auto why = sanity_violation(*stats)) return Verdict::fail(*why);
  if (xmpp::parse_presence(input) != stats)
    return Verdict::fail("parse_presence is not deterministic");
  return Verdict::ok(true);
}

Verdict StatsTarget::check(std::string_view input) {
  const Pairs pairs = split_pairs(input);
  xmpp::BridgeStats stats;
  try {
    stats = xmpp::parse_stats(pairs);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("parse_stats threw: ") + error.what());
  }
  if (auto why = sanity_violation(stats)) return Verdict::fail(*why);

  const Pairs deduplicated = last_occurrences(pairs);
  std::set<std::string> names;
  for (const auto& [name, value] : pairs) names.insert(name);
  // "shutting_down" also sets graceful_shutdown, so two names feed one field; the cap on other
  // stats depends on first-appearance order. Outside those, the last one must win.
  if (!names.contains("shutting_down") && names.size() < kMaxOtherStats) {
    const xmpp::BridgeStats expected = xmpp::parse_stats(deduplicated);
    if (expected != stats) {
      return Verdict::fail("a stat given twice: the last one did not win");
    }
  }

  // The same stats inside a real presence stanza, as a bridge would send them.
  std::string xml =
      "<presence xmlns='jabber:client' from='jvbbrewery@internal.auth.example.com/jvb-as-1'>"
      "<stats xmlns='http://jitsi.org/protocol/colibri'>";
  bool representable = true;
  for (const auto& [name, value] : pairs) {
    const auto escaped_name = xml_attribute(name);
    const auto escaped_value = xml_attribute(value);
    if (!escaped_name || !escaped_value) {
      representable = false;
      break;
    }
    xml += "<stat name=\"" + *escaped_name + "\" value=\"" + *escaped_value + "\"/>";
  }
  xml += "</stats></presence>";
  if (representable) {
    const auto from_presence = xmpp::parse_presence(xml);
    if (!from_presence) return Verdict::fail("a well-formed presence with stats was refused");
    if (*from_presence != stats) {
      return Verdict::fail("parse_presence and parse_stats disagree on the same stats");
    }
  }
  return Verdict::ok(stats.stress_level.has_value() || stats.participants.has_value());
}

}  // namespace jvb_fuzz
