// Brewery scale through a real Prosody (DESIGN section 7): N xmpp-swarm bridges publish every
// --interval seconds while the real daemon (`jvb-autoscaler run`, fake Linode API) watches the
// brewery. Over a measuring window it reports the daemon's CPU % of one core, RSS, decision
// latency (from its /metrics histogram), presences/s it absorbed (from the publish sequence
// number each bridge carries in `participants`, read back through `ctl status`), and
// Prosody's CPU % (where the ceiling is).
//
// Usage: brewery_bench [--sizes 50,100,200] [--window 60] [--interval 5] [--quick]
// --quick: 5 bridges, interval 1 s, window 4 s; exits 1 unless the daemon sees every bridge
// and absorbs their updates (a smoke test that can fail). Exit 77 when prosody is missing.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "agent/control_client.h"
#include "agent/local_cluster.h"
#include "bench_util.h"
#include "fake_linode/launcher.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace scale_bench;

constexpr const char* kDomain = "auth.scale.local";
constexpr const char* kDecisionHistogram = "jvb_autoscaler_decision_duration_seconds";

struct Settings {
  std::vector<int> sizes = {50, 100, 200};
  double window_seconds = 60;
  double interval_seconds = 5;
  bool quick = false;
};

struct Row {
  int bridges = 0;
  int seen = 0;
  double daemon_cpu_percent = 0;
  double daemon_rss_mib = 0;
  double daemon_hwm_mib = 0;
  double swarm_rss_mib = 0;
  double decisions = 0;
  double decision_mean_ms = 0;
  double decision_p99_bound_ms = 0;
  double absorbed_per_second = 0;
  double expected_per_second = 0;
  double prosody_cpu_percent = 0;
  double join_seconds = 0;
  double warm_up_seconds = 0;
  std::string load_before;
  std::string load_after;
  std::string problem;
};

// The prosody process itself (not the runuser wrapper) started with this config file.
pid_t find_prosody_pid(const fs::path& config) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* entry = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(config.string()) == std::string::npos) continue;
    if (cmdline.rfind("runuser", 0) == 0) continue;
    found = pid;
  }
  ::closedir(proc);
  return found;
}

json daemon_status(const fs::path& socket) {
  try {
    return agent::control_request(socket.string(), {{"cmd", "status"}}, 5);
  } catch (const std::exception&) {
    return json::object();
  }
}

// Publish sequence number per swarm bridge, as the daemon last saw it.
std::map<std::string, int64_t> sequences(const json& reply, const std::string& prefix) {
  std::map<std::string, int64_t> out;
  for (const auto& bridge : reply.value("bridges", json::array())) {
    const std::string name = bridge.value("name", "");
    if (name.rfind(prefix, 0) != 0 || !bridge.contains("participants") ||
        !bridge["participants"].is_number_integer()) {
      continue;
    }
    out[name] = bridge["participants"].get<int64_t>();
  }
  return out;
}

Row measure(int bridges, const Settings& settings) {
  Row row;
  row.bridges = bridges;
  agent::local::TempDir dir("jvb-scale-");
  const auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir.path() / name) << content << "\n";
  };
  agent::local::LocalProsody prosody(
      dir.path(), kDomain, {{"autoscaler", "scale-agent-secret"}, {"jvb", "scale-jvb-secret"}});
  write("xmpp.pass", "scale-agent-secret");
  write("jvb.pass", "scale-jvb-secret");
  write("linode.token", "scale-token-secret");
  fake_linode::LaunchOptions fake_options;
  fake_options.token = "scale-token-secret";
  fake_linode::FakeLinodeProcess fake(fake_options);

  const int metrics_port = agent::local::free_tcp_port();
  const fs::path socket = dir.path() / "control.sock";
  const json config = loopback_daemon_config(
      prosody.port(), kDomain, fake.api_url(), dir.path(), dir.path(), metrics_port,
      // Swarm stress stays within the thresholds: the daemon observes and decides, holds.
      json{{"min_bridges", 1},
           {"max_bridges", 10000},
           {"period_seconds", static_cast<int>(std::max(1.0, settings.interval_seconds))}});
  std::ofstream(dir.path() / "config.json") << config.dump(2);
  agent::local::Process daemon({JVB_AUTOSCALER_BINARY, "run", "--config",
                                (dir.path() / "config.json").string(), "--log-level", "warn"},
                               dir.path() / "agent.log");
  if (!eventually([&] { return daemon_status(socket).value("xmpp_connected", false); }, 30)) {
    row.problem = "daemon did not connect to the brewery within 30 s";
    return row;
  }

  const std::string prefix = "sw-";
  // Logins are paced: each join makes Prosody send the whole roster to the newcomer and the
  // newcomer to everyone, so a fast storm near the ceiling times logins out.
  constexpr double kConnectRate = 10;
  constexpr double kLoginTimeout = 120;
  const double join_budget = bridges / kConnectRate + kLoginTimeout + 10;
  const double warm_up_budget = 3 * settings.interval_seconds + 30 + bridges / 5.0;
  const double duration =
      join_budget + warm_up_budget + settings.interval_seconds + settings.window_seconds + 5;
  const auto swarm_started = Clock::now();
  agent::local::Process swarm({XMPP_SWARM_BINARY,
                               "--port",
                               std::to_string(prosody.port()),
                               "--domain",
                               kDomain,
                               "--username",
                               "jvb",
                               "--password-file",
                               (dir.path() / "jvb.pass").string(),
                               "--brewery",
                               prosody.brewery(),
                               "--prefix",
                               prefix,
                               "--count",
                               std::to_string(bridges),
                               "--interval",
                               std::to_string(settings.interval_seconds),
                               "--duration",
                               std::to_string(duration),
                               "--connect-rate",
                               std::to_string(kConnectRate),
                               "--login-timeout",
                               std::to_string(kLoginTimeout)},
                              dir.path() / "swarm.log");
  if (!eventually(
          [&] {
            return read_text(dir.path() / "swarm.log").find("all joined") != std::string::npos;
          },
          join_budget, std::chrono::milliseconds(200))) {
    row.problem = "swarm did not finish joining within " + std::to_string(join_budget) + " s";
    return row;
  }
  row.join_seconds = seconds_since(swarm_started);
  // Warm-up: every bridge publishes at least once before the window opens. Near Prosody's
  // ceiling updates arrive late: after the bound, measure anyway and report what was seen.
  const auto warm_up_started = Clock::now();
  eventually(
      [&] { return static_cast<int>(sequences(daemon_status(socket), prefix).size()) == bridges; },
      warm_up_budget, std::chrono::milliseconds(500));
  row.warm_up_seconds = seconds_since(warm_up_started);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(settings.interval_seconds * 1000)));

  const pid_t prosody_pid = find_prosody_pid(dir.path() / "prosody.cfg.lua");
  row.load_before = load_average();
  const auto window_start = Clock::now();
  const double daemon_cpu0 = cpu_seconds(daemon.pid());
  const double prosody_cpu0 = prosody_pid > 0 ? cpu_seconds(prosody_pid) : -1;
  const Histogram histogram0 =
      parse_histogram(http_get(metrics_port, "/metrics"), kDecisionHistogram);
  const auto sequences0 = sequences(daemon_status(socket), prefix);

  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(settings.window_seconds * 1000)));

  const auto sequences1 = sequences(daemon_status(socket), prefix);
  const Histogram histogram1 =
      parse_histogram(http_get(metrics_port, "/metrics"), kDecisionHistogram);
  const double daemon_cpu1 = cpu_seconds(daemon.pid());
  const double prosody_cpu1 = prosody_pid > 0 ? cpu_seconds(prosody_pid) : -1;
  const double window = seconds_since(window_start);
  row.load_after = load_average();

  row.seen = static_cast<int>(sequences1.size());
  row.expected_per_second = row.seen / settings.interval_seconds;
  row.daemon_cpu_percent = 100 * (daemon_cpu1 - daemon_cpu0) / window;
  row.prosody_cpu_percent = prosody_pid > 0 ? 100 * (prosody_cpu1 - prosody_cpu0) / window : -1;
  row.daemon_rss_mib = status_mib(std::to_string(daemon.pid()), "VmRSS");
  row.daemon_hwm_mib = status_mib(std::to_string(daemon.pid()), "VmHWM");
  row.swarm_rss_mib = status_mib(std::to_string(swarm.pid()), "VmRSS");
  row.decisions = histogram1.count - histogram0.count;
  row.decision_mean_ms =
      row.decisions > 0 ? 1000 * (histogram1.sum - histogram0.sum) / row.decisions : -1;
  row.decision_p99_bound_ms = 1000 * quantile_bound(histogram0, histogram1, 0.99);
  int64_t absorbed = 0;
  for (const auto& [name, last] : sequences1) {
    const auto first = sequences0.find(name);
    if (first != sequences0.end()) absorbed += last - first->second;
  }
  row.absorbed_per_second = absorbed / window;
  if (row.seen != bridges) {
    row.problem = "daemon lists " + std::to_string(row.seen) + " of " + std::to_string(bridges);
  }
  if (row.decisions <= 0) row.problem = "no decision recorded in the window";
  swarm.terminate(5);
  daemon.terminate(10);
  return row;
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) sizes.push_back(std::stoi(item));
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    try {
      if (arg == "--quick") {
        settings.quick = true;
        settings.sizes = {5};
        settings.window_seconds = 4;
        settings.interval_seconds = 1;
      } else if (arg == "--sizes" && has_value) {
        settings.sizes = parse_sizes(argv[++i]);
      } else if (arg == "--window" && has_value) {
        settings.window_seconds = std::stod(argv[++i]);
      } else if (arg == "--interval" && has_value) {
        settings.interval_seconds = std::stod(argv[++i]);
      } else {
        std::fprintf(stderr,
                     "usage: brewery_bench [--sizes 50,100,200] [--window S] "
                     "[--interval S] [--quick]\n");
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "brewery_bench: %s needs a number.\n", arg.c_str());
      return 2;
    }
  }
  if (::access("/usr/bin/prosody", X_OK) != 0) {
    std::printf("brewery_bench: skipped: prosody is not installed\n");
    return 77;
  }
  std::printf("Brewery through a real Prosody: swarm bridges publish every %.0f s, window %.0f s\n",
              settings.interval_seconds, settings.window_seconds);
  std::printf(
      "| bridges | daemon CPU %% of a core (goal < 5) | RSS / peak MiB (goal < 64) | "
      "decisions | decision mean ms / p99 bucket (goal < 1) | presences/s absorbed / "
      "published | Prosody CPU %% | bridges listed | join s / warm-up s | load 1m before/after "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  bool ok = true;
  for (int bridges : settings.sizes) {
    Row row;
    try {
      row = measure(bridges, settings);
    } catch (const std::exception& error) {
      row.bridges = bridges;
      row.problem = error.what();
    }
    std::printf(
        "| %d | %.2f | %.1f / %.1f | %.0f | %.3f / <= %.1f | %.1f / %.1f | %.1f | %d | %.1f / "
        "%.1f | %s / %s |\n",
        row.bridges, row.daemon_cpu_percent, row.daemon_rss_mib, row.daemon_hwm_mib, row.decisions,
        row.decision_mean_ms, row.decision_p99_bound_ms, row.absorbed_per_second,
        row.expected_per_second, row.prosody_cpu_percent, row.seen, row.join_seconds,
        row.warm_up_seconds, row.load_before.c_str(), row.load_after.c_str());
    std::printf("  (xmpp-swarm itself: %.1f MiB RSS for %d bridges)\n", row.swarm_rss_mib, bridges);
    if (!row.problem.empty()) {
      std::printf("  problem at %d bridges: %s\n", bridges, row.problem.c_str());
      ok = false;
    } else if (row.absorbed_per_second < 0.5 * row.expected_per_second) {
      std::printf("  problem at %d bridges: the daemon absorbed under half the updates\n", bridges);
      ok = false;
    }
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}
