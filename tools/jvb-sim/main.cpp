// jvb-sim: a simulated Jitsi videobridge. It logs in to Prosody, joins the JVB brewery with a
// nickname, publishes colibri stats in its presence on a fixed tick, serves JVB's drain and
// shutdown endpoints over HTTP and leaves cleanly on SIGTERM. It behaves like JVB 2.3 by
// default (see load_model.h and docs/bridges.md for the upstream files it follows). Threads: main =
// XMPP (owns the libstrophe context); one Asio thread = HTTP server + signals. They share
// SharedState under a mutex.

#include <spdlog/spdlog.h>
#include <strophe.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "load_model.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 5222;
  std::string domain;
  std::string username = "jvb";
  std::string password;
  std::string password_file;
  std::string brewery;
  std::string nickname;
  std::string tls = "optional";
  double interval = 5;
  int64_t participants = 0;
  int64_t conferences = 0;
  double capacity = 100;
  std::string profile;
  std::vector<std::string> meetings;
  double drain_seconds = 60;
  bool instant_drain = false;
  bool stats_filter = false;
  bool shutdown_api = true;
  double graceful_shutdown_max_seconds = 24 * 3600;  // JVB's graceful-shutdown-max-duration
  double shutting_down_seconds = 60;                 // JVB's shutting-down-delay
  double restart_seconds = 2;
  int64_t relayed = 0;
  std::string http;
  std::string region;
  std::string version = "2.3-sim";
};

// What one stats presence says.
struct Snapshot {
  jvb_sim::Load load;
  jvb_sim::ShutdownState shutdown = jvb_sim::ShutdownState::kRunning;
  bool healthy = true;
};

// State shared by the XMPP thread and the HTTP/signal thread.
class SharedState {
 public:
  SharedState(jvb_sim::LoadModel model, jvb_sim::Shutdown shutdown)
      : model_(std::move(model)), shutdown_(std::move(shutdown)) {}
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  // Also advances the shutdown phases.
  Snapshot snapshot() {
    std::lock_guard lock(mutex_);
    const double t = now();
    Snapshot snapshot{model_.at(t), shutdown_.state(), healthy_};
    shutdown_.tick(t, snapshot.load.participants);
    snapshot.shutdown = shutdown_.state();
    return snapshot;
  }
  void set_load(int64_t participants, int64_t conferences) {
    std::lock_guard lock(mutex_);
    model_.set_load(now(), participants, conferences);
  }
  void add_meeting(const jvb_sim::Meeting& meeting) {
    std::lock_guard lock(mutex_);
    model_.add_meeting(now(), meeting);
  }
  void set_drain(bool enable) {
    std::lock_guard lock(mutex_);
    if (enable) {
      model_.start_drain(now());
    } else {
      model_.stop_drain(now());
    }
  }
  bool draining() const {
    std::lock_guard lock(mutex_);
    return model_.draining();
  }
  void request_shutdown(bool graceful) {
    std::lock_guard lock(mutex_);
    shutdown_.request(now(), graceful);
  }
  void set_healthy(bool healthy) {
    std::lock_guard lock(mutex_);
    healthy_ = healthy;
  }
  // A JVB restart: drain mode and conferences are lost (both live in memory only).
  void restart() {
    std::lock_guard lock(mutex_);
    model_.restart(now());
    shutdown_.reset();
    healthy_ = true;
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> restart_requested{false};
  std::atomic<bool> connected{false};
  std::atomic<int64_t> published{0};

 private:
  const Clock::time_point start_ = Clock::now();
  mutable std::mutex mutex_;
  jvb_sim::LoadModel model_;
  jvb_sim::Shutdown shutdown_;
  bool healthy_ = true;
};

// --- HTTP ---------------------------------------------------------------------------------

http::response<http::string_body> handle_request(const http::request<http::string_body>& request,
                                                 SharedState& state, const Options& options) {
  const std::string& nickname = options.nickname;
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  auto reply = [&](http::status status, const nlohmann::json& body) {
    response.result(status);
    response.body() = body.dump() + "\n";
  };
  auto parse_body = [&]() { return nlohmann::json::parse(request.body()); };
  const std::string target(request.target());
  const auto method = request.method();
  // JVB answers 200 with an empty body to drain and shutdown requests (Drain.java,
  // Shutdown.java); GET /colibri/drain gives {"drain": bool}.
  if (method == http::verb::post && target == "/colibri/drain/enable") {
    state.set_drain(true);
    spdlog::info("jvb-sim {}: drain enabled over HTTP", nickname);
    response.body().clear();
  } else if (method == http::verb::post && target == "/colibri/drain/disable") {
    state.set_drain(false);
    spdlog::info("jvb-sim {}: drain disabled over HTTP", nickname);
    response.body().clear();
  } else if (method == http::verb::get && target == "/colibri/drain") {
    reply(http::status::ok, {{"drain", state.draining()}});
  } else if (method == http::verb::post && target == "/colibri/shutdown" && options.shutdown_api) {
    // Shutdown.java: the JSON property "graceful-shutdown" is required.
    try {
      const auto body = parse_body();
      if (!body.is_object() || !body.contains("graceful-shutdown") ||
          !body["graceful-shutdown"].is_boolean()) {
        throw std::invalid_argument("no graceful-shutdown");
      }
      const bool graceful = body["graceful-shutdown"].get<bool>();
      state.request_shutdown(graceful);
      spdlog::info("jvb-sim {}: shutdown requested over HTTP (graceful={})", nickname, graceful);
      response.body().clear();
    } catch (const std::exception&) {
      reply(http::status::bad_request,
            {{"error", "body must be {\"graceful-shutdown\": true|false}"}});
    }
  } else if (method == http::verb::get && target == "/about/health") {
    // JVB's health endpoint: 200 when healthy, 500 otherwise.
    const bool healthy = state.snapshot().healthy;
    response.body().clear();
    response.result(healthy ? http::status::ok : http::status::internal_server_error);
  } else if (method == http::verb::post && target == "/sim/load") {
    try {
      const auto body = parse_body();
      const int64_t participants = body.at("participants").get<int64_t>();
      const int64_t conferences = body.value("conferences", (participants + 4) / 5);
      if (participants < 0 || conferences < 0) throw std::invalid_argument("negative");
      state.set_load(participants, conferences);
      reply(http::status::ok, {{"ok", true}});
    } catch (const std::exception&) {
      reply(http::status::bad_request,
            {{"error", "body must be {\"participants\":N,\"conferences\":M} with N, M >= 0"}});
    }
  } else if (method == http::verb::post && target == "/sim/meeting") {
    try {
      const auto body = parse_body();
      jvb_sim::Meeting meeting;
      meeting.participants = body.at("participants").get<int64_t>();
      meeting.seconds = body.at("seconds").get<double>();
      meeting.grow_every_seconds = body.value("grow_every_seconds", 0.0);
      if (meeting.participants < 0 || !(meeting.seconds >= 0) ||
          !(meeting.grow_every_seconds >= 0)) {
        throw std::invalid_argument("negative");
      }
      state.add_meeting(meeting);
      reply(http::status::ok, {{"ok", true}});
    } catch (const std::exception&) {
      reply(http::status::bad_request,
            {{"error",
              "body must be {\"participants\":N,\"seconds\":S[,\"grow_every_seconds\":G]}"}});
    }
  } else if (method == http::verb::post && target == "/sim/health") {
    try {
      const bool healthy = parse_body().at("healthy").get<bool>();
      state.set_healthy(healthy);
      spdlog::info("jvb-sim {}: healthy={} (set over HTTP)", nickname, healthy);
      reply(http::status::ok, {{"healthy", healthy}});
    } catch (const std::exception&) {
      reply(http::status::bad_request, {{"error", "body must be {\"healthy\": true|false}"}});
    }
  } else if (method == http::verb::post && target == "/sim/restart") {
    state.restart_requested = true;
    spdlog::info("jvb-sim {}: restart requested over HTTP", nickname);
    reply(http::status::ok, {{"restarting", true}});
  } else if (method == http::verb::get && target == "/sim/state") {
    const Snapshot snapshot = state.snapshot();
    reply(http::status::ok, {{"nickname", nickname},
                             {"participants", snapshot.load.participants},
                             {"conferences", snapshot.load.conferences},
                             {"stress_level", snapshot.load.stress},
                             {"drain", snapshot.load.drain},
                             {"healthy", snapshot.healthy},
                             {"shutdown", std::string(jvb_sim::to_string(snapshot.shutdown))},
                             {"connected", state.connected.load()},
                             {"published", state.published.load()}});
  } else {
    reply(http::status::not_found, {{"error", "no such endpoint: " + target}});
  }
  response.prepare_payload();
  return response;
}

void serve_session(std::shared_ptr<beast::tcp_stream> stream, SharedState& state,
                   const Options& options) {
  auto buffer = std::make_shared<beast::flat_buffer>();
  auto request = std::make_shared<http::request<http::string_body>>();
  stream->expires_after(std::chrono::seconds(10));
  http::async_read(*stream, *buffer, *request,
                   [stream, buffer, request, &state, &options](beast::error_code error, size_t) {
                     if (error) return;
                     auto response = std::make_shared<http::response<http::string_body>>(
                         handle_request(*request, state, options));
                     response->keep_alive(false);
                     http::async_write(
                         *stream, *response, [stream, response](beast::error_code, size_t) {
                           beast::error_code ignored;
                           stream->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                         });
                   });
}

void accept_loop(asio::ip::tcp::acceptor& acceptor, SharedState& state, const Options& options) {
  acceptor.async_accept([&](beast::error_code error, asio::ip::tcp::socket socket) {
    if (error) return;  // acceptor closed
    serve_session(std::make_shared<beast::tcp_stream>(std::move(socket)), state, options);
    accept_loop(acceptor, state, options);
  });
}

// --- XMPP ---------------------------------------------------------------------------------

struct StanzaDeleter {
  void operator()(xmpp_stanza_t* stanza) const { xmpp_stanza_release(stanza); }
};
using StanzaPtr = std::unique_ptr<xmpp_stanza_t, StanzaDeleter>;

StanzaPtr make_child(xmpp_ctx_t* ctx, const char* name, const char* ns = nullptr) {
  StanzaPtr child(xmpp_stanza_new(ctx));
  xmpp_stanza_set_name(child.get(), name);
  if (ns) xmpp_stanza_set_ns(child.get(), ns);
  return child;
}

class Bridge {
 public:
  Bridge(const Options& options, SharedState& state) : options_(options), state_(state) {}

  // Runs until SIGTERM or the end of a shutdown; returns the exit code.
  int run() {
    xmpp_initialize();
    log_ = xmpp_log_t{&Bridge::on_log, this};
    ctx_ = xmpp_ctx_new(nullptr, &log_);
    double backoff = 0.5;
    while (!state_.stop && !gone_) {
      connect_and_serve();
      if (fatal_ || gone_ || state_.stop) break;
      if (restarting_) {
        // A JVB restart: out of the brewery for --restart-seconds, back with drain = false.
        restarting_ = false;
        state_.restart();
        wait_for(options_.restart_seconds);
        spdlog::info("jvb-sim {}: restarted (drain mode and conferences lost)", options_.nickname);
        continue;
      }
      spdlog::warn("jvb-sim {}: disconnected ({}); reconnecting in {:.1f} s", options_.nickname,
                   reason_.empty() ? "connection closed" : reason_, backoff);
      wait_for(backoff);
      backoff = std::min(backoff * 2, 5.0);
      if (joined_once_) backoff = 0.5;
    }
    xmpp_ctx_free(ctx_);
    return fatal_ ? 1 : 0;
  }

 private:
  void wait_for(double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (!state_.stop && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  void connect_and_serve() {
    conn_ = xmpp_conn_new(ctx_);
    finished_ = false;
    logged_in_ = false;
    reason_.clear();
    long flags = 0;
    if (options_.tls == "disabled") flags |= XMPP_CONN_FLAG_DISABLE_TLS;
    if (options_.tls == "required") flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
    flags |= XMPP_CONN_FLAG_TRUST_TLS;  // a simulator on loopback: self-signed is fine
    xmpp_conn_set_flags(conn_, flags);
    const std::string jid = options_.username + "@" + options_.domain + "/" + options_.nickname;
    xmpp_conn_set_jid(conn_, jid.c_str());
    xmpp_conn_set_pass(conn_, options_.password.c_str());
    if (xmpp_connect_client(conn_, options_.host.c_str(),
                            static_cast<unsigned short>(options_.port), &Bridge::on_connection,
                            this) != XMPP_EOK) {
      finished_ = true;
    }
    Clock::time_point stop_deadline{};
    bool leaving = false;
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.interval));
    while (!finished_) {
      xmpp_run_once(ctx_, 50);
      if (!leaving) {
        const char* why = nullptr;
        if (state_.stop) why = "stop";
        if (state_.restart_requested.exchange(false)) {
          restarting_ = true;
          why = "restart";
        }
        if (logged_in_ && why == nullptr) {
          // Stats on a fixed tick, like JVB's MucPublisher (presence-interval = the stats
          // interval, 5 s by default): a presence can be up to one tick stale.
          const auto now = Clock::now();
          if (now >= next_publish_) {
            next_publish_ = std::max(next_publish_ + interval, now);
            const Snapshot snapshot = state_.snapshot();
            if (snapshot.shutdown == jvb_sim::ShutdownState::kGone) {
              spdlog::info("jvb-sim {}: shutdown complete, leaving the brewery", options_.nickname);
              gone_ = true;
              why = "shutdown";
            } else {
              send_presence(false, snapshot);
            }
          }
        }
        if (why != nullptr) {
          if (state_.stop) {
            // What the tests' "0 participants on every deleted instance" check reads
            // (tests/e2e/cluster_fixture.h): the load at the moment the instance stopped us.
            const Snapshot snapshot = state_.snapshot();
            spdlog::info("jvb-sim {}: stopped by signal with {} participants in {} conferences",
                         options_.nickname, snapshot.load.participants, snapshot.load.conferences);
          }
          leaving = true;
          stop_deadline = Clock::now() + std::chrono::seconds(2);
          if (logged_in_) send_presence(/*unavailable=*/true, {});
          xmpp_disconnect(conn_);
        }
      } else if (Clock::now() > stop_deadline) {
        break;
      }
    }
    state_.connected = false;
    xmpp_conn_release(conn_);
    conn_ = nullptr;
  }

  void send_presence(bool unavailable, const Snapshot& snapshot) {
    StanzaPtr presence(xmpp_presence_new(ctx_));
    const std::string to = options_.brewery + "/" + options_.nickname;
    xmpp_stanza_set_to(presence.get(), to.c_str());
    if (unavailable) {
      xmpp_stanza_set_type(presence.get(), "unavailable");
      xmpp_send(conn_, presence.get());
      return;
    }
    StanzaPtr muc = make_child(ctx_, "x", "http://jabber.org/protocol/muc");
    xmpp_stanza_add_child(presence.get(), muc.get());
    StanzaPtr stats = make_child(ctx_, "stats", "http://jitsi.org/protocol/colibri");
    // videobridge.apis.xmpp-client.stats-filter.whitelist in jitsi-videobridge's reference.conf.
    static const std::set<std::string, std::less<>> kFilterWhitelist = {
        "average_participant_stress",
        "colibri2",
        "current_timestamp",
        "drain",
        "graceful_shutdown",
        "healthy",
        "region",
        "relay_id",
        "release",
        "shutting_down",
        "stress_level",
        "version"};
    auto add = [&](const char* name, const std::string& value) {
      if (options_.stats_filter && kFilterWhitelist.count(name) == 0) return;
      StanzaPtr stat = make_child(ctx_, "stat");
      xmpp_stanza_set_attribute(stat.get(), "name", name);
      xmpp_stanza_set_attribute(stat.get(), "value", value.c_str());
      xmpp_stanza_add_child(stats.get(), stat.get());
    };
    auto boolean = [](bool value) { return std::string(value ? "true" : "false"); };
    // Names and Java formats as JVB's VideobridgeStatisticsShim.kt puts them: Doubles as
    // Double.toString ("0.0", "1.0E-4"), Longs as integers. `participants` and `endpoints`
    // count relayed endpoints too; `local_endpoints` only this bridge's own.
    const jvb_sim::Load& load = snapshot.load;
    const int64_t relayed = std::min(options_.relayed, load.participants);
    add("stress_level", jvb_sim::java_double(load.stress));
    add("average_participant_stress", jvb_sim::java_double(0.01));
    add("conferences", std::to_string(load.conferences));
    add("participants", std::to_string(load.participants));
    add("endpoints", std::to_string(load.participants));
    add("local_endpoints", std::to_string(load.participants - relayed));
    add("octo_endpoints", std::to_string(relayed));
    add("octo_conferences", std::to_string(relayed > 0 ? 1 : 0));
    add("largest_conference",
        std::to_string(load.conferences > 0
                           ? (load.participants + load.conferences - 1) / load.conferences
                           : 0));
    add("drain", boolean(load.drain));
    add("graceful_shutdown",
        boolean(snapshot.shutdown == jvb_sim::ShutdownState::kGracefulShutdown));
    add("shutting_down", boolean(snapshot.shutdown == jvb_sim::ShutdownState::kShuttingDown));
    add("healthy", boolean(snapshot.healthy));
    add("current_timestamp", java_timestamp());
    add("version", options_.version);
    if (!options_.region.empty()) add("region", options_.region);
    xmpp_stanza_add_child(presence.get(), stats.get());
    xmpp_send(conn_, presence.get());
    ++state_.published;
  }

  // JVB's "current_timestamp": yyyy-MM-dd HH:mm:ss.SSS in UTC.
  static std::string java_timestamp() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
    return fmt::format("{}.{:03d}", text, millis);
  }

  static void on_connection(xmpp_conn_t*, xmpp_conn_event_t status, int, xmpp_stream_error_t*,
                            void* userdata) noexcept {
    auto* self = static_cast<Bridge*>(userdata);
    try {
      if (status == XMPP_CONN_CONNECT) {
        self->logged_in_ = true;
        self->joined_once_ = true;
        self->state_.connected = true;
        xmpp_handler_add(self->conn_, &Bridge::on_presence_error, nullptr, "presence", "error",
                         self);
        // The join presence carries the stats at once; then the fixed tick.
        self->next_publish_ = Clock::now();
        spdlog::info("jvb-sim {}: joined {}", self->options_.nickname, self->options_.brewery);
      } else {
        self->finished_ = true;
      }
    } catch (...) {
      self->finished_ = true;
    }
  }

  static int on_presence_error(xmpp_conn_t*, xmpp_stanza_t* stanza, void* userdata) noexcept {
    auto* self = static_cast<Bridge*>(userdata);
    try {
      const char* from = xmpp_stanza_get_from(stanza);
      spdlog::error(
          "jvb-sim {}: the brewery refused our presence (from {}); is the nickname taken?",
          self->options_.nickname, from ? from : "?");
      self->fatal_ = true;
      xmpp_disconnect(self->conn_);
    } catch (...) {
    }
    return 1;
  }

  static void on_log(void* userdata, xmpp_log_level_t level, const char* area,
                     const char* message) noexcept {
    auto* self = static_cast<Bridge*>(userdata);
    if (level < XMPP_LEVEL_ERROR || message == nullptr) return;  // never raw traffic (SASL)
    try {
      if (self->reason_.empty()) self->reason_ = std::string(area ? area : "") + ": " + message;
      if (std::strstr(message, "authenticate") != nullptr) {
        spdlog::error("jvb-sim {}: authentication failed for {}@{}", self->options_.nickname,
                      self->options_.username, self->options_.domain);
        self->fatal_ = true;  // retrying a wrong password only fills the server log
      }
    } catch (...) {
    }
  }

  const Options& options_;
  SharedState& state_;
  xmpp_log_t log_{};
  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_conn_t* conn_ = nullptr;
  bool finished_ = false;
  bool logged_in_ = false;
  bool joined_once_ = false;
  bool fatal_ = false;
  bool restarting_ = false;
  bool gone_ = false;  // the shutdown completed: leave and exit 0
  Clock::time_point next_publish_{};
  std::string reason_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "jvb-sim: a simulated Jitsi videobridge (JVB 2.3) for tests and the demo.\n"
      "It logs in to Prosody as USERNAME@DOMAIN, joins the brewery MUC as NICKNAME and publishes\n"
      "colibri stats every --stats-interval seconds (a fixed tick, like JVB): stress_level,\n"
      "average_participant_stress, participants, endpoints, local_endpoints, octo_endpoints,\n"
      "conferences, largest_conference, drain, graceful_shutdown, shutting_down, healthy,\n"
      "current_timestamp, version, region, in Java's number formats (0.0, 1.0E-4).\n"
      "--stats-filter publishes only JVB's stats-filter whitelist (no "
      "participants/conferences).\n\n"
      "Load: --participants/--conferences (stress = participants / --capacity), or --profile\n"
      "\"t0:p0,t1:p1,...\" (participants interpolated linearly over seconds since start,\n"
      "conferences = ceil(participants / 5)), or POST /sim/load from a load driver.\n"
      "--meeting P:S[:G] adds a meeting of P participants lasting S seconds (one more every G s).\n"
      "Drain, like JVB, only stops new conferences: the load stays what the driver sets.\n\n"
      "HTTP (--http 127.x.y.z:PORT, loopback only):\n"
      "  POST /colibri/drain/enable|disable  drain mode on/off (200, empty body)\n"
      "  GET  /colibri/drain                 {\"drain\": bool}\n"
      "  POST /colibri/shutdown              {\"graceful-shutdown\": true} (required, else 400):\n"
      "       graceful_shutdown until 0 participants or --graceful-shutdown-max-seconds, then\n"
      "       shutting_down for --shutting-down-seconds, then leave the brewery and exit 0;\n"
      "       false: shutting_down at once. Moves no participant itself.\n"
      "  GET  /about/health                  200 healthy, 500 unhealthy\n"
      "  POST /sim/load    {\"participants\":N,\"conferences\":M}\n"
      "  POST /sim/meeting {\"participants\":N,\"seconds\":S,\"grow_every_seconds\":G}\n"
      "                    a meeting on top of the load, lasting S s whatever drain says\n"
      "  POST /sim/health  {\"healthy\":false}  publish healthy=false (true to recover)\n"
      "  POST /sim/restart  leave the brewery, lose drain mode and conferences, rejoin after\n"
      "                     --restart-seconds (a JVB restart)\n"
      "  GET  /sim/state    current state as JSON\n"
      "SIGTERM/SIGINT: leave the room (unavailable presence) and exit 0.\n\n"
      "Example: jvb-sim --domain auth.meet.test --brewery jvbbrewery@internal.auth.meet.test \\\n"
      "           --nickname jvb-as-1 --password-file jvb.pass --participants 30 --http "
      "127.1.0.1:8080"};
  app.add_option("--host", options.host, "Prosody address")->capture_default_str();
  app.add_option("--port", options.port, "Prosody c2s port")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--domain", options.domain, "XMPP domain of the account, e.g. auth.meet.test")
      ->required();
  app.add_option("--username", options.username, "account local part")->capture_default_str();
  auto* password =
      app.add_option("--password", options.password, "account password (prefer --password-file)");
  app.add_option("--password-file", options.password_file, "file holding the password")
      ->excludes(password)
      ->check(CLI::ExistingFile);
  app.add_option("--brewery", options.brewery, "room JID, e.g. jvbbrewery@internal.auth.meet.test")
      ->required();
  app.add_option("--nickname", options.nickname, "occupant nickname (= the bridge's name)")
      ->required();
  app.add_option("--tls", options.tls, "required | optional | disabled")
      ->capture_default_str()
      ->check(CLI::IsMember({"required", "optional", "disabled"}));
  app.add_option("--stats-interval,--interval", options.interval,
                 "seconds between stats presences (JVB: videobridge.stats.interval = 5 s)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  auto* participants = app.add_option("--participants", options.participants, "participants now")
                           ->check(CLI::NonNegativeNumber);
  app.add_option("--conferences", options.conferences, "conferences now")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--relayed", options.relayed,
                 "how many of the participants are relayed from other bridges (octo_endpoints)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--capacity", options.capacity, "participants at stress 1.0")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--profile", options.profile, "load profile \"t0:p0,t1:p1,...\"")
      ->excludes(participants);
  app.add_option("--meeting", options.meetings,
                 "a meeting \"participants:seconds[:grow_every_seconds]\" from the start, on top "
                 "of the load above; it lasts its whole length, drained or not (repeatable)");
  app.add_flag("--instant-drain", options.instant_drain,
               "UNREALISTIC, for old tests only: a drain makes participants fall to 0 over "
               "--drain-seconds and the load may then only fall");
  app.add_option("--drain-seconds", options.drain_seconds,
                 "with --instant-drain: time for participants to fall to 0")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--stats-filter", options.stats_filter,
               "publish only JVB's stats-filter whitelist (videobridge.apis.xmpp-client."
               "stats-filter): no participants, no conferences");
  app.add_option("--graceful-shutdown-max-seconds", options.graceful_shutdown_max_seconds,
                 "longest graceful_shutdown phase (JVB: graceful-shutdown-max-duration)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--shutting-down-seconds", options.shutting_down_seconds,
                 "shutting_down phase before leaving (JVB: shutting-down-delay)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("!--no-shutdown-api", options.shutdown_api,
               "answer 404 to /colibri/shutdown (JVB's default: rest.shutdown.enabled = false)");
  app.add_option("--restart-seconds", options.restart_seconds,
                 "time out of the brewery on POST /sim/restart")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--http", options.http, "serve HTTP on ADDR:PORT (127.0.0.0/8 only)");
  app.add_option("--region", options.region, "region stat (omitted when empty)");
  app.add_option("--version-stat", options.version, "version stat")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!options.password_file.empty()) {
    std::ifstream in(options.password_file);
    std::getline(in, options.password);
  }
  if (options.password.empty()) {
    std::cerr << "jvb-sim: give the account password with --password-file or --password.\n";
    return 2;
  }
  std::vector<jvb_sim::ProfilePoint> profile;
  try {
    if (!options.profile.empty()) profile = jvb_sim::parse_profile(options.profile);
  } catch (const std::invalid_argument& e) {
    std::cerr << "jvb-sim: " << e.what() << ".\n";
    return 2;
  }
  jvb_sim::LoadModel model(options.participants, options.conferences, options.capacity,
                           std::move(profile), options.drain_seconds, options.instant_drain);
  try {
    for (const std::string& meeting : options.meetings) {
      model.add_meeting(0, jvb_sim::parse_meeting(meeting));
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "jvb-sim: " << e.what() << ".\n";
    return 2;
  }
  SharedState state(std::move(model), jvb_sim::Shutdown(options.graceful_shutdown_max_seconds,
                                                        options.shutting_down_seconds));

  asio::io_context io;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) state.stop = true;
  });
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  if (!options.http.empty()) {
    const size_t colon = options.http.rfind(':');
    boost::system::error_code error;
    const auto address = asio::ip::make_address_v4(
        options.http.substr(0, colon == std::string::npos ? 0 : colon), error);
    int http_port = 0;
    try {
      http_port = colon == std::string::npos ? 0 : std::stoi(options.http.substr(colon + 1));
    } catch (const std::exception&) {
    }
    if (error || !address.is_loopback() || http_port <= 0 || http_port > 65535) {
      std::cerr << "jvb-sim: --http must be a loopback ADDR:PORT such as 127.1.0.5:8080, not '"
                << options.http << "'.\n";
      return 2;
    }
    try {
      acceptor = std::make_unique<asio::ip::tcp::acceptor>(
          io, asio::ip::tcp::endpoint(address, static_cast<unsigned short>(http_port)));
    } catch (const std::exception& e) {
      std::cerr << "jvb-sim: cannot listen on " << options.http << ": " << e.what() << ".\n";
      return 1;
    }
    accept_loop(*acceptor, state, options);
  }
  std::thread io_thread([&io] { io.run(); });

  Bridge bridge(options, state);
  const int code = bridge.run();
  spdlog::info("jvb-sim {}: left, exiting", options.nickname);

  asio::post(io, [&] {
    signals.cancel();
    if (acceptor) acceptor->close();
  });
  io.stop();
  io_thread.join();
  return code;
}
