// Linode client throughput under 429 pressure: linode::make_curl_client against the fake
// Linode API (real HTTP on loopback) answering the first K requests with 429 + Retry-After 1.
// Issues G concurrent GET /linode/instances/{id} and reports the total time, successes/s and
// attempts per success (from the client's per-attempt RequestRecord).
//
// Usage: linode_bench [--gets 100] [--quick]
// --quick (ctest smoke): 10 gets; exits 1 if any get fails or no 429 was retried.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_util.h"
#include "fake_linode/launcher.h"
#include "linode/client.h"

namespace {

using nlohmann::json;
using namespace scale_bench;

struct Scenario {
  std::string name;
  int rate_limited = 0;  // the first K API requests get 429
  bool sequential = false;
};

struct Outcome {
  int successes = 0;
  int failures = 0;
  int attempts = 0;
  int throttled = 0;
  double seconds = 0;
  std::string first_error;
};

Outcome run(const fake_linode::FakeLinodeProcess& fake, int64_t instance_id, int gets,
            const Scenario& scenario) {
  fake.control("POST", "/__fake/faults",
               json{{"rate_limit", scenario.rate_limited}, {"retry_after_seconds", 1}}.dump());
  Outcome outcome;
  std::mutex mutex;
  std::condition_variable done;
  int finished = 0;
  linode::ClientConfig config;
  config.api_url = fake.api_url();
  config.token = "bench-token-secret";
  config.total_timeout_seconds = 30;
  config.on_request = [&](const linode::RequestRecord& record) {
    std::lock_guard lock(mutex);
    ++outcome.attempts;
    if (record.status == 429) ++outcome.throttled;
  };
  auto client = linode::make_curl_client(config);
  const auto on_result = [&](linode::Result<linode::Instance> result) {
    std::lock_guard lock(mutex);
    if (result.ok()) {
      ++outcome.successes;
    } else {
      ++outcome.failures;
      if (outcome.first_error.empty()) outcome.first_error = result.error().message();
    }
    ++finished;
    done.notify_all();
  };
  const auto started = Clock::now();
  const auto wait_for = [&](int count) {
    std::unique_lock lock(mutex);
    return done.wait_for(lock, std::chrono::seconds(120), [&] { return finished >= count; });
  };
  if (scenario.sequential) {
    for (int i = 0; i < gets; ++i) {
      client->get_instance(instance_id, on_result);
      if (!wait_for(i + 1)) break;
    }
  } else {
    for (int i = 0; i < gets; ++i) client->get_instance(instance_id, on_result);
    wait_for(gets);
  }
  outcome.seconds = seconds_since(started);
  client->shutdown();
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  int gets = 100;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
      gets = 10;
    } else if (arg == "--gets" && i + 1 < argc) {
      try {
        gets = std::max(1, std::stoi(argv[++i]));
      } catch (const std::exception&) {
        std::fprintf(stderr, "linode_bench: --gets needs a number.\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: linode_bench [--gets N] [--quick]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::err);  // one warning per retried attempt would drown the table
  linode::CurlGlobal curl;
  fake_linode::LaunchOptions options;
  options.token = "bench-token-secret";
  fake_linode::FakeLinodeProcess fake(options);
  fake.control("POST", "/__fake/seed", json{{"count", 1}, {"label_prefix", "bench-"}}.dump());
  const int64_t instance_id =
      json::parse(fake.control("GET", "/__fake/instances"))["instances"][0]["id"].get<int64_t>();

  const std::vector<Scenario> scenarios = {
      {"no 429", 0, false},
      {"first " + std::to_string(gets / 5) + " get 429", gets / 5, false},
      {"first " + std::to_string(gets) + " get 429 (every request once)", gets, false},
      {"first " + std::to_string(2 * gets) + " get 429 (every request twice)", 2 * gets, false},
      // One request meeting a run of 429s in a row: how long the backoff stalls it.
      {"first " + std::to_string(quick ? 2 : 5) + " get 429, one request at a time", quick ? 2 : 5,
       true},
  };
  std::printf(
      "Linode client under 429 pressure: %d GET /linode/instances/{id}, concurrent unless"
      " stated, Retry-After 1 s (load 1m %s)\n",
      gets, load_average().c_str());
  std::printf(
      "| scenario | total s | successes/s | attempts per success | 429s | failures |\n"
      "|---|---|---|---|---|---|\n");
  bool ok = true;
  for (const Scenario& scenario : scenarios) {
    const Outcome outcome = run(fake, instance_id, gets, scenario);
    std::printf(
        "| %s | %.2f | %.1f | %.2f | %d | %d |\n", scenario.name.c_str(), outcome.seconds,
        outcome.successes / outcome.seconds,
        outcome.successes > 0 ? static_cast<double>(outcome.attempts) / outcome.successes : 0.0,
        outcome.throttled, outcome.failures);
    if (outcome.failures > 0) {
      std::printf("  problem: %s\n", outcome.first_error.c_str());
      ok = false;
    }
    if (scenario.rate_limited > 0 && outcome.throttled != scenario.rate_limited) {
      std::printf("  problem: expected %d responses of 429, saw %d\n", scenario.rate_limited,
                  outcome.throttled);
      ok = false;
    }
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}
