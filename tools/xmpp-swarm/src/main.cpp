// xmpp-swarm: many simulated videobridges in one process, for brewery scale benchmarks.
//
// Each bridge is one plain-TCP XMPP c2s connection driven by an Asio coroutine on a single
// thread (no libstrophe context per bridge, so 200+ bridges cost a few MiB): SASL PLAIN, bind
// with resource <prefix><i>, join the brewery as <prefix><i>, then publish a presence with ~20
// colibri stats every --interval seconds (jittered) until --duration has passed. Loopback only.
//
// The `participants` stat carries the bridge's publish sequence number (1, 2, 3, ...), so a
// reader can tell how many of this bridge's presences it has absorbed.
//
// Output: "swarm: all joined ..." on stdout once every bridge has joined or failed, one status
// line per --status-interval on stderr, and a final JSON summary line on stdout.
// Exit code: 0 every bridge joined, 1 some failed, 2 usage error.
// <utility> first: Boost 1.74 awaitable.hpp uses std::exchange without including it.
#include <utility>
// clang-format off
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detail/base64.hpp>
// clang-format on
#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 5222;
  std::string domain;
  std::string username;
  std::string password_file;
  std::string brewery;
  std::string prefix = "swarm-";
  int count = 10;
  double interval_seconds = 5;
  double jitter = 0.2;  // each period is interval * (1 ± jitter)
  double duration_seconds = 60;
  double connect_rate = 50;           // new connections per second (avoids a login storm)
  double login_timeout_seconds = 30;  // connect + auth + bind + join
  double stress_min = 0.4;
  double stress_max = 0.6;
  double status_interval_seconds = 10;
};

struct Counters {
  int connected = 0;
  int joined = 0;
  int failed = 0;
  int64_t presences_sent = 0;
  int64_t presences_received = 0;
  int64_t bytes_received = 0;
  double all_joined_seconds = -1;
};

constexpr size_t kMaxBufferedBytes = 16 * 1024 * 1024;
// What the server says when it refuses a login step or the room join.
constexpr const char* kRefusals[] = {"<failure", "<stream:error", "type='error'", "type=\"error\""};

// Shared by every bridge; everything runs on the one io_context thread, so plain fields.
struct Swarm {
  Options options;
  std::string password;
  tcp::endpoint endpoint;
  asio::io_context io;
  Counters counters;
  Clock::time_point started = Clock::now();
  Clock::time_point deadline;
  bool stopping = false;
  std::mt19937 random{std::random_device{}()};
  std::string first_error;

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - started).count(); }
  double uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(random);
  }
  void note_finished_login() {
    if (counters.joined + counters.failed == options.count && counters.all_joined_seconds < 0) {
      counters.all_joined_seconds = elapsed();
      std::printf("swarm: all joined: %d of %d in %.1f s\n", counters.joined, options.count,
                  counters.all_joined_seconds);
      std::fflush(stdout);
    }
  }
};

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
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
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(std::string_view raw) {
  std::string out(boost::beast::detail::base64::encoded_size(raw.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), raw.data(), raw.size()));
  return out;
}

// One simulated bridge: its connection, login sequence, publisher and reader.
class Bridge : public std::enable_shared_from_this<Bridge> {
 public:
  Bridge(Swarm& swarm, int index)
      : swarm_(swarm),
        name_(swarm.options.prefix + std::to_string(index)),
        socket_(swarm.io),
        timer_(swarm.io) {}

  awaitable<void> run() {
    auto self = shared_from_this();
    try {
      co_await log_in_and_join();
    } catch (const std::exception& error) {
      ++swarm_.counters.failed;
      if (swarm_.first_error.empty()) swarm_.first_error = name_ + ": " + error.what();
      std::fprintf(stderr, "swarm: bridge %s failed to join: %s\n", name_.c_str(), error.what());
      swarm_.note_finished_login();
      close();
      co_return;
    }
    ++swarm_.counters.joined;
    swarm_.note_finished_login();
    asio::co_spawn(swarm_.io, self->read_forever(), asio::detached);
    try {
      co_await publish_until_deadline();
      co_await send("<presence type='unavailable'/></stream:stream>");
    } catch (const std::exception& error) {
      std::fprintf(stderr, "swarm: bridge %s lost its connection: %s\n", name_.c_str(),
                   error.what());
    }
    close();
  }

 private:
  std::string room_jid() const { return swarm_.options.brewery + "/" + name_; }

  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  awaitable<void> send(std::string text) {
    co_await asio::async_write(socket_, asio::buffer(text), use_awaitable);
  }

  // Reads until `token` (or `alternative`, when not empty) appears and drops the buffer up to
  // its end. Throws with the server's words on <failure>, <stream:error> or an error stanza.
  // (Two parameters, not an initializer list: GCC 12 cannot keep one in a coroutine frame.)
  awaitable<void> read_until_any(std::string_view token, std::string_view alternative = {}) {
    const std::vector<std::string_view> tokens =
        alternative.empty() ? std::vector<std::string_view>{token}
                            : std::vector<std::string_view>{token, alternative};
    // A vector, not std::array: GCC 12 cannot keep arrays in a coroutine frame.
    std::vector<char> chunk(16384);
    for (;;) {
      for (size_t i = 0; i < tokens.size(); ++i) {
        const size_t at = buffer_.find(tokens[i]);
        if (at != std::string::npos) {
          buffer_.erase(0, at + tokens[i].size());
          co_return;
        }
      }
      for (const char* bad : kRefusals) {
        const size_t at = buffer_.find(bad);
        if (at != std::string::npos) {
          throw std::runtime_error("server refused: " + buffer_.substr(at, 200));
        }
      }
      if (buffer_.size() > kMaxBufferedBytes) throw std::runtime_error("too much unread data");
      const size_t got = co_await socket_.async_read_some(asio::buffer(chunk), use_awaitable);
      swarm_.counters.bytes_received += static_cast<int64_t>(got);
      buffer_.append(chunk.data(), got);
    }
  }

  awaitable<void> open_stream() {
    co_await send("<?xml version='1.0'?><stream:stream to='" + xml_escape(swarm_.options.domain) +
                  "' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                  "version='1.0'>");
    co_await read_until_any("</stream:features>");
  }

  awaitable<void> log_in_and_join() {
    // The whole login is bounded: the timer closes the socket, failing the pending read.
    timer_.expires_after(std::chrono::milliseconds(
        static_cast<int64_t>(swarm_.options.login_timeout_seconds * 1000)));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (!error) self->close();
    });
    co_await socket_.async_connect(swarm_.endpoint, use_awaitable);
    ++swarm_.counters.connected;
    co_await open_stream();
    const std::string credentials =
        std::string(1, '\0') + swarm_.options.username + std::string(1, '\0') + swarm_.password;
    co_await send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                  base64(credentials) + "</auth>");
    co_await read_until_any("<success");
    buffer_.clear();
    co_await open_stream();
    co_await send(
        "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<resource>" +
        xml_escape(name_) + "</resource></bind></iq>");
    co_await read_until_any("</jid>");
    co_await send(presence(/*join=*/true));
    // Our own occupant presence carries status code 110; the roster before it may be long.
    co_await read_until_any("code='110'", "code=\"110\"");
    timer_.cancel();
    // The roster replayed at join can be MiBs at 200 bridges; hand it back.
    buffer_.clear();
    buffer_.shrink_to_fit();
  }

  std::string presence(bool join) {
    ++sequence_;
    const double stress = swarm_.uniform(swarm_.options.stress_min, swarm_.options.stress_max);
    std::string stats = "<stat name='stress_level' value='" + std::to_string(stress) + "'/>";
    stats += "<stat name='participants' value='" + std::to_string(sequence_) + "'/>";
    stats += "<stat name='conferences' value='" + std::to_string(1 + sequence_ % 7) + "'/>";
    stats +=
        "<stat name='drain' value='false'/><stat name='graceful_shutdown' value='false'/>"
        "<stat name='shutting_down' value='false'/><stat name='region' value='us-lax'/>"
        "<stat name='version' value='2.3.92-swarm'/><stat name='relay_id' value='" +
        xml_escape(name_) + "'/>";
    // Counters a real JVB also publishes (values vary so that nothing is cached).
    static constexpr std::array<std::string_view, 11> kExtras = {"bit_rate_download",
                                                                 "bit_rate_upload",
                                                                 "packet_rate_download",
                                                                 "packet_rate_upload",
                                                                 "endpoints_sending_audio",
                                                                 "endpoints_sending_video",
                                                                 "inactive_endpoints",
                                                                 "total_conferences_created",
                                                                 "threads",
                                                                 "used_memory",
                                                                 "octo_version"};
    for (size_t i = 0; i < kExtras.size(); ++i) {
      stats += "<stat name='" + std::string(kExtras[i]) + "' value='" +
               std::to_string((sequence_ * 37 + static_cast<int64_t>(i) * 101) % 100000) + "'/>";
    }
    std::string text = "<presence to='" + xml_escape(room_jid()) + "'>";
    if (join) text += "<x xmlns='http://jabber.org/protocol/muc'/>";
    text += "<stats xmlns='http://jitsi.org/protocol/colibri'>" + stats + "</stats></presence>";
    return text;
  }

  awaitable<void> publish_until_deadline() {
    const double interval = swarm_.options.interval_seconds;
    const double jitter = swarm_.options.jitter;
    // First update at a random phase so the swarm does not publish in lockstep.
    double wait = swarm_.uniform(0, interval);
    for (;;) {
      const auto next = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(wait * 1e6));
      if (next >= swarm_.deadline || swarm_.stopping) co_return;
      timer_.expires_at(next);
      boost::system::error_code error;
      co_await timer_.async_wait(asio::redirect_error(use_awaitable, error));
      if (swarm_.stopping || Clock::now() >= swarm_.deadline) co_return;
      co_await send(presence(/*join=*/false));
      ++swarm_.counters.presences_sent;
      wait = interval * swarm_.uniform(1 - jitter, 1 + jitter);
    }
  }

  // Discards what Prosody sends (the other bridges' presences) so its queue never fills,
  // counting presences. A tail of the previous chunk catches a tag split across reads.
  awaitable<void> read_forever() {
    auto self = shared_from_this();
    std::vector<char> chunk(16384);
    std::string window;
    try {
      for (;;) {
        const size_t got = co_await socket_.async_read_some(asio::buffer(chunk), use_awaitable);
        swarm_.counters.bytes_received += static_cast<int64_t>(got);
        window.append(chunk.data(), got);
        for (size_t at = window.find("<presence"); at != std::string::npos;
             at = window.find("<presence", at + 1)) {
          ++swarm_.counters.presences_received;
        }
        window.erase(0, window.size() > 8 ? window.size() - 8 : 0);
      }
    } catch (const std::exception&) {
      // Closed by us at the end, or by the server: either way this reader is done.
    }
  }

  Swarm& swarm_;
  std::string name_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string buffer_;
  int64_t sequence_ = 0;
};

awaitable<void> launch_all(Swarm& swarm) {
  asio::steady_timer pace(swarm.io);
  const auto gap = std::chrono::microseconds(
      static_cast<int64_t>(1e6 / std::max(swarm.options.connect_rate, 0.001)));
  for (int i = 1; i <= swarm.options.count && !swarm.stopping; ++i) {
    auto bridge = std::make_shared<Bridge>(swarm, i);
    asio::co_spawn(swarm.io, bridge->run(), asio::detached);
    pace.expires_after(gap);
    co_await pace.async_wait(use_awaitable);
  }
}

awaitable<void> report_status(Swarm& swarm) {
  asio::steady_timer timer(swarm.io);
  while (!swarm.stopping && Clock::now() < swarm.deadline) {
    timer.expires_after(std::chrono::milliseconds(
        static_cast<int64_t>(swarm.options.status_interval_seconds * 1000)));
    co_await timer.async_wait(use_awaitable);
    const Counters& c = swarm.counters;
    std::fprintf(
        stderr, "swarm: t=%.0fs connected %d joined %d failed %d sent %lld received %lld\n",
        swarm.elapsed(), c.connected, c.joined, c.failed, static_cast<long long>(c.presences_sent),
        static_cast<long long>(c.presences_received));
  }
}

int run(Options options) {
  Swarm swarm;
  swarm.options = std::move(options);
  boost::system::error_code error;
  const auto address = asio::ip::make_address(swarm.options.host, error);
  if (error || !address.is_loopback()) {
    std::fprintf(stderr, "xmpp-swarm: --host %s is not a loopback address (this is a test tool).\n",
                 swarm.options.host.c_str());
    return 2;
  }
  std::ifstream password_in(swarm.options.password_file);
  if (!password_in || !std::getline(password_in, swarm.password) || swarm.password.empty()) {
    std::fprintf(stderr, "xmpp-swarm: cannot read a password from --password-file %s.\n",
                 swarm.options.password_file.c_str());
    return 2;
  }
  swarm.endpoint = tcp::endpoint(address, static_cast<uint16_t>(swarm.options.port));
  swarm.started = Clock::now();
  swarm.deadline = swarm.started + std::chrono::milliseconds(
                                       static_cast<int64_t>(swarm.options.duration_seconds * 1000));

  asio::signal_set signals(swarm.io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code signal_error, int) {
    if (!signal_error) swarm.stopping = true;
  });
  asio::co_spawn(swarm.io, launch_all(swarm), asio::detached);
  asio::co_spawn(swarm.io, report_status(swarm), asio::detached);
  // Publishers leave at the deadline; one second later (or at once on a signal) we stop.
  asio::steady_timer poll(swarm.io);
  std::function<void()> check = [&] {
    poll.expires_after(std::chrono::milliseconds(200));
    poll.async_wait([&](boost::system::error_code poll_error) {
      if (poll_error) return;
      if (swarm.stopping || Clock::now() >= swarm.deadline + std::chrono::seconds(1)) {
        swarm.io.stop();
        return;
      }
      check();
    });
  };
  check();
  swarm.io.run();

  const Counters& c = swarm.counters;
  const double seconds = swarm.elapsed();
  nlohmann::json summary = {{"event", "summary"},
                            {"count", swarm.options.count},
                            {"connected", c.connected},
                            {"joined", c.joined},
                            {"failed", c.failed},
                            {"presences_sent", c.presences_sent},
                            {"presences_received", c.presences_received},
                            {"bytes_received", c.bytes_received},
                            {"all_joined_seconds", c.all_joined_seconds},
                            {"seconds", seconds}};
  if (!swarm.first_error.empty()) summary["first_error"] = swarm.first_error;
  std::printf("%s\n", summary.dump().c_str());
  return c.joined == swarm.options.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"xmpp-swarm: many lightweight simulated videobridges in one process (loopback)"};
  app.add_option("--host", options.host, "Prosody address (loopback only)");
  app.add_option("--port", options.port, "Prosody c2s port")->check(CLI::Range(1, 65535));
  app.add_option("--domain", options.domain, "XMPP domain of the account")->required();
  app.add_option("--username", options.username, "shared account (one resource per bridge)")
      ->required();
  app.add_option("--password-file", options.password_file, "file holding the password")->required();
  app.add_option("--brewery", options.brewery, "brewery room JID")->required();
  app.add_option("--prefix", options.prefix, "nickname prefix: bridges are <prefix><i>");
  app.add_option("--count", options.count, "number of bridges")->check(CLI::Range(1, 5000));
  app.add_option("--interval", options.interval_seconds, "seconds between presences")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--jitter", options.jitter, "relative jitter of the interval")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--duration", options.duration_seconds, "seconds to run in total")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--connect-rate", options.connect_rate, "new connections per second")
      ->check(CLI::Range(0.1, 10000.0));
  app.add_option("--login-timeout", options.login_timeout_seconds, "seconds per login")
      ->check(CLI::Range(1.0, 600.0));
  app.add_option("--stress-min", options.stress_min, "lowest stress_level published")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--stress-max", options.stress_max, "highest stress_level published")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--status-interval", options.status_interval_seconds,
                 "seconds between status lines on stderr")
      ->check(CLI::Range(0.1, 3600.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  if (options.stress_max < options.stress_min) {
    std::fprintf(stderr, "xmpp-swarm: --stress-max is below --stress-min.\n");
    return 2;
  }
  try {
    return run(std::move(options));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "xmpp-swarm: %s\n", error.what());
    return 1;
  }
}
