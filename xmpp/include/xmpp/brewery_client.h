#pragma once
// Brewery client: joins Prosody's JVB brewery MUC over XMPP and reports every videobridge's
// colibri stats (DESIGN.md section 5). libstrophe is an implementation detail: nothing of it
// appears here.
//
// Threading: BreweryClient owns one thread that owns the libstrophe context (libstrophe is not
// thread-safe). The Handler is called on that thread; it must not block for long (post the
// event into your own loop, e.g. boost::asio::post) and must not call stop() on the client.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmpp {

enum class TlsMode {
  kRequired,  // STARTTLS must succeed, otherwise the connection is refused
  kOptional,  // STARTTLS when the server offers it, plaintext otherwise
  kDisabled,  // never STARTTLS (loopback tests only)
};

struct ClientConfig {
  std::string host = "127.0.0.1";
  int port = 5222;
  std::string domain;    // XMPP domain of the account, e.g. auth.meet.example.com
  std::string username;  // local part; the JID is username@domain
  std::string password;  // secret: never logged, never in an Event message
  std::string brewery;   // room JID, e.g. jvbbrewery@internal.auth.meet.example.com
  std::string nickname;  // our occupant nickname in the brewery
  TlsMode tls = TlsMode::kRequired;
  bool verify_certificate = true;      // false only when configured; logged as a warning
  std::optional<std::string> ca_file;  // PEM bundle to trust instead of the system store
  double reconnect_initial_seconds = 1;
  double reconnect_max_seconds = 30;
  // Liveness (XEP-0199): the client pings the server every ping_interval_seconds; a ping not
  // answered within ping_timeout_seconds means the connection is dead (kDisconnected, then a
  // reconnect with backoff). A ping_interval_seconds or ping_timeout_seconds <= 0 turns pings
  // off.
  double ping_interval_seconds = 15;
  double ping_timeout_seconds = 10;
};

// One bridge's stats as published in its presence. A field that is missing or malformed is
// std::nullopt ("unknown"), never NaN. Stats not modelled below are kept verbatim in `other`.
// Names and meanings follow jitsi-videobridge's VideobridgeStatisticsShim.kt (what JVB
// publishes) and jicofo's Bridge.kt (what Jicofo reads: stress_level, drain, graceful_shutdown,
// shutting_down, healthy, region, version...). Numbers come in Java's formats ("0.0",
// "1.0E-4", "NaN"); NaN and infinities are unknown. Booleans: "true"/"false" in any case,
// "1"/"0".
struct BridgeStats {
  std::optional<double> stress_level;        // finite, >= 0
  std::optional<int64_t> participants;       // >= 0; JVB counts relayed (octo) endpoints too
  std::optional<int64_t> conferences;        // >= 0
  std::optional<bool> drain;                 // no new conference (Jicofo still adds participants)
  std::optional<bool> graceful_shutdown;     // JVB's GRACEFUL_SHUTDOWN ("graceful_shutdown")
  std::optional<bool> shutting_down;         // JVB's SHUTTING_DOWN ("shutting_down")
  std::optional<bool> healthy;               // JVB's own health check ("healthy")
  std::optional<int64_t> local_endpoints;    // >= 0, endpoints connected to this bridge
  std::optional<int64_t> relayed_endpoints;  // >= 0, "octo_endpoints": relayed from others
  // >= 0, participants of the largest conference on this bridge (jitsi-videobridge
  // doc/statistics.md: "largest_conference - The number of participants in the largest
  // conference currently hosted on the bridge"; VideobridgeStatistics.java LARGEST_CONFERENCE).
  std::optional<int64_t> largest_conference;
  std::optional<std::string> region;
  std::optional<std::string> version;
  std::map<std::string, std::string> other;

  // Either shutdown phase: true when graceful_shutdown or shutting_down is true, false when at
  // least one is known and neither is true, unknown when both are unknown.
  std::optional<bool> shutdown_in_progress() const;
  // Participants connected to this bridge: `local_endpoints` when published, else
  // participants - relayed_endpoints when both are known, else `participants` when the bridge
  // publishes no relay stat at all; unknown when participants and local_endpoints are unknown.
  std::optional<int64_t> local_participants() const;
  // True when the bridge takes no new conference in Jicofo's eyes: drain, either shutdown
  // phase, or healthy = false (jicofo BridgeSelector.kt). Unknown stats count as "takes".
  bool refuses_new_conferences() const;

  bool operator==(const BridgeStats&) const = default;
};

// Pure: builds BridgeStats from (name, value) pairs in document order; a stat given twice:
// the last one wins (a later malformed value makes the field unknown).
BridgeStats parse_stats(const std::vector<std::pair<std::string, std::string>>& name_values);

// Pure: parses one <presence> stanza (XML text). Returns std::nullopt when the text is not a
// presence or carries no <stats xmlns="http://jitsi.org/protocol/colibri"> child; never throws.
std::optional<BridgeStats> parse_presence(std::string_view presence_xml);

struct Event {
  enum class Type {
    kConnected,     // logged in and joined the brewery (after every (re)connect)
    kDisconnected,  // connection lost, refused or silent (unanswered XMPP ping); `message`
                    // says why in one sentence
    kJoined,        // a bridge (an occupant with colibri stats) appeared; `stats` filled
    kStats,         // a known bridge published new stats
    kLeft,          // a bridge sent unavailable presence (never synthesised on disconnect)
    kError,         // a non-fatal problem (e.g. nickname conflict, bad stanza); `message`
  };
  Type type;
  std::string bridge;  // occupant nickname (= Linode label); empty for connection events
  BridgeStats stats;
  std::string message;
  std::chrono::system_clock::time_point time;
};

std::string_view to_string(Event::Type type);

class BreweryClient {
 public:
  using Handler = std::function<void(const Event&)>;

  BreweryClient(ClientConfig config, Handler on_event);
  ~BreweryClient();  // stops
  BreweryClient(const BreweryClient&) = delete;
  BreweryClient& operator=(const BreweryClient&) = delete;

  // Starts the XMPP thread; it connects, joins and reconnects with exponential backoff +
  // jitter until stop(). Calling start() twice is a no-op.
  void start();
  // Leaves the room (unavailable presence), disconnects and joins the thread. Bounded in time.
  // Idempotent; must not be called from the Handler.
  void stop();

  // The nickname actually in use (differs from the configured one after a 409 conflict).
  // Thread-safe.
  std::string current_nickname() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xmpp
