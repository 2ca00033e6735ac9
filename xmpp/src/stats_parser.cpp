// Colibri stats from brewery presence: pure functions, no libstrophe.
// Bridge stats come from the network, so every value is validated: what is missing or
// malformed is "unknown" (std::nullopt), never NaN, never an exception.

#include <expat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "xmpp/brewery_client.h"

namespace xmpp {
namespace {

constexpr std::string_view kColibriNs = "http://jitsi.org/protocol/colibri";
constexpr std::string_view kClientNs = "jabber:client";
// A JVB reports stress around 0..1 (above 1 = overloaded); a value beyond this is garbage.
constexpr double kMaxStress = 1000.0;
// Bounds on what one presence may make us keep in memory.
constexpr size_t kMaxOtherStats = 256;
constexpr size_t kMaxValueBytes = 1024;

bool valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length;
    uint32_t code_point;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Reject overlong encodings, surrogates and values beyond Unicode.
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

bool usable_string(std::string_view text) {
  return text.size() <= kMaxValueBytes && valid_utf8(text);
}

// Java's Double.toString / Long.toString and JSON numbers: "0.25", "1.0E-4", "3", "NaN".
std::optional<double> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text.front() == '+') return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;  // "NaN", "Infinity": unknown
  return value;
}

std::optional<double> parse_stress(std::string_view text) {
  const std::optional<double> value = parse_number(text);
  if (!value || *value < 0 || *value > kMaxStress) return std::nullopt;
  return *value == 0 ? 0.0 : *value;  // "-0.0" is 0
}

// A count: "12", or an integral number in Java's double format ("12.0", "1.2E1").
std::optional<int64_t> parse_count(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc() && end == text.data() + text.size()) {
    return value >= 0 ? std::optional(value) : std::nullopt;
  }
  const std::optional<double> number = parse_number(text);
  // 2^53: beyond it a double no longer holds every integer.
  if (!number || *number < 0 || *number > 9007199254740992.0 || std::floor(*number) != *number) {
    return std::nullopt;
  }
  return static_cast<int64_t>(*number);
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower(text.substr(0, 8));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (text.size() > 8) return std::nullopt;
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  return std::nullopt;
}

// --- expat-based presence reader --------------------------------------------------------

// Expat with namespace processing reports names as "<namespace-uri>\x01<local-name>".
constexpr char kNsSeparator = '\x01';

std::pair<std::string_view, std::string_view> split_name(const XML_Char* name) {
  std::string_view full(name);
  const size_t separator = full.find(kNsSeparator);
  if (separator == std::string_view::npos) return {{}, full};
  return {full.substr(0, separator), full.substr(separator + 1)};
}

struct PresenceReader {
  XML_Parser parser = nullptr;
  int depth = 0;
  bool root_is_presence = false;
  bool saw_stats = false;
  int stats_depth = 0;  // depth of the open <stats> element, 0 when outside
  std::vector<std::pair<std::string, std::string>> name_values;
};

void on_start_impl(PresenceReader& reader, const XML_Char* name, const XML_Char** attributes);

// Expat is C: nothing may unwind through it. A failure (e.g. bad_alloc) stops the parse.
void XMLCALL on_start(void* user_data, const XML_Char* name, const XML_Char** attributes) noexcept {
  auto& reader = *static_cast<PresenceReader*>(user_data);
  try {
    on_start_impl(reader, name, attributes);
  } catch (...) {
    XML_StopParser(reader.parser, XML_FALSE);
  }
}

void on_start_impl(PresenceReader& reader, const XML_Char* name, const XML_Char** attributes) {
  ++reader.depth;
  const auto [ns, local] = split_name(name);
  if (reader.depth == 1) {
    reader.root_is_presence = local == "presence" && (ns.empty() || ns == kClientNs);
    if (!reader.root_is_presence) XML_StopParser(reader.parser, XML_FALSE);
    return;
  }
  if (reader.depth == 2 && local == "stats" && ns == kColibriNs) {
    reader.saw_stats = true;
    reader.stats_depth = 2;
    return;
  }
  if (reader.stats_depth == 2 && reader.depth == 3 && local == "stat") {
    const char* stat_name = nullptr;
    const char* stat_value = nullptr;
    for (const XML_Char** attribute = attributes; attribute[0] != nullptr; attribute += 2) {
      if (std::strcmp(attribute[0], "name") == 0) stat_name = attribute[1];
      if (std::strcmp(attribute[0], "value") == 0) stat_value = attribute[1];
    }
    // A stat without a value is "unknown"; an empty value parses as malformed below.
    if (stat_name != nullptr)
      reader.name_values.emplace_back(stat_name, stat_value ? stat_value : "");
  }
}

void XMLCALL on_end(void* user_data, const XML_Char* /*name*/) noexcept {
  auto& reader = *static_cast<PresenceReader*>(user_data);
  if (reader.depth == reader.stats_depth) reader.stats_depth = 0;
  --reader.depth;
}

// Presence never has a DTD; refusing one closes the door on entity-expansion attacks.
void XMLCALL on_doctype(void* user_data, const XML_Char*, const XML_Char*, const XML_Char*,
                        int) noexcept {
  XML_StopParser(static_cast<PresenceReader*>(user_data)->parser, XML_FALSE);
}

struct ParserDeleter {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};

}  // namespace

BridgeStats parse_stats(const std::vector<std::pair<std::string, std::string>>& name_values) {
  BridgeStats stats;
  for (const auto& [name, value] : name_values) {
    if (name == "stress_level") {
      stats.stress_level = parse_stress(value);
    } else if (name == "participants") {
      stats.participants = parse_count(value);
    } else if (name == "conferences") {
      stats.conferences = parse_count(value);
    } else if (name == "drain") {
      stats.drain = parse_bool(value);
    } else if (name == "graceful_shutdown") {
      stats.graceful_shutdown = parse_bool(value);
    } else if (name == "shutting_down") {
      stats.shutting_down = parse_bool(value);
    } else if (name == "healthy") {
      stats.healthy = parse_bool(value);
    } else if (name == "local_endpoints") {
      stats.local_endpoints = parse_count(value);
    } else if (name == "octo_endpoints") {
      stats.relayed_endpoints = parse_count(value);
    } else if (name == "largest_conference") {
      stats.largest_conference = parse_count(value);
    } else if (name == "region") {
      stats.region = usable_string(value) && !value.empty() ? std::optional(value) : std::nullopt;
    } else if (name == "version") {
      stats.version = usable_string(value) && !value.empty() ? std::optional(value) : std::nullopt;
    } else if (!name.empty() && usable_string(name) && !usable_string(value)) {
      stats.other.erase(name);  // the last value wins, even when it is unusable
    } else if (!name.empty() && usable_string(name) && usable_string(value)) {
      auto existing = stats.other.find(name);
      if (existing != stats.other.end()) {
        existing->second = value;
      } else if (stats.other.size() < kMaxOtherStats) {
        stats.other.emplace(name, value);
      }
    }
  }
  return stats;
}

std::optional<bool> BridgeStats::shutdown_in_progress() const {
  if (graceful_shutdown.value_or(false) || shutting_down.value_or(false)) return true;
  if (graceful_shutdown || shutting_down) return false;
  return std::nullopt;
}

std::optional<int64_t> BridgeStats::local_participants() const {
  if (local_endpoints) return local_endpoints;
  if (!participants) return std::nullopt;
  if (relayed_endpoints) return std::max<int64_t>(0, *participants - *relayed_endpoints);
  return participants;
}

bool BridgeStats::refuses_new_conferences() const {
  return drain.value_or(false) || shutdown_in_progress().value_or(false) || !healthy.value_or(true);
}

std::optional<BridgeStats> parse_presence(std::string_view presence_xml) {
  try {
    std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(
        XML_ParserCreateNS("UTF-8", kNsSeparator));
    if (!parser) return std::nullopt;
    PresenceReader reader;
    reader.parser = parser.get();
    XML_SetUserData(parser.get(), &reader);
    XML_SetElementHandler(parser.get(), on_start, on_end);
    XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
    if (presence_xml.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return std::nullopt;
    }
    const XML_Status status = XML_Parse(parser.get(), presence_xml.data(),
                                        static_cast<int>(presence_xml.size()), XML_TRUE);
    if (status != XML_STATUS_OK || !reader.root_is_presence || !reader.saw_stats) {
      return std::nullopt;
    }
    return parse_stats(reader.name_values);
  } catch (...) {
    return std::nullopt;  // e.g. bad_alloc on absurd input: "no stats", never a crash
  }
}

std::string_view to_string(Event::Type type) {
  switch (type) {
    case Event::Type::kConnected:
      return "connected";
    case Event::Type::kDisconnected:
      return "disconnected";
    case Event::Type::kJoined:
      return "joined";
    case Event::Type::kStats:
      return "stats";
    case Event::Type::kLeft:
      return "left";
    case Event::Type::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace xmpp
