// The agent's own costs at 2,000 bridges, measured in-process (DESIGN section 7: a single
// Prosody brewery saturates near 200 bridges, so this load cannot come through one).
// Each simulated 5 s period feeds every bridge's presence stanza (~20 colibri stats) through
// xmpp::parse_presence, updates the per-bridge state, builds a scaling::Snapshot and runs
// scaling::Policy::decide. Reports CPU per period as % of one core, decision latency and the
// RSS growth of the state.
//
// Usage: inprocess_bench [--bridges 2000] [--periods 120] [--period-seconds 5] [--quick]
// --quick (ctest smoke): 200 bridges, 3 periods; exits 1 if a presence fails to parse or the
// snapshot loses a bridge.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench_util.h"
#include "scaling/policy.h"
#include "xmpp/brewery_client.h"

namespace {

using namespace scale_bench;

double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// What Prosody delivers to the agent for one bridge update (MUC occupant presence).
void append_presence(std::string& out, int bridge, int period, double stress) {
  out += "<presence xmlns='jabber:client' from='jvbbrewery@internal.auth.meet.test/jvb-as-";
  out += std::to_string(bridge);
  out +=
      "' to='autoscaler@auth.meet.test/agent'><x xmlns='http://jabber.org/protocol/muc#user'>"
      "<item role='participant' affiliation='none'/></x>"
      "<stats xmlns='http://jitsi.org/protocol/colibri'><stat name='stress_level' value='";
  out += std::to_string(stress);
  out += "'/><stat name='participants' value='" + std::to_string((bridge + period) % 200) +
         "'/><stat name='conferences' value='" + std::to_string((bridge + period) % 20) +
         "'/><stat name='drain' value='false'/><stat name='graceful_shutdown' value='false'/>"
         "<stat name='shutting_down' value='false'/><stat name='region' value='us-lax'/>"
         "<stat name='version' value='2.3.92'/>";
  static constexpr std::string_view kExtras[] = {"bit_rate_download",
                                                 "bit_rate_upload",
                                                 "packet_rate_download",
                                                 "packet_rate_upload",
                                                 "endpoints_sending_audio",
                                                 "endpoints_sending_video",
                                                 "inactive_endpoints",
                                                 "total_conferences_created",
                                                 "threads",
                                                 "used_memory",
                                                 "octo_version",
                                                 "relay_id"};
  for (size_t i = 0; i < std::size(kExtras); ++i) {
    out += "<stat name='";
    out += kExtras[i];
    out += "' value='" + std::to_string((bridge * 31 + period * 7 + static_cast<int>(i)) % 99991) +
           "'/>";
  }
  out += "</stats></presence>";
}

// Occupant nickname from the presence's from attribute (the client gets it from libstrophe).
std::string_view nickname_of(std::string_view presence) {
  const size_t from = presence.find("from='");
  if (from == std::string_view::npos) return {};
  const size_t slash = presence.find('/', from);
  const size_t quote = presence.find('\'', from + 6);
  if (slash == std::string_view::npos || quote == std::string_view::npos || slash > quote)
    return {};
  return presence.substr(slash + 1, quote - slash - 1);
}

}  // namespace

int main(int argc, char** argv) {
  int bridge_count = 2000;
  int periods = 120;  // 10 minutes of 5 s periods
  double period_seconds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    try {
      if (arg == "--quick") {
        bridge_count = 200;
        periods = 3;
      } else if (arg == "--bridges" && i + 1 < argc) {
        bridge_count = std::stoi(argv[++i]);
      } else if (arg == "--periods" && i + 1 < argc) {
        periods = std::stoi(argv[++i]);
      } else if (arg == "--period-seconds" && i + 1 < argc) {
        period_seconds = std::stod(argv[++i]);
      } else {
        std::fprintf(stderr,
                     "usage: inprocess_bench [--bridges N] [--periods N] "
                     "[--period-seconds S] [--quick]\n");
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "inprocess_bench: %s needs a number.\n", arg.c_str());
      return 2;
    }
  }
  if (bridge_count < 1 || periods < 1 || period_seconds <= 0) {
    std::fprintf(stderr,
                 "inprocess_bench: --bridges, --periods and --period-seconds must be "
                 "positive.\n");
    return 2;
  }

  scaling::EffectiveConfig effective;
  effective.config.min_bridges = 1;
  effective.config.max_bridges = 10000;
  effective.config.period_seconds = static_cast<int>(period_seconds);
  scaling::Policy policy;

  // One period's stanzas, regenerated (outside the measured time) each period so that values
  // change like real updates; the buffer keeps its capacity so RSS does not move because of it.
  std::string stanzas;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, length per stanza
  stanzas.reserve(static_cast<size_t>(bridge_count) * 1600);
  spans.reserve(static_cast<size_t>(bridge_count));
  const auto generate = [&](int period) {
    stanzas.clear();
    spans.clear();
    for (int bridge = 1; bridge <= bridge_count; ++bridge) {
      const size_t start = stanzas.size();
      // Mean stress drifts between 0.35 and 0.65 over the run (within the thresholds, with
      // some bridges well above and below).
      const double stress = 0.5 + 0.15 * ((period % 8) - 4) / 4.0 + 0.3 * ((bridge % 11) - 5) / 5.0;
      append_presence(stanzas, bridge, period, std::max(0.0, stress));
      spans.emplace_back(start, stanzas.size() - start);
    }
  };
  generate(0);
  const double rss_before = status_mib("self", "VmRSS");

  std::unordered_map<std::string, scaling::BridgeView> state;  // what the agent remembers
  std::vector<double> decide_ms;      // wall clock: includes preemption on a busy machine
  std::vector<double> decide_cpu_ms;  // this thread's CPU time only
  std::vector<double> period_cpu_ms;
  int parse_failures = 0;
  bool lost_bridge = false;
  int64_t checksum = 0;
  for (int period = 0; period < periods; ++period) {
    if (period > 0) generate(period);
    const double now = period * period_seconds;
    const double cpu_start = thread_cpu_seconds();
    for (const auto& [offset, length] : spans) {
      const std::string_view presence(stanzas.data() + offset, length);
      const auto stats = xmpp::parse_presence(presence);
      if (!stats) {
        ++parse_failures;
        continue;
      }
      auto& bridge = state[std::string(nickname_of(presence))];
      bridge.state = scaling::BridgeState::kReady;
      bridge.managed = true;
      bridge.stress = stats->stress_level;
      if (stats->participants) bridge.participants = static_cast<int>(*stats->participants);
    }
    scaling::Snapshot snapshot;
    snapshot.now = now;
    snapshot.bridges.reserve(state.size());
    for (const auto& [name, view] : state) {
      snapshot.bridges.push_back(view);
      snapshot.bridges.back().name = name;
    }
    const auto decide_start = Clock::now();
    const double decide_cpu_start = thread_cpu_seconds();
    const scaling::Decision decision = policy.decide(snapshot, effective);
    decide_cpu_ms.push_back(1000 * (thread_cpu_seconds() - decide_cpu_start));
    decide_ms.push_back(1000 * seconds_since(decide_start));
    period_cpu_ms.push_back(1000 * (thread_cpu_seconds() - cpu_start));
    checksum += decision.desired + static_cast<int64_t>(decision.drain.size());
    if (static_cast<int>(snapshot.bridges.size()) != bridge_count) lost_bridge = true;
  }
  const double rss_after = status_mib("self", "VmRSS");

  std::sort(decide_ms.begin(), decide_ms.end());
  std::sort(decide_cpu_ms.begin(), decide_cpu_ms.end());
  std::sort(period_cpu_ms.begin(), period_cpu_ms.end());
  double cpu_total = 0;
  for (double ms : period_cpu_ms) cpu_total += ms;
  const double cpu_mean_ms = cpu_total / periods;
  const double cpu_percent = 100 * cpu_mean_ms / 1000 / period_seconds;
  const double cpu_max_percent = 100 * period_cpu_ms.back() / 1000 / period_seconds;
  const auto percentile = [](const std::vector<double>& sorted, double q) {
    return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5))];
  };

  std::printf(
      "In-process agent work: %d bridges, one presence each per %.0f s period, %d periods"
      " (load 1m %s)\n",
      bridge_count, period_seconds, periods, load_average().c_str());
  std::printf("| figure | measured | goal |\n|---|---|---|\n");
  std::printf(
      "| CPU per period (parse + state + snapshot + decide), mean | %.2f ms = %.3f %% of "
      "one core | < 5 %% |\n",
      cpu_mean_ms, cpu_percent);
  std::printf("| CPU per period, worst | %.2f ms = %.3f %% of one core | < 5 %% |\n",
              period_cpu_ms.back(), cpu_max_percent);
  std::printf("| parse per presence, mean | %.1f us | - |\n", 1000 * cpu_mean_ms / bridge_count);
  std::printf("| decide() wall time median / p99 / max | %.3f / %.3f / %.3f ms | < 1 ms |\n",
              percentile(decide_ms, 0.5), percentile(decide_ms, 0.99), decide_ms.back());
  std::printf("| decide() CPU time median / p99 / max | %.3f / %.3f / %.3f ms | < 1 ms |\n",
              percentile(decide_cpu_ms, 0.5), percentile(decide_cpu_ms, 0.99),
              decide_cpu_ms.back());
  std::printf("| RSS growth for the state | %.2f MiB (process RSS %.1f MiB) | < 64 MiB |\n",
              rss_after - rss_before, rss_after);
  std::printf("(checksum %lld)\n", static_cast<long long>(checksum));
  if (parse_failures > 0 || lost_bridge) {
    std::printf("problem: %d presences failed to parse%s\n", parse_failures,
                lost_bridge ? "; the snapshot lost a bridge" : "");
    return 1;
  }
  return 0;
}
