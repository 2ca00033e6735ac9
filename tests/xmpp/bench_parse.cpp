// Benchmarks for the closing note of the brewery-client issue:
//  1. ns per presence with 20 stats: parse_presence (XML text -> BridgeStats) and parse_stats
//     (already extracted name/value pairs -> BridgeStats, what the client does per stanza);
//  2. presences/s one BreweryClient thread absorbs from a loopback Prosody (skipped without
//     prosody): publishers flood the brewery with stats presences as fast as Prosody takes them.
// Usage: bench_parse [iterations] [presences-per-publisher]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "test_support/prosody_fixture.h"
#include "test_support/raw_xmpp_client.h"
#include "xmpp/brewery_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string stats_children(int i) {
  std::string s = "<stat name='stress_level' value='0." + std::to_string(i % 100) + "'/>" +
                  "<stat name='participants' value='" + std::to_string(i % 500) + "'/>" +
                  "<stat name='conferences' value='" + std::to_string(i % 50) + "'/>" +
                  "<stat name='drain' value='false'/><stat name='graceful_shutdown' value='false'/>"
                  "<stat name='region' value='us-lax'/><stat name='version' value='2.3.92'/>";
  for (int k = 0; k < 13; ++k) {
    s += "<stat name='extra_" + std::to_string(k) + "' value='" + std::to_string(i * k) + "'/>";
  }
  return s;  // 20 stats
}

void bench_parser(int iterations) {
  const std::string presence =
      "<presence xmlns='jabber:client' from='jvbbrewery@internal.auth.meet.test/jvb-1' "
      "to='a@auth.meet.test/r'><x xmlns='http://jabber.org/protocol/muc#user'><item "
      "role='participant' affiliation='none'/></x><stats "
      "xmlns='http://jitsi.org/protocol/colibri'>" +
      stats_children(7) + "</stats></presence>";
  int64_t sink = 0;
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i)
    sink += xmpp::parse_presence(presence)->participants.value_or(0);
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / iterations;
  std::printf("parse_presence (XML text, 20 stats, %zu bytes): %.0f ns/presence\n", presence.size(),
              ns);

  std::vector<std::pair<std::string, std::string>> pairs = {
      {"stress_level", "0.07"}, {"participants", "7"},          {"conferences", "7"},
      {"drain", "false"},       {"graceful_shutdown", "false"}, {"region", "us-lax"},
      {"version", "2.3.92"}};
  for (int k = 0; k < 13; ++k) pairs.emplace_back("extra_" + std::to_string(k), std::to_string(k));
  start = Clock::now();
  for (int i = 0; i < iterations; ++i) sink += xmpp::parse_stats(pairs).participants.value_or(0);
  ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / iterations;
  std::printf("parse_stats (20 name/value pairs): %.0f ns/presence\n", ns);
  std::printf("(checksum %lld)\n", static_cast<long long>(sink));
}

void bench_client(int per_publisher) {
  const std::string missing = test_support::ProsodyFixture::unavailable_reason();
  if (!missing.empty()) {
    std::printf("client throughput: skipped: %s\n", missing.c_str());
    return;
  }
  constexpr int kPublishers = 2;
  test_support::ProsodyOptions options;
  options.accounts = {{"agent", "pw"}, {"jvb", "pw"}};
  options.log_level = "error";
  test_support::ProsodyFixture prosody(options);
  prosody.start();

  std::atomic<int64_t> stats_events{0};
  xmpp::ClientConfig config;
  config.port = prosody.port();
  config.domain = prosody.auth_domain();
  config.username = "agent";
  config.password = "pw";
  config.brewery = prosody.room_jid();
  config.nickname = "bench-agent";
  config.tls = xmpp::TlsMode::kDisabled;
  xmpp::BreweryClient client(config, [&](const xmpp::Event& e) {
    if (e.type == xmpp::Event::Type::kStats || e.type == xmpp::Event::Type::kJoined) ++stats_events;
  });
  client.start();

  std::vector<std::unique_ptr<test_support::RawXmppClient>> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.push_back(std::make_unique<test_support::RawXmppClient>(
        prosody.host(), prosody.port(), "jvb@" + prosody.auth_domain(), "pw"));
    if (!publishers.back()->wait_connected(10s)) {
      std::printf("client throughput: a publisher could not log in\n");
      return;
    }
  }
  for (int p = 0; p < kPublishers; ++p) {
    publishers[p]->join(prosody.room_jid(), "jvb-bench-" + std::to_string(p),
                        "<stats xmlns='http://jitsi.org/protocol/colibri'/>");
  }
  std::this_thread::sleep_for(500ms);  // let everyone join
  stats_events = 0;
  const int64_t total = static_cast<int64_t>(kPublishers) * per_publisher;
  const auto start = Clock::now();
  for (int i = 0; i < per_publisher; ++i) {
    for (int p = 0; p < kPublishers; ++p) {
      publishers[p]->send_raw("<presence to='" + prosody.room_jid() + "/jvb-bench-" +
                              std::to_string(p) +
                              "'><stats xmlns='http://jitsi.org/protocol/colibri'>" +
                              stats_children(i) + "</stats></presence>");
    }
  }
  const auto deadline = start + (per_publisher < 100 ? 5s : 120s);
  while (stats_events < total && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "client throughput: %lld of %lld stats presences (20 stats each, %d publishers) in "
      "%.2f s = %.0f presences/s through a loopback Prosody (Prosody's own thread is "
      "part of this figure)\n",
      static_cast<long long>(stats_events.load()), static_cast<long long>(total), kPublishers,
      seconds, stats_events / seconds);
  client.stop();
  if (per_publisher < 100) std::system(("tail -20 " + prosody.log_file()).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::stoi(argv[1]) : 200000;
  const int per_publisher = argc > 2 ? std::stoi(argv[2]) : 10000;
  bench_parser(iterations);
  bench_client(per_publisher);
  return 0;
}
