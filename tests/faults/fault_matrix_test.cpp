// The fault matrix of issue 9: each test breaks one thing production breaks (Prosody, the
// Linode API, a bridge, the agent itself, its state file, its configuration) in a real little
// cluster (tests/e2e/cluster_fixture.h) and asserts the outcome: no crash, no duplicate
// instance, no orphan after convergence, no deletion while blind, convergence within a
// stated bound. Each test writes its row of the summary table to FAULTS_RESULTS_DIR; the
// last test (FaultMatrixSummary) prints the table.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.h"

namespace {

namespace fs = std::filesystem;
using cluster_fixture::eventually;
using cluster_fixture::read_file;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kCreateRoute = "POST /v4/linode/instances";
constexpr const char* kDeleteRoute = "DELETE /v4/linode/instances/{id}";

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Seconds until `condition` holds, or nullopt when it does not within `bound_seconds`.
std::optional<double> converge(const std::function<bool()>& condition, double bound_seconds) {
  const auto start = SteadyClock::now();
  if (!eventually(condition, bound_seconds)) return std::nullopt;
  return seconds_since(start);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

fs::path results_dir() { return fs::path(FAULTS_RESULTS_DIR); }

// One row of the matrix: what was broken, what the test saw, how long convergence took.
struct Row {
  int number = 0;
  std::string fault;
  std::string outcome;
  std::optional<double> converged_seconds;
  double bound_seconds = 0;
};

class FaultMatrix : public cluster_fixture::Cluster {
 protected:
  void SetUp() override {
    fs::create_directories(results_dir());
    Cluster::SetUp();
  }

  // Writes this test's row (PASS or FAIL) for the summary, and prints it.
  void TearDown() override {
    // The suite-wide check first, so that a row that deleted a bridge with people on it is
    // written as FAIL.
    daemon_.reset();
    static_bridge_.reset();
    if (fake_ && dir_) expect_deleted_instances_held_no_participant();
    if (row_.number > 0) {
      const std::string verdict = HasFailure() ? "FAIL" : "pass";
      const std::string converged =
          row_.converged_seconds ? fmt_seconds(*row_.converged_seconds) : std::string("-");
      const std::string line = "| " + std::to_string(row_.number) + " | " + row_.fault + " | " +
                               verdict + ": " + row_.outcome + " | " + converged + " (bound " +
                               fmt_seconds(row_.bound_seconds) + ") |";
      std::ofstream(results_dir() / ("row-" + two_digits(row_.number) + ".md")) << line << "\n";
      std::cout << line << std::endl;
    }
    Cluster::TearDown();
  }

  static std::string fmt_seconds(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", seconds);
    return text;
  }
  static std::string two_digits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

  void begin_row(int number, std::string fault, double bound_seconds) {
    row_.number = number;
    row_.fault = std::move(fault);
    row_.bound_seconds = bound_seconds;
    row_.outcome = "did not finish";
    std::error_code ignored;
    fs::remove(results_dir() / ("row-" + two_digits(number) + ".md"), ignored);
  }

  void fault(const json& faults) { fake_->control("POST", "/__fake/faults", faults.dump()); }

  uint64_t requests(const std::string& route) {
    const json stats = json::parse(fake_->control("GET", "/__fake/stats"));
    return stats["by_route"].value(route, uint64_t{0});
  }

  std::vector<std::string> labels() {
    std::vector<std::string> result;
    for (const auto& instance : instances()) result.push_back(instance["label"]);
    std::sort(result.begin(), result.end());
    return result;
  }

  std::optional<json> bridge(const std::string& name) {
    for (const auto& entry : status().value("bridges", json::array())) {
      if (entry.value("name", "") == name) return entry;
    }
    return std::nullopt;
  }

  std::string bridge_state(const std::string& name) {
    const auto entry = bridge(name);
    return entry ? entry->value("state", "") : "absent";
  }

  bool ready(const std::string& name) { return bridge_state(name) == "ready"; }

  // Every instance the fake holds is one the daemon lists as managed, with the same id.
  void expect_no_orphans() {
    const json now = status();
    for (const auto& instance : instances()) {
      bool known = false;
      for (const auto& entry : now.value("bridges", json::array())) {
        known = known || (entry["name"] == instance["label"] && entry["managed"] == true &&
                          entry["linode_id"] == instance["id"]);
      }
      EXPECT_TRUE(known) << "orphan instance " << instance.dump() << " status " << now.dump();
    }
  }

  pid_t hook_pid(const std::string& label) {
    for (const auto& instance : instances()) {
      if (instance["label"] == label) return instance.value("hook_pid", 0);
    }
    return 0;
  }

  std::string metrics_text() {
    try {
      boost::asio::ip::tcp::iostream stream("127.0.0.1", std::to_string(metrics_port_));
      stream.expires_after(std::chrono::seconds(5));
      stream << "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" << std::flush;
      std::ostringstream body;
      body << stream.rdbuf();
      return body.str();
    } catch (const std::exception&) {
      return "";
    }
  }

  bool daemon_alive() { return daemon_ && daemon_->running(); }

  // The bridge was deleted because a presence after the drain request reported 0
  // participants, not because its drain timed out with participants on it.
  bool deleted_when_empty(const std::string& name) {
    const std::regex deleted_empty("deleting bridge " + name +
                                   " \\(Linode [0-9]+, reason drained\\)");
    return std::regex_search(log_text(), deleted_empty);
  }

  // The jvb-sim of a managed bridge, over its HTTP API (GET /sim/state, POST /sim/...).
  std::string sim_base(const std::string& label) {
    for (const auto& instance : instances()) {
      if (instance["label"] == label) {
        return "http://" + instance.value("private_ipv4", std::string()) + ":8080";
      }
    }
    return "";
  }

  json sim_state(const std::string& label) {
    const std::string base = sim_base(label);
    if (base.empty()) return json::object();
    try {
      boost::asio::ip::tcp::iostream stream(base.substr(7, base.rfind(':') - 7), "8080");
      stream.expires_after(std::chrono::seconds(3));
      stream << "GET /sim/state HTTP/1.0\r\nHost: x\r\n\r\n" << std::flush;
      std::ostringstream whole;
      whole << stream.rdbuf();
      const std::string text = whole.str();
      const size_t body = text.find("\r\n\r\n");
      if (body == std::string::npos) return json::object();
      return json::parse(text.substr(body + 4), nullptr, false);
    } catch (const std::exception&) {
      return json::object();
    }
  }

  int sim_post(const std::string& label, const std::string& path, const json& body) {
    boost::asio::io_context io;
    agent::HttpOutcome outcome;
    agent::async_http_post(io, sim_base(label) + path, body.dump(), 5,
                           [&](agent::HttpOutcome result) { outcome = result; });
    io.run();
    return outcome.status;
  }

  std::string sim_log(const std::string& label) {
    return read_file(dir_->path() / ("sim-" + label + ".log"));
  }

  // Position of `needle` in the agent's log (npos when absent), for order assertions.
  size_t log_at(const std::string& needle) { return log_text().find(needle); }

  Row row_;
};

// 1. Prosody killed while a new bridge is provisioning: the agent is blind, holds, and after
// the restart the instance joins and is the one it created (no twin, no deletion).
TEST_F(FaultMatrix, ProsodyKilledMidScaleUpNothingDeletedInstanceAdopted) {
  begin_row(1, "Prosody killed and restarted mid-scale-up", 45);
  auto slow_boot = fake_options();
  slow_boot.hook_delay_seconds = 4;  // the bridge is still provisioning when Prosody dies
  start_fake(slow_boot);
  start_static_bridge(20);
  start_daemon(config({{"min_bridges", 2}}));
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 30)) << agent_log();
  ASSERT_EQ(bridge_state("jvb-as-1"), "provisioning");
  prosody_->stop();
  ASSERT_TRUE(eventually([&] { return !status().value("xmpp_connected", true); }, 20));
  std::this_thread::sleep_for(std::chrono::seconds(6));  // blind across the boot delay
  const json blind_status = status();
  EXPECT_FALSE(blind_status["blind_reason"].is_null()) << blind_status.dump();
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  prosody_->start();
  const auto took =
      converge([&] { return ready("jvb-as-1") && status().value("xmpp_connected", false); },
               row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = took;
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(requests(kCreateRoute), 1u);
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  EXPECT_EQ(log_text().find("deleting bridge"), std::string::npos);
  expect_no_orphans();
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "held while blind (0 DELETE), jvb-as-1 joined after restart, 1 POST";
}

// 2. A storm of 429s on every call: the client honours Retry-After, the daemon keeps
// running and reaches the pinned count with exactly one POST per instance.
TEST_F(FaultMatrix, RateLimitStormConvergesWithoutDuplicates) {
  begin_row(2, "Linode 429 storm (8 x 429, Retry-After 1)", 60);
  start_static_bridge(20);
  start_daemon(config());
  fault({{"rate_limit", 8}, {"retry_after_seconds", 1}});
  const auto start = SteadyClock::now();
  ASSERT_TRUE(ctl({{"cmd", "scale-to"}, {"n", 3}}).value("ok", false));
  const auto took = converge(
      [&] {
        return labels() == std::vector<std::string>{"jvb-as-1", "jvb-as-2"} && ready("jvb-as-1") &&
               ready("jvb-as-2");
      },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  const json stats = json::parse(fake_->control("GET", "/__fake/stats"));
  EXPECT_EQ(stats["by_status"].value("429", 0), 8) << stats.dump();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // nothing more happens afterwards
  EXPECT_EQ(instances().size(), 2u) << agent_log();
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  EXPECT_NE(log_text().find("429"), std::string::npos) << "the storm left no trace in the log";
  expect_no_orphans();
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "all 8 429s absorbed, 2 instances (as pinned), no duplicate, no delete";
}

// 3. The API answers 503 for a long stretch while the load asks for a scale-down: the agent
// reports itself blind and holds; once the API is back it converges.
TEST_F(FaultMatrix, LongServerErrorStretchHoldsThenConverges) {
  begin_row(3, "Linode 503 for a long stretch (15 s of 503s)", 45);
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 2}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 40)) << agent_log();
  // Every API request fails from now on, and the load now allows a scale-down to 1.
  fault({{"server_errors", 100000}, {"server_error_status", 503}});
  ASSERT_TRUE(eventually([&] { return status().value("linode_ok", true) == false; }, 40))
      << agent_log();
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 1}}).value("ok", false));
  const auto stretch_start = SteadyClock::now();
  bool saw_blind_metric = false;
  while (seconds_since(stretch_start) < 15) {
    saw_blind_metric =
        saw_blind_metric || metrics_text().find("jvb_autoscaler_blind 1") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const json held = status();
  EXPECT_EQ(held["linode_ok"], false) << held.dump();
  EXPECT_FALSE(held["blind_reason"].is_null()) << held.dump();
  EXPECT_TRUE(saw_blind_metric);
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(log_text().find("draining bridge"), std::string::npos) << agent_log();
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  fault({{"server_errors", 0}});
  const auto took = converge([&] { return instances().empty(); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = took;
  EXPECT_EQ(status()["linode_ok"], true);
  EXPECT_NE(metrics_text().find("jvb_autoscaler_blind 0"), std::string::npos);
  EXPECT_NE(log_text().find("bridge jvb-as-1 deleted"), std::string::npos);
  EXPECT_TRUE(deleted_when_empty("jvb-as-1")) << agent_log();
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "linode_ok=false + blind 1, no drain for 15 s; then drained and deleted";
}

// 4. The POST creates the instance, then the connection closes without an answer: the agent
// looks the label up and adopts the instance instead of creating a second one.
TEST_F(FaultMatrix, CreateWithoutAnswerIsAdoptedByLabel) {
  begin_row(4, "POST creates but never answers (connection closed)", 30);
  start_static_bridge(20);
  fault({{"drop_creates", 1}, {"drop_mode", "close"}});
  start_daemon(config({{"min_bridges", 2}}));
  const auto took = converge([&] { return ready("jvb-as-1"); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = took;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  // The agent decided one create. libcurl may resend a POST whose reused connection died
  // before any byte of the answer; Linode (and the fake) refuse that copy with 400 "Label
  // must be unique", which the agent treats as ambiguous: it adopts instead of failing.
  const std::string log = log_text();
  EXPECT_EQ(count_of(log, "creating bridge jvb-as-1 ("), 1u) << log;
  const json stats = json::parse(fake_->control("GET", "/__fake/stats"));
  EXPECT_EQ(stats["by_status"].value("dropped", 0), 1) << stats.dump();
  EXPECT_EQ(requests(kCreateRoute), 1u + stats["by_status"].value("400", 0u))
      << stats.dump() << log;
  EXPECT_NE(log_text().find("got no clear answer"), std::string::npos) << agent_log();
  expect_no_orphans();
  row_.outcome =
      "1 create decided; libcurl's silent resend refused 400 (label unique); adopted by label";
}

// 5. DELETE fails three times: the drained bridge is deleted on a later period and nothing
// else is touched.
TEST_F(FaultMatrix, FailingDeleteIsRetriedUntilGone) {
  begin_row(5, "DELETE fails (3 x 500)", 40);
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 3}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1") && ready("jvb-as-2"); }, 40))
      << agent_log();
  fault({{"fail_deletes", 3}, {"fail_delete_status", 500}});
  const auto start = SteadyClock::now();
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 2}}).value("ok", false));
  const auto took =
      converge([&] { return instances().size() == 1 && bridge_state("jvb-as-1") == "absent"; },
               row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-2"});
  EXPECT_EQ(requests(kDeleteRoute), 4u);
  const std::string log = log_text();
  EXPECT_EQ(count_of(log, "deleting bridge jvb-as-1 failed"), 3u) << log;
  EXPECT_EQ(log.find("deleting bridge jvb-as-2"), std::string::npos) << log;
  EXPECT_EQ(log.find("deleting bridge jvb1"), std::string::npos) << log;
  EXPECT_TRUE(deleted_when_empty("jvb-as-1")) << log;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-2"});
  expect_no_orphans();
  row_.outcome = "3 failed DELETEs retried, 4th deletes jvb-as-1; jvb-as-2 and jvb1 untouched";
}

// 6. An instance whose bridge never joins: deleted after boot_timeout, shown failed, and
// replaced because min_bridges still needs it.
TEST_F(FaultMatrix, InstanceThatNeverJoinsIsDeletedReportedAndReplaced) {
  begin_row(6, "instance never joins (boot hook exits at once)", 30);
  auto dead_boot = fake_options();
  dead_boot.on_create = "true";
  start_fake(dead_boot);
  start_static_bridge(20);
  start_daemon(config({{"min_bridges", 2}, {"boot_timeout_seconds", 4}}));
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 20)) << agent_log();
  const auto start = SteadyClock::now();
  size_t most_at_once = 0;
  bool saw_failed_metric = false;
  const auto took = converge(
      [&] {
        most_at_once = std::max(most_at_once, instances().size());
        saw_failed_metric =
            saw_failed_metric ||
            metrics_text().find("jvb_autoscaler_bridges{state=\"failed\"} 1") != std::string::npos;
        const auto now = labels();
        return bridge_state("jvb-as-1") == "failed" &&
               std::find(now.begin(), now.end(), "jvb-as-1") == now.end() &&
               std::find(now.begin(), now.end(), "jvb-as-2") != now.end() && saw_failed_metric;
      },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log() << "\nmetrics:\n" << metrics_text();
  row_.converged_seconds = seconds_since(start);
  // The replacement may be created in the same period as the failed one is deleted.
  EXPECT_LE(most_at_once, 2u) << "more than one replacement for one failed boot";
  EXPECT_NE(log_text().find("deleting bridge jvb-as-1 (Linode"), std::string::npos);
  EXPECT_NE(log_text().find("boot_timeout"), std::string::npos) << agent_log();
  EXPECT_EQ(bridge_state("jvb1"), "unmanaged");
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "jvb-as-1 deleted after 4 s boot timeout, state failed, replaced by jvb-as-2";
}

// 7. A bridge process frozen (SIGSTOP): still an occupant, but silent. Past the silence
// timeout its stats are unknown, it is not capacity, and a scale-down does not pick it.
// SIGCONT: it publishes again and the normal scale-down proceeds.
TEST_F(FaultMatrix, SilentBridgeIsNotCapacityAndNotDeletedWhileUnknown) {
  begin_row(7, "bridge stops publishing (SIGSTOP), then resumes", 40);
  start_static_bridge(10);
  json configuration = config({{"min_bridges", 2}});
  configuration["xmpp"]["stats_timeout_seconds"] = 10;
  start_daemon(configuration);
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 40)) << agent_log();
  const pid_t frozen = hook_pid("jvb-as-1");
  ASSERT_GT(frozen, 0);
  // The hook runs in its own process group: freeze all of it (sh and jvb-sim).
  ASSERT_EQ(::kill(-frozen, SIGSTOP), 0);
  struct Thaw {
    pid_t group;
    ~Thaw() { ::kill(-group, SIGCONT); }
  } thaw{frozen};
  const auto start = SteadyClock::now();
  // The silence timeout is max(xmpp.stats_timeout_seconds = 10 s, 3 periods).
  ASSERT_TRUE(eventually(
      [&] {
        const auto entry = bridge("jvb-as-1");
        return entry && (*entry)["stress"].is_null() && (*entry)["participants"].is_null();
      },
      25))
      << agent_log();
  const double unknown_after = seconds_since(start);
  EXPECT_GE(unknown_after, 8);
  // Load now allows a scale-down; the only candidate's stats are unknown: hold.
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 1}}).value("ok", false));
  std::this_thread::sleep_for(std::chrono::seconds(6));
  const json held = status();
  EXPECT_NEAR(held.value("cluster_stress", -1.0), 0.1, 0.011)
      << "only jvb1 is capacity " << held.dump();
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(log_text().find("draining bridge jvb-as-1"), std::string::npos) << agent_log();
  EXPECT_NE(held.dump().find("jvb-as-1 unknown: no scale-down"), std::string::npos) << held.dump();
  ASSERT_EQ(::kill(-frozen, SIGCONT), 0);
  const auto resumed = SteadyClock::now();
  const auto took = converge([&] { return instances().empty(); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(resumed);
  EXPECT_NE(log_text().find("bridge jvb-as-1 is drained (0 participants)"), std::string::npos);
  EXPECT_TRUE(deleted_when_empty("jvb-as-1")) << agent_log();
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "stats null after " + fmt_seconds(unknown_after) +
                 ", not capacity, not drained; after SIGCONT drained then deleted";
}

// 8. The agent is SIGKILLed after writing the label and while the POST hangs (the instance
// exists): the restarted agent adopts it by label and never reuses the number.
TEST_F(FaultMatrix, AgentKilledBetweenLabelWrittenAndPostAnsweredAdoptsOnRestart) {
  begin_row(8, "agent SIGKILLed between label written and POST answered", 40);
  start_static_bridge(20);
  fault({{"drop_creates", 1}, {"drop_mode", "hang"}});
  start_daemon(config({{"min_bridges", 2}}));
  ASSERT_TRUE(eventually(
      [&] {
        return instances().size() == 1 &&
               read_file(dir_->path() / "state.json").find("jvb-as-1") != std::string::npos;
      },
      20))
      << agent_log();
  ASSERT_NE(log_text().find("creating bridge jvb-as-1"), std::string::npos);
  ASSERT_EQ(log_text().find("bridge jvb-as-1 created as"), std::string::npos)
      << "the POST was answered: the fault did not hold";
  ::kill(daemon_->pid(), SIGKILL);
  ASSERT_EQ(daemon_->wait(10), 128 + SIGKILL);
  const auto start = SteadyClock::now();
  start_daemon(config({{"min_bridges", 2}}));
  const auto took = converge([&] { return ready("jvb-as-1"); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(requests(kCreateRoute), 1u);
  expect_no_orphans();
  // The counter moved past 1: the next bridge is jvb-as-2.
  ASSERT_TRUE(ctl({{"cmd", "scale-to"}, {"n", 3}}).value("ok", false));
  ASSERT_TRUE(eventually([&] { return instances().size() == 2; }, 20)) << agent_log();
  EXPECT_EQ(labels(), (std::vector<std::string>{"jvb-as-1", "jvb-as-2"}));
  EXPECT_EQ(requests(kCreateRoute), 2u);
  row_.outcome = "1 instance for jvb-as-1 adopted after restart, next label jvb-as-2";
}

// 9. Garbage in the state file while the agent is stopped: it starts, says so in one line
// naming the file, moves it aside and adopts the running instance.
TEST_F(FaultMatrix, CorruptStateFileIsMovedAsideAndFleetAdopted) {
  begin_row(9, "state file corrupted while stopped", 30);
  start_static_bridge(20);
  start_daemon(config({{"min_bridges", 2}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 40)) << agent_log();
  ASSERT_EQ(daemon_->terminate(), 0);
  const fs::path state = dir_->path() / "state.json";
  std::ofstream(state, std::ios::trunc) << "{\"next_label_number\": 7, garbage \x01\xff";
  const auto start = SteadyClock::now();
  start_daemon(config({{"min_bridges", 2}}));
  const auto took = converge(
      [&] {
        const auto entry = bridge("jvb-as-1");
        return entry && (*entry)["managed"] == true && (*entry)["state"] == "ready";
      },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  const std::string log = log_text();
  const std::regex one_line("state file " + state.string() +
                            " is corrupt [^\n]*moved it to [^\n]*\\.corrupt-[0-9]+");
  EXPECT_TRUE(std::regex_search(log, one_line)) << log;
  EXPECT_EQ(count_of(log, "is corrupt"), 1u);
  bool moved_aside = false;
  for (const auto& entry : fs::directory_iterator(dir_->path())) {
    moved_aside =
        moved_aside || entry.path().filename().string().rfind("state.json.corrupt-", 0) == 0;
  }
  EXPECT_TRUE(moved_aside);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(daemon_alive());  // no crash loop
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  const json saved = json::parse(read_file(state), nullptr, false);
  ASSERT_TRUE(saved.is_object()) << read_file(state);
  EXPECT_GE(saved.value("next_label_number", 0), 2) << saved.dump();
  expect_no_orphans();
  row_.outcome = "one error line naming the file, moved aside, jvb-as-1 adopted, no new POST";
}

// 10. SIGHUP with min_bridges raised: the fleet grows; SIGHUP with an invalid file: the old
// configuration stays and the log says why.
TEST_F(FaultMatrix, ReloadRaisesMinAndInvalidReloadKeepsOldConfig) {
  begin_row(10, "SIGHUP reload: min 1 -> 3, then an invalid file", 40);
  start_static_bridge(20);
  start_daemon(config());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(instances().empty()) << agent_log();
  write_config(config({{"min_bridges", 3}}));
  const auto start = SteadyClock::now();
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  const auto took = converge(
      [&] { return status().value("min", 0) == 3 && ready("jvb-as-1") && ready("jvb-as-2"); },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  EXPECT_EQ(labels(), (std::vector<std::string>{"jvb-as-1", "jvb-as-2"}));
  // An invalid file: unknown key and min above max.
  json invalid = config({{"min_bridges", 9}, {"max_bridges", 2}});
  invalid["scaling"]["scale_up_treshold"] = 0.5;
  write_config(invalid);
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  ASSERT_TRUE(eventually(
      [&] { return log_text().find("keeping the running configuration") != std::string::npos; },
      10))
      << agent_log();
  EXPECT_NE(log_text().find("scale_up_treshold"), std::string::npos) << agent_log();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const json after = status();
  EXPECT_EQ(after["min"], 3) << after.dump();
  EXPECT_EQ(after["max"], 4) << after.dump();
  EXPECT_EQ(instances().size(), 2u);
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  EXPECT_TRUE(daemon_alive());
  expect_no_orphans();
  row_.outcome = "fleet grew to min 3 (2 created); invalid reload refused, old bounds kept";
}

// Rows 11-16: issue 15, against bridges as JVB behaves (use_realistic_bridges: no instant
// drain, meetings last their whole length, a drain only stops new conferences).

// 11. A drained bridge holds a long meeting: it is not deleted while the meeting runs; at the
// drain timeout it is shut down gracefully (POST /colibri/shutdown), leaves the brewery, and
// only then is its instance deleted.
TEST_F(FaultMatrix, LongMeetingOnDrainedBridgeIsShutDownGracefullyThenDeleted) {
  begin_row(11, "drained bridge holds a 10-minute meeting (drain timeout 8 s)", 30);
  use_realistic_bridges("--meeting 3:600");
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 2}, {"drain_timeout_seconds", 8}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 30)) << agent_log();
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 1}}).value("ok", false));
  ASSERT_TRUE(eventually([&] { return sim_state("jvb-as-1").value("drain", false); }, 15))
      << agent_log();
  const auto drained_at = SteadyClock::now();
  // The meeting runs on: no DELETE before the drain timeout.
  while (seconds_since(drained_at) < 7) {
    ASSERT_EQ(requests(kDeleteRoute), 0u) << agent_log();
    ASSERT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(sim_state("jvb-as-1").value("participants", 0), 3);
  const auto took = converge([&] { return instances().empty(); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(drained_at);
  EXPECT_GE(*row_.converged_seconds, 8.0);
  const std::string sim = sim_log("jvb-as-1");
  EXPECT_NE(sim.find("shutdown requested over HTTP (graceful=true)"), std::string::npos) << sim;
  EXPECT_NE(sim.find("shutdown complete, leaving the brewery"), std::string::npos) << sim;
  EXPECT_EQ(sim.find("stopped by signal"), std::string::npos)
      << "the instance was deleted before its bridge left the brewery:\n"
      << sim;
  const size_t left = log_at("bridge jvb-as-1 left the brewery");
  const size_t deleting = log_at("deleting bridge jvb-as-1 (Linode");
  ASSERT_NE(left, std::string::npos) << agent_log();
  ASSERT_NE(deleting, std::string::npos) << agent_log();
  EXPECT_LT(left, deleting) << agent_log();
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "no DELETE while the meeting ran; graceful shutdown at 8 s, left, then deleted";
}

// 12. The stale-presence race: the first presence after the drain says 0 participants, then a
// meeting lands on the bridge (Jicofo placed it before the drain took effect). Empty needs two
// consecutive presences (drain = true, 0 participants, 0 conferences) a stats interval apart:
// the bridge is deleted only after that meeting ends.
TEST_F(FaultMatrix, StaleEmptyPresenceAfterDrainDoesNotDeleteAMeeting) {
  begin_row(12, "first presence after the drain says 0, then a 8 s meeting lands", 40);
  use_realistic_bridges("", /*stats_interval_seconds=*/2);
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 2}, {"drain_timeout_seconds", 60}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 30)) << agent_log();
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 1}}).value("ok", false));
  int64_t published_at_drain = -1;
  const auto wait_start = SteadyClock::now();
  while (published_at_drain < 0 && seconds_since(wait_start) < 15) {
    const json state = sim_state("jvb-as-1");
    if (state.value("drain", false)) published_at_drain = state.value("published", int64_t{0});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(published_at_drain, 0) << agent_log();
  // The next presence (drain = true, 0 participants, 0 conferences) is the stale "empty".
  ASSERT_TRUE(eventually(
      [&] { return sim_state("jvb-as-1").value("published", int64_t{0}) > published_at_drain; },
      5));
  ASSERT_EQ(sim_post("jvb-as-1", "/sim/meeting", {{"participants", 3}, {"seconds", 8}}), 200);
  const auto meeting_at = SteadyClock::now();
  bool deleted_during_meeting = false;
  const auto took = converge(
      [&] {
        const bool gone = instances().empty();
        if (!gone && sim_state("jvb-as-1").value("participants", 0) > 0) return false;
        deleted_during_meeting = deleted_during_meeting || (gone && seconds_since(meeting_at) < 8);
        return gone;
      },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(meeting_at);
  EXPECT_FALSE(deleted_during_meeting) << agent_log();
  EXPECT_GE(*row_.converged_seconds, 8.0) << agent_log();
  EXPECT_TRUE(deleted_when_empty("jvb-as-1")) << agent_log();
  EXPECT_EQ(sim_log("jvb-as-1").find("stopped by signal with 3"), std::string::npos);
  row_.outcome = "not deleted on the stale 0; deleted empty after the meeting ended";
}

// 13. The bridge restarts mid-drain (JVB keeps drain mode in memory only): it leaves the
// brewery and rejoins with drain = false. The agent keeps the instance (it is "lost" while out,
// not deleted on the spot) and sends the drain again once it is back (issue 15.1).
TEST_F(FaultMatrix, BridgeRestartMidDrainIsDrainedAgain) {
  begin_row(13, "bridge restarts mid-drain (rejoins with drain = false)", 40);
  use_realistic_bridges("--meeting 3:600");
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 2}, {"drain_timeout_seconds", 60}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 30)) << agent_log();
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 1}}).value("ok", false));
  ASSERT_TRUE(eventually(
      [&] {
        return log_at("bridge jvb-as-1 publishes drain = true: the drain took effect") !=
               std::string::npos;
      },
      20))
      << agent_log();
  ASSERT_EQ(sim_post("jvb-as-1", "/sim/restart", json::object()), 200);
  const auto restarted_at = SteadyClock::now();
  const auto took = converge(
      [&] {
        return count_of(sim_log("jvb-as-1"), "drain enabled over HTTP") >= 2 &&
               sim_state("jvb-as-1").value("drain", false);
      },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log() << "\n" << sim_log("jvb-as-1");
  row_.converged_seconds = seconds_since(restarted_at);
  EXPECT_NE(log_at("bridge jvb-as-1 publishes drain = false after its drain took effect"),
            std::string::npos)
      << agent_log();
  EXPECT_EQ(requests(kDeleteRoute), 0u) << "deleted on the restart instead of drained again";
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "drain = false after the restart seen; drain request sent again";
}

// 14. An unhealthy bridge (healthy = false) is not ready capacity and, past
// scaling.unhealthy_timeout_seconds, is replaced: a new bridge first, then the delete.
TEST_F(FaultMatrix, UnhealthyBridgeIsNotCapacityAndIsReplaced) {
  begin_row(14, "bridge publishes healthy = false (unhealthy timeout 4 s)", 40);
  use_realistic_bridges();
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 2}, {"unhealthy_timeout_seconds", 4}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 30)) << agent_log();
  ASSERT_EQ(sim_post("jvb-as-1", "/sim/health", {{"healthy", false}}), 200);
  const auto start = SteadyClock::now();
  ASSERT_TRUE(eventually([&] { return bridge_state("jvb-as-1") == "unhealthy"; }, 10))
      << agent_log();
  // The mean stress of the next period leaves it out: only jvb1 (10 participants) counts.
  EXPECT_TRUE(
      eventually([&] { return std::abs(status().value("cluster_stress", -1.0) - 0.1) < 0.011; }, 3))
      << "only jvb1 is capacity " << status().dump();
  const auto took = converge(
      [&] { return ready("jvb-as-2") && labels() == std::vector<std::string>{"jvb-as-2"}; },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  const size_t created = log_at("creating bridge jvb-as-2");
  const size_t deleting = log_at("deleting bridge jvb-as-1 (Linode");
  ASSERT_NE(created, std::string::npos) << agent_log();
  ASSERT_NE(deleting, std::string::npos) << agent_log();
  EXPECT_LT(created, deleting) << "deleted before its replacement was created\n" << agent_log();
  expect_no_orphans();
  row_.outcome = "unhealthy, not in the mean stress; replaced by jvb-as-2, then deleted";
}

// 15. A bridge with JVB's stats filter on publishes no participants and no conferences: it
// still counts by stress, and its drain ends by graceful shutdown, never by a guess.
TEST_F(FaultMatrix, BridgeWithoutParticipantsCountsByStressAndEndsByShutdown) {
  begin_row(15, "bridges publish the stats-filter whitelist only (no participants)", 30);
  use_realistic_bridges("--stats-filter --meeting 3:600");
  start_static_bridge(10);
  start_daemon(config({{"min_bridges", 2}, {"drain_timeout_seconds", 8}}));
  ASSERT_TRUE(eventually([&] { return ready("jvb-as-1"); }, 30)) << agent_log();
  const auto entry = bridge("jvb-as-1");
  ASSERT_TRUE(entry);
  EXPECT_TRUE((*entry)["participants"].is_null()) << entry->dump();
  EXPECT_TRUE((*entry)["stress"].is_number()) << entry->dump();
  EXPECT_TRUE(status()["cluster_stress"].is_number()) << status().dump();
  ASSERT_TRUE(ctl({{"cmd", "set"}, {"key", "min"}, {"n", 1}}).value("ok", false));
  ASSERT_TRUE(eventually([&] { return sim_state("jvb-as-1").value("drain", false); }, 15))
      << agent_log();
  const auto drained_at = SteadyClock::now();
  const auto took = converge([&] { return instances().empty(); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(drained_at);
  EXPECT_GE(*row_.converged_seconds, 7.5) << "the drain ended before its timeout: a guess";
  const std::string sim = sim_log("jvb-as-1");
  EXPECT_NE(sim.find("shutdown requested over HTTP (graceful=true)"), std::string::npos) << sim;
  EXPECT_EQ(sim.find("stopped by signal"), std::string::npos) << sim;
  EXPECT_FALSE(deleted_when_empty("jvb-as-1")) << agent_log();
  row_.outcome = "counted by stress; drain ended by graceful shutdown at the timeout";
}

// 16. The brewery spelled with capitals in the agent's config (as Jicofo's files spell it):
// Prosody lower-cases the room's address; the agent still sees its bridges join.
TEST_F(FaultMatrix, BreweryWithCapitalsSeesBridgesJoin) {
  begin_row(16, "brewery address with capitals in the config", 30);
  use_realistic_bridges();
  start_static_bridge(10);
  std::string brewery = prosody_->brewery();
  const size_t at = brewery.find('@');
  ASSERT_NE(at, std::string::npos);
  brewery.replace(0, at, "JvbBrewery");
  for (size_t i = brewery.find('@') + 1; i < brewery.size(); ++i) {
    if (brewery[i - 1] == '@' || brewery[i - 1] == '.') {
      brewery[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(brewery[i])));
    }
  }
  ASSERT_NE(brewery, prosody_->brewery());
  json configuration = config({{"min_bridges", 2}, {"boot_timeout_seconds", 15}});
  configuration["xmpp"]["brewery"] = brewery;
  const auto start = SteadyClock::now();
  start_daemon(configuration);
  const auto took = converge(
      [&] { return ready("jvb-as-1") && bridge_state("jvb1") == "unmanaged"; }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  EXPECT_EQ(requests(kDeleteRoute), 0u) << agent_log();
  EXPECT_EQ(log_text().find("boot_timeout"), std::string::npos) << agent_log();
  row_.outcome = "config says " + brewery + ": jvb1 and jvb-as-1 seen, nothing deleted";
}

// 17. Issue 16: a region without the Metadata capability (cloud-init would never see the user
// data, so every bridge bought there would never join). The runtime preflight finds it at start:
// nothing is created, `ctl status` says why, preflight_ok is 0, and the problem is logged once.
TEST_F(FaultMatrix, RegionWithoutMetadataCreatesNothingAndSaysWhy) {
  begin_row(17, "region without Metadata (runtime preflight)", 20);
  auto fake = fake_options();
  fake.extra_args = {"--region-without-metadata", "us-lax"};
  start_fake(fake);
  write("cloud-init.yaml", "#cloud-config\nruncmd: [\"true\"]");
  json configuration = config({{"min_bridges", 1}});
  configuration["linode"]["user_data_file"] = (dir_->path() / "cloud-init.yaml").string();
  start_daemon(configuration);
  const auto start = SteadyClock::now();
  std::string problem;
  const auto took = converge(
      [&] {
        const json now = status();
        const json problems = now.value("preflight_problems", json::array());
        if (now.value("preflight_ok", true) || problems.empty()) return false;
        problem = problems[0].get<std::string>();
        return true;
      },
      row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  std::this_thread::sleep_for(std::chrono::seconds(4));  // four periods that want a bridge
  EXPECT_EQ(requests(kCreateRoute), 0u) << agent_log();
  EXPECT_TRUE(instances().empty());
  EXPECT_EQ(problem.rfind("linode.region: region \"us-lax\" lacks the Metadata capability", 0), 0u)
      << problem;
  EXPECT_NE(metrics_text().find("jvb_autoscaler_preflight_ok 0"), std::string::npos);
  const std::string log = log_text();
  const std::string logged = "Linode preflight: linode.region: region \"us-lax\"";
  const size_t first = log.find(logged);
  EXPECT_NE(first, std::string::npos) << agent_log();
  EXPECT_EQ(log.find(logged, first + 1), std::string::npos) << "logged once, not every period";
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "no create in 4 periods; ctl status: " + problem.substr(0, 60) + "...";
}

// 18. Issue 16: every boot fails (wrong image, region or user data): after
// scaling.max_failed_boots boots that never joined, creation is suspended instead of buying a
// bridge every boot timeout forever; ctl status and the metric say so.
TEST_F(FaultMatrix, BridgesThatNeverJoinStopBeingBoughtAfterMaxFailedBoots) {
  begin_row(18, "every boot fails (max_failed_boots 2, boot timeout 3 s)", 40);
  auto dead_boot = fake_options();
  dead_boot.on_create = "true";
  start_fake(dead_boot);
  start_static_bridge(20);
  start_daemon(config({{"min_bridges", 2}, {"boot_timeout_seconds", 3}, {"max_failed_boots", 2}}));
  const auto start = SteadyClock::now();
  const auto took =
      converge([&] { return status().value("creation_suspended", false); }, row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  std::this_thread::sleep_for(std::chrono::seconds(8));  // more than two further boot timeouts
  EXPECT_EQ(requests(kCreateRoute), 2u) << agent_log();
  const json suspended = status();
  EXPECT_NE(suspended.value("creation_suspended_reason", json())
                .dump()
                .find("2 boots in a row never joined"),
            std::string::npos)
      << suspended.dump();
  EXPECT_NE(metrics_text().find("jvb_autoscaler_creation_suspended 1"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return instances().empty(); }, 10)) << agent_log();
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "2 creates, then suspended (no create in 8 s); both failed boots deleted";
}

// 19. Issue 16: Prosody hangs with its socket open (SIGSTOP) for longer than the boot timeout.
// The XMPP ping finds it dead, the agent is blind, and the boot clock of the provisioning
// bridge stops: nothing is deleted as a failed boot. After SIGCONT the bridge joins.
TEST_F(FaultMatrix, FrozenProsodyPastTheBootTimeoutDeletesNothing) {
  begin_row(19, "Prosody frozen (SIGSTOP) 9 s, boot timeout 6 s", 45);
  auto slow_boot = fake_options();
  slow_boot.hook_delay_seconds = 4;  // still provisioning when Prosody hangs
  start_fake(slow_boot);
  start_static_bridge(20);
  json configuration = config({{"min_bridges", 2}, {"boot_timeout_seconds", 6}});
  configuration["xmpp"]["ping_interval_seconds"] = 1;
  configuration["xmpp"]["ping_timeout_seconds"] = 1;
  start_daemon(configuration);
  ASSERT_TRUE(eventually([&] { return instances().size() == 1; }, 30)) << agent_log();
  ASSERT_EQ(bridge_state("jvb-as-1"), "provisioning");
  const pid_t group = prosody_->pid();
  ASSERT_GT(group, 0);
  ASSERT_EQ(::kill(-group, SIGSTOP), 0);
  struct Thaw {
    pid_t group;
    bool done = false;
    void operator()() {
      if (!done) ::kill(-group, SIGCONT);
      done = true;
    }
    ~Thaw() { (*this)(); }
  } thaw{group};
  ASSERT_TRUE(eventually([&] { return !status().value("xmpp_connected", true); }, 10))
      << "the hung server was not noticed\n"
      << agent_log();
  std::this_thread::sleep_for(std::chrono::seconds(9));  // past the 6 s boot timeout
  EXPECT_EQ(requests(kDeleteRoute), 0u) << agent_log();
  EXPECT_EQ(labels(), std::vector<std::string>{"jvb-as-1"});
  thaw();
  const auto start = SteadyClock::now();
  const auto took =
      converge([&] { return ready("jvb-as-1") && status().value("xmpp_connected", false); },
               row_.bound_seconds);
  ASSERT_TRUE(took) << agent_log();
  row_.converged_seconds = seconds_since(start);
  EXPECT_EQ(requests(kCreateRoute), 1u);
  EXPECT_EQ(requests(kDeleteRoute), 0u);
  EXPECT_TRUE(daemon_alive());
  row_.outcome = "blind within the ping timeout; 0 DELETE while frozen; jvb-as-1 joined after";
}

// Prints the matrix collected from the rows the tests above wrote (ctest runs it last).
TEST(FaultMatrixSummary, PrintsTheMatrix) {
  std::vector<std::string> rows;
  bool all_passed = true;
  int missing = 0;
  for (int number = 1; number <= 19; ++number) {
    const fs::path file = results_dir() / ("row-" + std::string(number < 10 ? "0" : "") +
                                           std::to_string(number) + ".md");
    std::string line = read_file(file);
    if (line.empty()) {
      ++missing;
      line = "| " + std::to_string(number) + " | (not run) | - | - |\n";
    }
    all_passed = all_passed && line.find("| FAIL") == std::string::npos;
    rows.push_back(line);
  }
  std::cout << "\n| # | fault | outcome | converged in |\n|---|---|---|---|\n";
  for (const auto& line : rows) std::cout << line;
  std::cout << std::endl;
  EXPECT_TRUE(all_passed) << "a row of the fault matrix failed";
  if (missing > 0) std::cout << missing << " row(s) not run in this build" << std::endl;
}

}  // namespace
