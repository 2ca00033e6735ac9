// jvb-sim: a simulated Jitsi videobridge. It logs in to Prosody, joins the JVB brewery with a
// nickname, publishes colibri stats in its presence, serves the drain endpoint over HTTP and
// leaves cleanly on SIGTERM. Threads: main = XMPP (owns the libstrophe context); one Asio
// thread = HTTP server + signals. They share SharedState under a mutex.

#include <spdlog/spdlog.h>
#include <strophe.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

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
  double drain_seconds = 60;
  std::string http;
  std::string region;
  std::string version = "2.3-sim";
};

// State shared by the XMPP thread and the HTTP/signal thread.
class SharedState {
 public:
  explicit SharedState(jvb_sim::LoadModel model) : model_(std::move(model)) {}
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  jvb_sim::Load load() const {
    std::lock_guard lock(mutex_);
    return model_.at(now());
  }
  void set_load(int64_t participants, int64_t conferences) {
    std::lock_guard lock(mutex_);
    model_.set_load(now(), participants, conferences);
  }
  void start_drain() {
    std::lock_guard lock(mutex_);
    model_.start_drain(now());
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> connected{false};
  std::atomic<int64_t> published{0};

 private:
  const Clock::time_point start_ = Clock::now();
  mutable std::mutex mutex_;
  jvb_sim::LoadModel model_;
};

// --- HTTP ---------------------------------------------------------------------------------

http::response<http::string_body> handle_request(const http::request<http::string_body>& request,
                                                 SharedState& state, const std::string& nickname) {
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  auto reply = [&](http::status status, const nlohmann::json& body) {
    response.result(status);
    response.body() = body.dump() + "\n";
  };
  const std::string target(request.target());
  if (request.method() == http::verb::post && target == "/colibri/drain/enable") {
    state.start_drain();
    spdlog::info("jvb-sim {}: drain enabled over HTTP", nickname);
    reply(http::status::ok, {{"drain", true}});
  } else if (request.method() == http::verb::post && target == "/sim/load") {
    try {
      const auto body = nlohmann::json::parse(request.body());
      const int64_t participants = body.at("participants").get<int64_t>();
      const int64_t conferences = body.value("conferences", (participants + 4) / 5);
      if (participants < 0 || conferences < 0) throw std::invalid_argument("negative");
      state.set_load(participants, conferences);
      reply(http::status::ok, {{"ok", true}});
    } catch (const std::exception&) {
      reply(http::status::bad_request,
            {{"error", "body must be {\"participants\":N,\"conferences\":M} with N, M >= 0"}});
    }
  } else if (request.method() == http::verb::get && target == "/sim/state") {
    const jvb_sim::Load load = state.load();
    reply(http::status::ok, {{"nickname", nickname},
                             {"participants", load.participants},
                             {"conferences", load.conferences},
                             {"stress_level", load.stress},
                             {"drain", load.drain},
                             {"connected", state.connected.load()},
                             {"published", state.published.load()}});
  } else {
    reply(http::status::not_found, {{"error", "no such endpoint: " + target}});
  }
  response.prepare_payload();
  return response;
}

void serve_session(std::shared_ptr<beast::tcp_stream> stream, SharedState& state,
                   const std::string& nickname) {
  auto buffer = std::make_shared<beast::flat_buffer>();
  auto request = std::make_shared<http::request<http::string_body>>();
  stream->expires_after(std::chrono::seconds(10));
  http::async_read(*stream, *buffer, *request,
                   [stream, buffer, request, &state, &nickname](beast::error_code error, size_t) {
                     if (error) return;
                     auto response = std::make_shared<http::response<http::string_body>>(
                         handle_request(*request, state, nickname));
                     response->keep_alive(false);
                     http::async_write(
                         *stream, *response, [stream, response](beast::error_code, size_t) {
                           beast::error_code ignored;
                           stream->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                         });
                   });
}

void accept_loop(asio::ip::tcp::acceptor& acceptor, SharedState& state,
                 const std::string& nickname) {
  acceptor.async_accept([&](beast::error_code error, asio::ip::tcp::socket socket) {
    if (error) return;  // acceptor closed
    serve_session(std::make_shared<beast::tcp_stream>(std::move(socket)), state, nickname);
    accept_loop(acceptor, state, nickname);
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

  // Runs until SIGTERM; returns the exit code.
  int run() {
    xmpp_initialize();
    log_ = xmpp_log_t{&Bridge::on_log, this};
    ctx_ = xmpp_ctx_new(nullptr, &log_);
    double backoff = 0.5;
    while (!state_.stop) {
      connect_and_serve();
      if (fatal_) break;
      if (state_.stop) break;
      spdlog::warn("jvb-sim {}: disconnected ({}); reconnecting in {:.1f} s", options_.nickname,
                   reason_.empty() ? "connection closed" : reason_, backoff);
      const auto until = Clock::now() + std::chrono::duration<double>(backoff);
      while (!state_.stop && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      backoff = std::min(backoff * 2, 5.0);
      if (joined_once_) backoff = 0.5;
    }
    xmpp_ctx_free(ctx_);
    return fatal_ ? 1 : 0;
  }

 private:
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
    Clock::time_point last_publish{};
    Clock::time_point stop_deadline{};
    bool leaving = false;
    while (!finished_) {
      xmpp_run_once(ctx_, 50);
      if (state_.stop && !leaving) {
        leaving = true;
        stop_deadline = Clock::now() + std::chrono::seconds(2);
        if (logged_in_) send_presence(/*unavailable=*/true);
        xmpp_disconnect(conn_);
      }
      if (leaving) {
        if (Clock::now() > stop_deadline) break;
        continue;
      }
      if (!logged_in_) continue;
      const jvb_sim::Load load = state_.load();
      const auto now = Clock::now();
      const bool changed = !(load == last_load_);
      const bool due = now - last_publish >= std::chrono::duration<double>(options_.interval);
      // "Immediately on change", but at most 4 presences/s while a profile ramps.
      if (due || (changed && now - last_publish >= std::chrono::milliseconds(250))) {
        last_load_ = load;
        last_publish = now;
        send_presence(false);
      }
    }
    state_.connected = false;
    xmpp_conn_release(conn_);
    conn_ = nullptr;
  }

  void send_presence(bool unavailable) {
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
    auto add = [&](const char* name, const std::string& value) {
      StanzaPtr stat = make_child(ctx_, "stat");
      xmpp_stanza_set_attribute(stat.get(), "name", name);
      xmpp_stanza_set_attribute(stat.get(), "value", value.c_str());
      xmpp_stanza_add_child(stats.get(), stat.get());
    };
    add("stress_level", fmt::format("{:.4f}", last_load_.stress));
    add("participants", std::to_string(last_load_.participants));
    add("conferences", std::to_string(last_load_.conferences));
    add("drain", last_load_.drain ? "true" : "false");
    add("graceful_shutdown", "false");
    add("version", options_.version);
    if (!options_.region.empty()) add("region", options_.region);
    xmpp_stanza_add_child(presence.get(), stats.get());
    xmpp_send(conn_, presence.get());
    ++state_.published;
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
        self->last_load_ = self->state_.load();
        self->send_presence(false);
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
  std::string reason_;
  jvb_sim::Load last_load_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "jvb-sim: a simulated Jitsi videobridge for tests and the demo.\n"
      "It logs in to Prosody as USERNAME@DOMAIN, joins the brewery MUC as NICKNAME and publishes\n"
      "colibri stats (stress_level, participants, conferences, drain, graceful_shutdown, region,\n"
      "version) every --interval seconds and at once when they change.\n\n"
      "Load: --participants/--conferences (stress = participants / --capacity), or --profile\n"
      "\"t0:p0,t1:p1,...\" (participants interpolated linearly over seconds since start,\n"
      "conferences = ceil(participants / 5)).\n\n"
      "HTTP (--http 127.x.y.z:PORT, loopback only):\n"
      "  POST /colibri/drain/enable   publish drain=true; participants fall to 0 over "
      "--drain-seconds\n"
      "  POST /sim/load               {\"participants\":N,\"conferences\":M} (only falls while "
      "draining)\n"
      "  GET  /sim/state              current load as JSON\n"
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
  app.add_option("--interval", options.interval, "seconds between stats presences")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  auto* participants = app.add_option("--participants", options.participants, "participants now")
                           ->check(CLI::NonNegativeNumber);
  app.add_option("--conferences", options.conferences, "conferences now")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--capacity", options.capacity, "participants at stress 1.0")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--profile", options.profile, "load profile \"t0:p0,t1:p1,...\"")
      ->excludes(participants);
  app.add_option("--drain-seconds", options.drain_seconds,
                 "time for participants to fall to 0 when drained")
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
  SharedState state(jvb_sim::LoadModel(options.participants, options.conferences, options.capacity,
                                       std::move(profile), options.drain_seconds));

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
    accept_loop(*acceptor, state, options.nickname);
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
