// Cold start with many managed instances: the fake Linode API is seeded with N instances that
// carry the daemon's tags and `jvb-as-` labels (the page size is 500, so 1,200 spans three
// pages); the real daemon starts against it and a real Prosody. Measures the time from
// launching the daemon to the first `ctl status` that lists all N as managed bridges.
//
// Usage: cold_start_bench [--instances 500,1200] [--runs 3] [--quick]
// --quick (ctest smoke): 50 instances, one run; exits 1 unless all are listed in time.
// Exit 77 when prosody is missing.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
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

constexpr const char* kDomain = "auth.coldstart.local";
constexpr const char* kDecisionHistogram = "jvb_autoscaler_decision_duration_seconds";

struct Run {
  double first_reply_seconds = -1;
  double connected_seconds = -1;
  double all_listed_seconds = -1;
  double decided_seconds = -1;  // first decision taken after every instance was listed
  int listed = 0;
  std::string load;
};

int managed_listed(const json& reply) {
  int count = 0;
  for (const auto& bridge : reply.value("bridges", json::array())) {
    if (bridge.value("managed", false) && bridge.value("name", "").rfind("jvb-as-", 0) == 0) {
      ++count;
    }
  }
  return count;
}

Run cold_start(const agent::local::TempDir& dir, const agent::local::LocalProsody& prosody,
               const fake_linode::FakeLinodeProcess& fake, int instances, int run_index,
               double timeout_seconds) {
  Run run;
  const fs::path run_dir =
      dir.path() / ("run-" + std::to_string(instances) + "-" + std::to_string(run_index));
  fs::create_directories(run_dir);
  const fs::path socket = run_dir / "control.sock";
  const int metrics_port = agent::local::free_tcp_port();
  const json config = loopback_daemon_config(
      prosody.port(), kDomain, fake.api_url(), dir.path(), run_dir, metrics_port,
      // The default period_seconds (10): the first decision must not wait for a period.
      json{{"min_bridges", 1}, {"max_bridges", 10000}});
  std::ofstream(run_dir / "config.json") << config.dump(2);
  run.load = load_average();
  // A fresh state file each run: nothing is known but the instance list. No instance joins the
  // brewery, so they stay "provisioning" (capacity at zero stress) within the 900 s boot timeout.
  const auto started = Clock::now();
  agent::local::Process daemon({JVB_AUTOSCALER_BINARY, "run", "--config",
                                (run_dir / "config.json").string(), "--log-level", "warn"},
                               run_dir / "agent.log");
  eventually(
      [&] {
        json reply;
        try {
          reply = agent::control_request(socket.string(), {{"cmd", "status"}}, 2);
        } catch (const std::exception&) {
          return false;
        }
        const double now = seconds_since(started);
        if (run.first_reply_seconds < 0) run.first_reply_seconds = now;
        if (run.connected_seconds < 0 && reply.value("xmpp_connected", false)) {
          run.connected_seconds = now;
        }
        run.listed = managed_listed(reply);
        if (run.listed >= instances) {
          run.all_listed_seconds = now;
          return true;
        }
        return false;
      },
      timeout_seconds, std::chrono::milliseconds(10));
  if (run.all_listed_seconds >= 0) {
    // The daemon lists instances and decides in one handler of its loop (list, then
    // reconcile), so a ctl reply that lists them all comes after the decision built from that
    // listing whenever a decision has been recorded by then; otherwise wait for the next one.
    const auto decisions = [&] {
      return parse_histogram(http_get(metrics_port, "/metrics"), kDecisionHistogram).count;
    };
    if (decisions() >= 1) {
      run.decided_seconds = run.all_listed_seconds;
    } else if (eventually([&] { return decisions() >= 1; }, timeout_seconds,
                          std::chrono::milliseconds(10))) {
      run.decided_seconds = seconds_since(started);
    }
  }
  daemon.terminate(10);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {500, 1200};
  int runs = 3;
  double timeout_seconds = 30;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    try {
      if (arg == "--quick") {
        sizes = {50};
        runs = 1;
      } else if (arg == "--instances" && i + 1 < argc) {
        sizes.clear();
        std::istringstream in(argv[++i]);
        for (std::string item; std::getline(in, item, ',');) sizes.push_back(std::stoi(item));
      } else if (arg == "--runs" && i + 1 < argc) {
        runs = std::stoi(argv[++i]);
      } else {
        std::fprintf(stderr,
                     "usage: cold_start_bench [--instances 500,1200] [--runs N] "
                     "[--quick]\n");
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "cold_start_bench: %s needs a number.\n", arg.c_str());
      return 2;
    }
  }
  if (::access("/usr/bin/prosody", X_OK) != 0) {
    std::printf("cold_start_bench: skipped: prosody is not installed\n");
    return 77;
  }
  agent::local::TempDir dir("jvb-coldstart-");
  agent::local::LocalProsody prosody(dir.path(), kDomain, {{"autoscaler", "cold-agent-secret"}});
  std::ofstream(dir.path() / "xmpp.pass") << "cold-agent-secret\n";
  std::ofstream(dir.path() / "linode.token") << "cold-token-secret\n";

  std::printf(
      "Cold start: time from launching the daemon to the first ctl status listing every "
      "managed instance\n");
  std::printf(
      "| managed instances (pages of 500) | run | first ctl reply s | brewery joined s | "
      "all listed s | first decision with all s (goal < 2) | load 1m |\n"
      "|---|---|---|---|---|---|---|\n");
  bool ok = true;
  for (int instances : sizes) {
    fake_linode::LaunchOptions options;
    options.token = "cold-token-secret";
    fake_linode::FakeLinodeProcess fake(options);
    // The daemon's own tags and prefix: these are exactly the instances it considers managed.
    fake.control("POST", "/__fake/seed",
                 json{{"count", instances},
                      {"label_prefix", "jvb-as-"},
                      {"region", "us-lax"},
                      {"type", "g6-dedicated-2"},
                      {"tags", {"jitsi", "jvb-autoscaler"}}}
                     .dump());
    for (int run_index = 1; run_index <= runs; ++run_index) {
      const Run run = cold_start(dir, prosody, fake, instances, run_index, timeout_seconds);
      const auto seconds = [](double value) {
        return value < 0 ? std::string("not yet") : std::to_string(value).substr(0, 5);
      };
      std::printf("| %d (%d) | %d | %s | %s | %s | %s | %s |\n", instances, (instances + 499) / 500,
                  run_index, seconds(run.first_reply_seconds).c_str(),
                  seconds(run.connected_seconds).c_str(), seconds(run.all_listed_seconds).c_str(),
                  seconds(run.decided_seconds).c_str(), run.load.c_str());
      if (run.all_listed_seconds < 0 || run.decided_seconds < 0) {
        std::printf("  problem: only %d of %d managed instances listed after %.0f s\n", run.listed,
                    instances, timeout_seconds);
        ok = false;
      }
      std::fflush(stdout);
    }
  }
  return ok ? 0 : 1;
}
