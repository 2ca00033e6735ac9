// BreweryClient: one thread owns the libstrophe context and connection (libstrophe is not
// thread-safe) and loops xmpp_run_once; every libstrophe callback is a noexcept trampoline
// that catches everything, so no exception ever unwinds through C frames.

#include "xmpp/brewery_client.h"

#include <spdlog/spdlog.h>
#include <strophe.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "xmpp/jid.h"

namespace xmpp {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kMucNs = "http://jabber.org/protocol/muc";
constexpr const char* kMucUserNs = "http://jabber.org/protocol/muc#user";
constexpr const char* kColibriNs = "http://jitsi.org/protocol/colibri";
constexpr const char* kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr const char* kPingNs = "urn:xmpp:ping";
constexpr unsigned long kRunOnceMs = 50;  // how often the loop looks at stop requests
constexpr int kMaxNicknameRetries = 20;

// RAII owners of libstrophe handles.
struct CtxDeleter {
  void operator()(xmpp_ctx_t* ctx) const { xmpp_ctx_free(ctx); }
};
struct ConnDeleter {
  void operator()(xmpp_conn_t* conn) const { xmpp_conn_release(conn); }
};
struct StanzaDeleter {
  void operator()(xmpp_stanza_t* stanza) const { xmpp_stanza_release(stanza); }
};
using CtxPtr = std::unique_ptr<xmpp_ctx_t, CtxDeleter>;
using ConnPtr = std::unique_ptr<xmpp_conn_t, ConnDeleter>;
using StanzaPtr = std::unique_ptr<xmpp_stanza_t, StanzaDeleter>;

void initialize_libstrophe_once() {
  static std::once_flag once;  // xmpp_initialize is process-wide and not re-entrant
  std::call_once(once, [] { xmpp_initialize(); });
}

std::string_view attribute(xmpp_stanza_t* stanza, const char* name) {
  const char* value = xmpp_stanza_get_attribute(stanza, name);
  return value ? std::string_view(value) : std::string_view();
}

bool has_status_code(xmpp_stanza_t* presence, std::string_view code) {
  xmpp_stanza_t* user = xmpp_stanza_get_child_by_ns(presence, kMucUserNs);
  if (user == nullptr) return false;
  for (xmpp_stanza_t* child = xmpp_stanza_get_children(user); child != nullptr;
       child = xmpp_stanza_get_next(child)) {
    const char* name = xmpp_stanza_get_name(child);
    if (name != nullptr && std::strcmp(name, "status") == 0 && attribute(child, "code") == code) {
      return true;
    }
  }
  return false;
}

// The defined condition of a stanza error (e.g. "conflict"), or "" when absent.
std::string error_condition(xmpp_stanza_t* stanza) {
  xmpp_stanza_t* error = xmpp_stanza_get_child_by_name(stanza, "error");
  if (error == nullptr) return {};
  for (xmpp_stanza_t* child = xmpp_stanza_get_children(error); child != nullptr;
       child = xmpp_stanza_get_next(child)) {
    const char* ns = xmpp_stanza_get_ns(child);
    const char* name = xmpp_stanza_get_name(child);
    if (name != nullptr && ns != nullptr && std::strcmp(ns, kStanzasNs) == 0 &&
        std::strcmp(name, "text") != 0) {
      return name;
    }
  }
  return "undefined-condition";
}

std::optional<BridgeStats> stats_of(xmpp_stanza_t* presence) {
  xmpp_stanza_t* stats = xmpp_stanza_get_child_by_ns(presence, kColibriNs);
  if (stats == nullptr) return std::nullopt;
  const char* name = xmpp_stanza_get_name(stats);
  if (name == nullptr || std::strcmp(name, "stats") != 0) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> name_values;
  for (xmpp_stanza_t* stat = xmpp_stanza_get_children(stats); stat != nullptr;
       stat = xmpp_stanza_get_next(stat)) {
    const char* stat_tag = xmpp_stanza_get_name(stat);
    if (stat_tag == nullptr || std::strcmp(stat_tag, "stat") != 0) continue;
    const char* stat_name = xmpp_stanza_get_attribute(stat, "name");
    const char* stat_value = xmpp_stanza_get_attribute(stat, "value");
    if (stat_name != nullptr) name_values.emplace_back(stat_name, stat_value ? stat_value : "");
  }
  return parse_stats(name_values);
}

const char* stream_error_name(xmpp_error_type_t type) {
  switch (type) {
    case XMPP_SE_CONFLICT:
      return "conflict (another session replaced this one)";
    case XMPP_SE_NOT_AUTHORIZED:
      return "not-authorized";
    case XMPP_SE_SYSTEM_SHUTDOWN:
      return "system-shutdown (the server is stopping)";
    case XMPP_SE_POLICY_VIOLATION:
      return "policy-violation";
    case XMPP_SE_HOST_UNKNOWN:
      return "host-unknown (check xmpp.domain)";
    case XMPP_SE_CONN_TIMEOUT:
      return "connection-timeout";
    case XMPP_SE_RESOURCE_CONSTRAINT:
      return "resource-constraint";
    default:
      return "stream error";
  }
}

}  // namespace

class BreweryClient::Impl {
 public:
  Impl(ClientConfig config, Handler on_event)
      : config_(std::move(config)),
        on_event_(std::move(on_event)),
        brewery_(normalize_bare(config_.brewery)),
        nickname_(config_.nickname),
        random_(std::random_device{}()) {}

  ~Impl() { stop(); }

  void start() {
    std::lock_guard lock(lifecycle_mutex_);
    if (thread_.joinable()) return;
    stop_requested_ = false;
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    std::lock_guard lock(lifecycle_mutex_);
    stop_requested_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::string current_nickname() const {
    std::lock_guard lock(nickname_mutex_);
    return nickname_;
  }

 private:
  // --- thread body ----------------------------------------------------------------------

  void run() noexcept {
    try {
      initialize_libstrophe_once();
      log_ = xmpp_log_t{&Impl::on_log, this};
      CtxPtr ctx(xmpp_ctx_new(nullptr, &log_));
      if (!ctx) {
        emit_connection(Event::Type::kDisconnected, "could not create the XMPP context.");
        return;
      }
      ctx_ = ctx.get();
      if (config_.tls != TlsMode::kDisabled && !config_.verify_certificate) {
        spdlog::warn(
            "xmpp: TLS certificate verification is OFF for {}:{} (verify_certificate="
            "false); anyone on the path can impersonate the server",
            config_.host, config_.port);
      }
      int failures = 0;
      while (!stop_requested_) {
        const bool was_up = connect_once();
        if (stop_requested_) break;
        failures = was_up ? 0 : failures + 1;
        sleep_backoff(failures);
      }
      ctx_ = nullptr;
    } catch (const std::exception& e) {
      spdlog::error("xmpp: brewery client thread stopped: {}", e.what());
    } catch (...) {
      spdlog::error("xmpp: brewery client thread stopped on an unknown exception");
    }
  }

  // One connection attempt, run until it ends. Returns true when it got as far as login.
  bool connect_once() {
    ConnPtr conn(xmpp_conn_new(ctx_));
    if (!conn) throw std::runtime_error("xmpp_conn_new failed");
    conn_ = conn.get();
    attempt_ = Attempt{};
    long flags = 0;
    if (config_.tls == TlsMode::kDisabled) flags |= XMPP_CONN_FLAG_DISABLE_TLS;
    if (config_.tls == TlsMode::kRequired) flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
    if (!config_.verify_certificate) flags |= XMPP_CONN_FLAG_TRUST_TLS;
    xmpp_conn_set_flags(conn_, flags);
    if (config_.ca_file) xmpp_conn_set_cafile(conn_, config_.ca_file->c_str());
    const std::string jid = account_jid() + "/" + resource();
    xmpp_conn_set_jid(conn_, jid.c_str());
    xmpp_conn_set_pass(conn_, config_.password.c_str());
    xmpp_conn_set_sockopt_callback(conn_, xmpp_sockopt_cb_keepalive);  // TCP keepalive
    if (xmpp_connect_client(conn_, config_.host.c_str(), static_cast<unsigned short>(config_.port),
                            &Impl::on_connection, this) != XMPP_EOK) {
      attempt_.reason = "could not start connecting to " + endpoint() + ".";
      attempt_.finished = true;
    }
    bool stop_sent = false;
    Clock::time_point stop_deadline{};
    while (!attempt_.finished) {
      if (stop_requested_ && !stop_sent) {
        stop_sent = true;
        stop_deadline = Clock::now() + std::chrono::seconds(2);
        if (attempt_.logged_in && !attempt_.dead) send_leave();
        xmpp_disconnect(conn_);
      }
      if (stop_sent && Clock::now() > stop_deadline) break;  // bounded shutdown
      if (!stop_sent) check_liveness();
      if (attempt_.dead && Clock::now() > attempt_.dead_deadline) break;  // bounded teardown
      xmpp_run_once(ctx_, kRunOnceMs);
    }
    if (attempt_.disconnect_reported) {
      // Already reported when the ping went unanswered.
    } else if (!stop_requested_ || attempt_.logged_in) {
      const std::string reason =
          attempt_.reason.empty()
              ? (attempt_.logged_in ? "the connection to " + endpoint() + " was closed."
                                    : "could not connect to " + endpoint() + ".")
              : attempt_.reason;
      if (stop_requested_) {
        emit_connection(Event::Type::kDisconnected, "stopped.");
      } else {
        spdlog::warn("xmpp: disconnected from {}: {}", endpoint(), reason);
        emit_connection(Event::Type::kDisconnected, reason);
      }
    }
    bridges_.clear();  // we are blind now; bridges are reported again after rejoining
    conn_ = nullptr;
    return attempt_.logged_in;
  }

  void sleep_backoff(int failures) {
    const double base = std::max(0.01, config_.reconnect_initial_seconds);
    const double cap = std::max(base, config_.reconnect_max_seconds);
    const double exponential = std::min(cap, base * std::pow(2.0, std::min(failures, 30)));
    // Jitter in [exponential/2, exponential] spreads reconnects of many agents/bridges.
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const double seconds = failures == 0 ? base * jitter(random_) : exponential * jitter(random_);
    spdlog::info("xmpp: reconnecting to {} in {:.1f} s", endpoint(), seconds);
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (!stop_requested_ && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // --- liveness (XEP-0199) ---------------------------------------------------------------

  // A server that hangs (stopped process, black-holed network) keeps the TCP socket open: only
  // an answer proves the connection alive (DESIGN.md section 5, "Blind means hold"). Every
  // ping_interval_seconds we ping the server; no answer (result or error) within
  // ping_timeout_seconds ends the connection: kDisconnected at once, then reconnect.
  void check_liveness() {
    if (!attempt_.logged_in || attempt_.dead || config_.ping_interval_seconds <= 0 ||
        config_.ping_timeout_seconds <= 0) {
      return;
    }
    const auto now = Clock::now();
    if (attempt_.ping_id.empty()) {
      if (now < attempt_.next_ping) return;
      send_ping(now);
      return;
    }
    if (now - attempt_.ping_sent < seconds(config_.ping_timeout_seconds)) return;
    attempt_.dead = true;
    attempt_.dead_deadline = now + std::chrono::seconds(2);
    attempt_.reason = fmt::format(
        "no answer to XMPP ping within {:g} s from {}; the connection "
        "is considered dead.",
        config_.ping_timeout_seconds, endpoint());
    spdlog::warn("xmpp: {}", attempt_.reason);
    attempt_.disconnect_reported = true;
    bridges_.clear();  // blind from now on; bridges are reported again after rejoining
    emit_connection(Event::Type::kDisconnected, attempt_.reason);
    xmpp_disconnect(conn_);  // bounded by libstrophe's own disconnect timeout and ours
  }

  void send_ping(Clock::time_point now) {
    attempt_.ping_id = "jvb-autoscaler-ping-" + std::to_string(++ping_counter_);
    StanzaPtr iq(xmpp_iq_new(ctx_, "get", attempt_.ping_id.c_str()));
    xmpp_stanza_set_to(iq.get(), config_.domain.c_str());
    StanzaPtr ping(xmpp_stanza_new(ctx_));
    xmpp_stanza_set_name(ping.get(), "ping");
    xmpp_stanza_set_ns(ping.get(), kPingNs);
    xmpp_stanza_add_child(iq.get(), ping.get());
    xmpp_id_handler_add(conn_, &Impl::on_ping_answer, attempt_.ping_id.c_str(), this);
    xmpp_send(conn_, iq.get());
    attempt_.ping_sent = now;
  }

  // Any answer, a result or an error (a server without XEP-0199 answers
  // service-unavailable), proves the server is alive.
  static int on_ping_answer(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* userdata) noexcept {
    auto* self = static_cast<Impl*>(userdata);
    try {
      const std::string_view id = attribute(stanza, "id");
      if (!self->attempt_.ping_id.empty() && id == self->attempt_.ping_id) {
        self->attempt_.ping_id.clear();
        self->attempt_.next_ping = Clock::now() + seconds(self->config_.ping_interval_seconds);
      }
    } catch (...) {
    }
    return 0;  // one answer per id: remove the handler
  }

  static Clock::duration seconds(double value) {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(std::max(0.0, value)));
  }

  // --- stanzas we send ------------------------------------------------------------------

  void send_join() {
    StanzaPtr presence(xmpp_presence_new(ctx_));
    const std::string to = brewery_ + "/" + current_nickname();
    xmpp_stanza_set_to(presence.get(), to.c_str());
    StanzaPtr muc(xmpp_stanza_new(ctx_));
    xmpp_stanza_set_name(muc.get(), "x");
    xmpp_stanza_set_ns(muc.get(), kMucNs);
    StanzaPtr history(xmpp_stanza_new(ctx_));
    xmpp_stanza_set_name(history.get(), "history");
    xmpp_stanza_set_attribute(history.get(), "maxstanzas", "0");
    xmpp_stanza_add_child(muc.get(), history.get());
    xmpp_stanza_add_child(presence.get(), muc.get());
    // Deliberately no colibri <stats>: Jicofo must never take the agent for a bridge.
    xmpp_send(conn_, presence.get());
  }

  void send_leave() {
    StanzaPtr presence(xmpp_presence_new(ctx_));
    xmpp_stanza_set_type(presence.get(), "unavailable");
    const std::string to = brewery_ + "/" + current_nickname();
    xmpp_stanza_set_to(presence.get(), to.c_str());
    xmpp_send(conn_, presence.get());
  }

  // --- libstrophe callbacks -------------------------------------------------------------

  static void on_connection(xmpp_conn_t* /*conn*/, xmpp_conn_event_t status, int error,
                            xmpp_stream_error_t* stream_error, void* userdata) noexcept {
    auto* self = static_cast<Impl*>(userdata);
    try {
      self->handle_connection(status, error, stream_error);
    } catch (const std::exception& e) {
      spdlog::error("xmpp: connection handler failed: {}", e.what());
    } catch (...) {
      spdlog::error("xmpp: connection handler failed");
    }
  }

  void handle_connection(xmpp_conn_event_t status, int error, xmpp_stream_error_t* stream_error) {
    if (status == XMPP_CONN_CONNECT) {
      attempt_.logged_in = true;
      attempt_.next_ping = Clock::now() + seconds(config_.ping_interval_seconds);
      xmpp_handler_add(conn_, &Impl::on_presence, nullptr, "presence", nullptr, this);
      {
        std::lock_guard lock(nickname_mutex_);
        nickname_ = config_.nickname;
      }
      nickname_retries_ = 0;
      spdlog::info("xmpp: logged in to {} as {} ({}); joining brewery {} as {}", endpoint(),
                   account_jid(), xmpp_conn_is_secured(conn_) ? "TLS" : "no TLS", config_.brewery,
                   current_nickname());
      emit_connection(Event::Type::kConnected, "");
      send_join();
      return;
    }
    if (status == XMPP_CONN_DISCONNECT || status == XMPP_CONN_FAIL) {
      if (stream_error != nullptr && attempt_.reason.empty()) {
        attempt_.reason =
            "the server closed the stream: " + std::string(stream_error_name(stream_error->type)) +
            (stream_error->text ? std::string(" (") + stream_error->text + ")" : "") + ".";
      }
      if (error != 0 && attempt_.reason.empty()) {
        attempt_.reason = "connection to " + endpoint() + " failed: " + std::strerror(error) + ".";
      }
      attempt_.finished = true;
    }
  }

  static int on_presence(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* userdata) noexcept {
    auto* self = static_cast<Impl*>(userdata);
    try {
      self->handle_presence(stanza);
    } catch (const std::exception& e) {
      spdlog::error("xmpp: presence handler failed: {}", e.what());
    } catch (...) {
      spdlog::error("xmpp: presence handler failed");
    }
    return 1;  // keep the handler
  }

  void handle_presence(xmpp_stanza_t* stanza) {
    // Prosody sends the room's address prepared (lower-cased); the configuration may spell it
    // `JvbBrewery@...` as Jicofo's does: compare bare JIDs as XMPP does, nicknames exactly.
    const std::optional<Jid> from = parse_jid(attribute(stanza, "from"));
    if (!from || from->resource.empty() || from->bare() != brewery_) return;
    const std::string_view nick = from->resource;
    const std::string_view type = attribute(stanza, "type");
    const bool self_presence = nick == current_nickname() || has_status_code(stanza, "110");
    if (type == "error") {
      handle_join_error(stanza, nick);
      return;
    }
    if (type == "unavailable") {
      if (self_presence) {
        if (stop_requested_) return;  // the echo of our own leave during stop()
        spdlog::warn("xmpp: removed from brewery {} as {}; rejoining", config_.brewery, nick);
        send_join();
        return;
      }
      if (bridges_.erase(std::string(nick)) > 0) {
        spdlog::info("xmpp: bridge {} left the brewery", nick);
        emit(Event::Type::kLeft, std::string(nick), {}, "");
      }
      return;
    }
    if (self_presence) {
      if (!attempt_.joined) {
        attempt_.joined = true;
        spdlog::info("xmpp: joined brewery {} as {}", config_.brewery, nick);
      }
      return;
    }
    std::optional<BridgeStats> stats = stats_of(stanza);
    const std::string bridge(nick);
    const bool known = bridges_.count(bridge) > 0;
    if (!stats) {
      // Not a bridge (Jicofo, another agent, a watch client), or a bridge that stopped
      // publishing stats: then its stats are unknown.
      if (known) emit(Event::Type::kStats, bridge, BridgeStats{}, "");
      return;
    }
    if (!known) {
      bridges_.insert(bridge);
      spdlog::info("xmpp: bridge {} joined the brewery", bridge);
      emit(Event::Type::kJoined, bridge, *stats, "");
    } else {
      emit(Event::Type::kStats, bridge, *stats, "");
    }
  }

  void handle_join_error(xmpp_stanza_t* stanza, std::string_view nick) {
    const std::string condition = error_condition(stanza);
    if (condition == "conflict" && nick == current_nickname() &&
        nickname_retries_ < kMaxNicknameRetries) {
      ++nickname_retries_;
      std::string next = config_.nickname + "-" + std::to_string(nickname_retries_ + 1);
      spdlog::warn("xmpp: nickname {} is taken in brewery {} (409 conflict); retrying as {}", nick,
                   config_.brewery, next);
      {
        std::lock_guard lock(nickname_mutex_);
        nickname_ = std::move(next);
      }
      send_join();
      return;
    }
    const std::string message = "could not join brewery " + config_.brewery + " as " +
                                std::string(nick) + ": " + condition + ".";
    spdlog::error("xmpp: {}", message);
    emit(Event::Type::kError, "", {}, message);
  }

  // Everything libstrophe logs passes here. Raw traffic (SENT/RECV, which includes the SASL
  // exchange and so the password) is dropped unread; a few known messages become the
  // one-sentence reason of a failed attempt.
  static void on_log(void* userdata, xmpp_log_level_t level, const char* area,
                     const char* message) noexcept {
    try {
      if (message == nullptr || area == nullptr) return;
      if (std::strncmp(message, "SENT", 4) == 0 || std::strncmp(message, "RECV", 4) == 0) return;
      static_cast<Impl*>(userdata)->handle_log(level, area, message);
    } catch (...) {
      // Logging must never take the connection down.
    }
  }

  void handle_log(xmpp_log_level_t level, std::string_view area, std::string_view message) {
    if (level >= XMPP_LEVEL_WARN) {
      spdlog::debug("xmpp: libstrophe {}: {}", area, message);
    }
    if (!attempt_.reason.empty()) return;  // keep the first, most specific reason
    int os_error = 0;
    if (std::sscanf(std::string(message).c_str(), "connection failed, error %d", &os_error) == 1) {
      attempt_.reason = "connection to " + endpoint() + " failed: " + std::strerror(os_error) + ".";
    } else if (message.find("TLS is not supported, but set as mandatory") !=
               std::string_view::npos) {
      attempt_.reason = "TLS is required (xmpp.tls = required) but " + endpoint() +
                        " does not offer STARTTLS; enable TLS in Prosody or set xmpp.tls.";
    } else if (area == "auth" && level >= XMPP_LEVEL_ERROR) {
      attempt_.reason = "authentication failed for " + account_jid() +
                        " (wrong password or no such account on " + config_.domain + ").";
    } else if (area == "tls" && level >= XMPP_LEVEL_ERROR) {
      attempt_.reason =
          "TLS with " + endpoint() + " failed (" + std::string(message) +
          "); check the server certificate, xmpp.ca_file and xmpp.verify_certificate.";
    } else if (level >= XMPP_LEVEL_ERROR && message.find("ertificate") != std::string_view::npos) {
      attempt_.reason = "the TLS certificate of " + endpoint() +
                        " could not be verified; set xmpp.ca_file to its CA.";
    }
  }

  // --- helpers --------------------------------------------------------------------------

  void emit(Event::Type type, std::string bridge, BridgeStats stats, std::string message) {
    Event event{type, std::move(bridge), std::move(stats), std::move(message),
                std::chrono::system_clock::now()};
    try {
      if (on_event_) on_event_(event);
    } catch (const std::exception& e) {
      spdlog::error("xmpp: event handler threw on {} event: {}", to_string(type), e.what());
    } catch (...) {
      spdlog::error("xmpp: event handler threw on {} event", to_string(type));
    }
  }

  void emit_connection(Event::Type type, std::string message) {
    emit(type, "", {}, std::move(message));
  }

  std::string account_jid() const { return config_.username + "@" + config_.domain; }
  std::string endpoint() const { return config_.host + ":" + std::to_string(config_.port); }
  std::string resource() const {
    // Unique per process and client: several clients of one account may run side by side.
    return config_.nickname + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(reinterpret_cast<uintptr_t>(this) & 0xffff);
  }

  struct Attempt {
    bool logged_in = false;
    bool joined = false;
    bool finished = false;
    bool dead = false;                  // a ping went unanswered: tearing down
    bool disconnect_reported = false;   // kDisconnected already emitted for this attempt
    Clock::time_point dead_deadline{};  // when to stop waiting for a clean close
    Clock::time_point next_ping{};
    Clock::time_point ping_sent{};
    std::string ping_id;  // id of the ping awaiting an answer; empty when none
    std::string reason;
  };

  const ClientConfig config_;
  const Handler on_event_;
  const std::string brewery_;  // config_.brewery as XMPP compares it (normalize_bare)
  mutable std::mutex nickname_mutex_;
  std::string nickname_;
  std::mutex lifecycle_mutex_;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;

  // Owned by the XMPP thread only.
  xmpp_log_t log_{};
  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_conn_t* conn_ = nullptr;
  Attempt attempt_;
  std::set<std::string> bridges_;
  int nickname_retries_ = 0;
  uint64_t ping_counter_ = 0;
  std::mt19937 random_;
};

BreweryClient::BreweryClient(ClientConfig config, Handler on_event)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(on_event))) {}
BreweryClient::~BreweryClient() = default;
void BreweryClient::start() { impl_->start(); }
void BreweryClient::stop() { impl_->stop(); }
std::string BreweryClient::current_nickname() const { return impl_->current_nickname(); }

}  // namespace xmpp
