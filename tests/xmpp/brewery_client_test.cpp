// BreweryClient against a real Prosody and real jvb-sim processes on loopback.
#include "xmpp/brewery_client.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "test_support/prosody_fixture.h"
#include "test_support/raw_xmpp_client.h"

namespace xmpp {
namespace {

using namespace std::chrono_literals;
using test_support::ChildProcess;
using test_support::ProsodyFixture;

constexpr const char* kAgentPassword = "agent-s3cret-pw";
constexpr const char* kJvbPassword = "jvb-pass";

// Thread-safe record of the events the client delivered.
class Recorder {
 public:
  void operator()(const Event& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    changed_.notify_all();
  }
  bool wait_for(const std::function<bool(const Event&)>& match, std::chrono::milliseconds timeout,
                size_t from = 0) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::any_of(events_.begin() + std::min(from, events_.size()), events_.end(), match);
    });
  }
  std::vector<Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  size_t size() {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> events_;
};

auto is(Event::Type type, const std::string& bridge = "") {
  return [=](const Event& e) { return e.type == type && (bridge.empty() || e.bridge == bridge); };
}

// The first recorded event of `type` for `bridge` at or after index `from`.
Event first(Recorder& recorder, Event::Type type, const std::string& bridge, size_t from = 0) {
  const std::vector<Event> events = recorder.events();
  const auto found =
      std::find_if(events.begin() + static_cast<std::ptrdiff_t>(std::min(from, events.size())),
                   events.end(), is(type, bridge));
  return found == events.end() ? Event{} : *found;
}

class BreweryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PROSODY();
    prosody_ = std::make_unique<ProsodyFixture>(test_support::ProsodyOptions{
        .domain = "meet.test",
        .accounts = {{"autoscaler", kAgentPassword}, {"jvb", kJvbPassword}, {"observer", "obs"}},
        .tls = false,
        .log_level = "warn"});
    prosody_->start();
  }

  ClientConfig config() const {
    ClientConfig config;
    config.host = prosody_->host();
    config.port = prosody_->port();
    config.domain = prosody_->auth_domain();
    config.username = "autoscaler";
    config.password = kAgentPassword;
    config.brewery = prosody_->room_jid();
    config.nickname = "jvb-autoscaler";
    config.tls = TlsMode::kDisabled;
    config.reconnect_initial_seconds = 0.2;
    config.reconnect_max_seconds = 1;
    return config;
  }

  std::unique_ptr<ChildProcess> start_sim(const std::string& nickname,
                                          std::vector<std::string> load_args,
                                          std::string brewery = "") {
    if (brewery.empty()) brewery = prosody_->room_jid();
    std::vector<std::string> argv = {JVB_SIM_PATH,
                                     "--port",
                                     std::to_string(prosody_->port()),
                                     "--domain",
                                     prosody_->auth_domain(),
                                     "--username",
                                     "jvb",
                                     "--password",
                                     kJvbPassword,
                                     "--brewery",
                                     brewery,
                                     "--nickname",
                                     nickname,
                                     "--tls",
                                     "disabled",
                                     "--interval",
                                     "0.2"};
    argv.insert(argv.end(), load_args.begin(), load_args.end());
    ChildProcess::Options options;
    options.log_file = prosody_->directory() + "/" + nickname + ".log";
    return std::make_unique<ChildProcess>(argv, options);
  }

  std::unique_ptr<ProsodyFixture> prosody_;
  Recorder recorder_;
};

TEST_F(BreweryClientTest, BridgesJoinWithTheirStats) {
  auto sim1 = start_sim("jvb-1", {"--participants", "10", "--conferences", "2"});
  auto sim2 =
      start_sim("jvb-2", {"--participants", "25", "--conferences", "5", "--region", "us-lax"});
  auto sim3 = start_sim("jvb-3", {"--participants", "0"});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kConnected), 10s));
  for (const char* bridge : {"jvb-1", "jvb-2", "jvb-3"}) {
    ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, bridge), 15s)) << bridge;
  }
  for (const Event& e : recorder_.events()) {
    if (e.type != Event::Type::kJoined) continue;
    if (e.bridge == "jvb-2") {
      EXPECT_EQ(e.stats.participants, 25);
      EXPECT_EQ(e.stats.conferences, 5);
      EXPECT_DOUBLE_EQ(*e.stats.stress_level, 0.25);
      EXPECT_EQ(e.stats.drain, false);
      EXPECT_EQ(e.stats.region, "us-lax");
    }
  }
  // kConnected precedes every bridge event, so a consumer can reset its view on it.
  const std::vector<Event> events = recorder_.events();
  EXPECT_EQ(events.front().type, Event::Type::kConnected);
  EXPECT_EQ(std::count_if(events.begin(), events.end(), is(Event::Type::kJoined)), 3);
}

// Jicofo's packaging (jitsi/jicofo debian/postinst) writes the brewery as
// JvbBrewery@internal.auth.<host>; Prosody prepares room addresses (util/jid.lua nodeprep) and
// answers from jvbbrewery@...: a config copied from Jicofo's files must still see the bridges.
TEST_F(BreweryClientTest, BreweryWithCapitalsSeesBridgesJoin) {
  auto lower = start_sim("jvb-lower", {"--participants", "7"});
  auto upper =
      start_sim("Jvb-Upper", {"--participants", "8"}, "JvbBrewery@Internal.Auth.Meet.Test");
  ClientConfig capitals = config();
  capitals.brewery = "JvbBrewery@Internal.Auth.Meet.Test";
  capitals.domain = "Auth.Meet.Test";
  BreweryClient client(capitals, std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kConnected), 10s));
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-lower"), 15s));
  // The nickname (resource) is kept exactly as the bridge spelled it.
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "Jvb-Upper"), 15s));
  upper->send_signal(SIGTERM);
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kLeft, "Jvb-Upper"), 10s));
}

// The processes of this test's own Prosody (runuser and prosody itself when run as root): those
// whose command line names the fixture's unique configuration file.
std::vector<pid_t> prosody_pids(const ProsodyFixture& prosody) {
  const std::string config_file = prosody.directory() + "/prosody.cfg.lua";
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(config_file) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

// Issue 16.4: a hung server keeps the socket open. The client pings it (XEP-0199) and counts
// the connection dead when a ping goes unanswered: disconnected within interval + timeout,
// no bridge reported left, and connected again once the server runs again.
TEST_F(BreweryClientTest, StoppedServerIsDetectedByPingAndReconnectedAfterResume) {
  auto sim = start_sim("jvb-ping", {"--participants", "3"});
  ClientConfig pinging = config();
  pinging.ping_interval_seconds = 1;
  pinging.ping_timeout_seconds = 1;
  BreweryClient client(pinging, std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-ping"), 15s));
  // Pings to a live server are answered: the connection stays up.
  std::this_thread::sleep_for(2500ms);
  for (const Event& e : recorder_.events()) ASSERT_NE(e.type, Event::Type::kDisconnected);

  const std::vector<pid_t> pids = prosody_pids(*prosody_);
  ASSERT_FALSE(pids.empty());
  struct Thaw {
    std::vector<pid_t> pids;
    void operator()() {
      for (pid_t pid : pids) ::kill(pid, SIGCONT);
      pids.clear();
    }
    ~Thaw() { (*this)(); }
  } thaw{pids};
  const size_t before_stop = recorder_.size();
  const auto stopped_at = std::chrono::steady_clock::now();
  for (pid_t pid : pids) ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kDisconnected), 5s, before_stop));
  const auto detected_after = std::chrono::steady_clock::now() - stopped_at;
  EXPECT_LE(detected_after, 2500ms) << "interval 1 s + timeout 1 s";
  const std::vector<Event> events = recorder_.events();
  const auto disconnected = std::find_if(events.begin() + static_cast<std::ptrdiff_t>(before_stop),
                                         events.end(), is(Event::Type::kDisconnected));
  ASSERT_NE(disconnected, events.end());
  EXPECT_NE(disconnected->message.find("no answer to XMPP ping within 1 s"), std::string::npos)
      << disconnected->message;

  const size_t before_resume = recorder_.size();
  thaw();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kConnected), 20s, before_resume));
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-ping"), 20s, before_resume));
  for (const Event& e : recorder_.events()) {
    EXPECT_NE(e.type, Event::Type::kLeft) << "bridge " << e.bridge << " reported left while blind";
  }
}

TEST_F(BreweryClientTest, StatsUpdatesArriveInOrder) {
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kConnected), 10s));
  auto sim = start_sim("jvb-ramp", {"--profile", "0:0,3:30"});
  ASSERT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.bridge == "jvb-ramp" && e.stats.participants == 30; }, 20s));
  std::vector<int64_t> seen;
  for (const Event& e : recorder_.events()) {
    if (e.bridge == "jvb-ramp" && e.stats.participants) seen.push_back(*e.stats.participants);
  }
  EXPECT_GE(seen.size(), 5u);  // a ramp, not one jump
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()))
      << "participants went backwards: " << testing::PrintToString(seen);
}

TEST_F(BreweryClientTest, BridgeLeavingIsReported) {
  auto stays = start_sim("jvb-stays", {"--participants", "1"});
  auto leaves = start_sim("jvb-leaves", {"--participants", "2"});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-leaves"), 15s));
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-stays"), 15s));
  leaves->send_signal(SIGTERM);
  EXPECT_EQ(leaves->wait(5s), 0) << "jvb-sim exits 0 on SIGTERM";
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kLeft, "jvb-leaves"), 5s));
  std::this_thread::sleep_for(500ms);
  for (const Event& e : recorder_.events()) {
    EXPECT_FALSE(e.type == Event::Type::kLeft && e.bridge == "jvb-stays");
  }
}

TEST_F(BreweryClientTest, ProsodyRestartReconnectsAndSeesBridgesAgainWithoutLeft) {
  auto sim1 = start_sim("jvb-a", {"--participants", "3"});
  auto sim2 = start_sim("jvb-b", {"--participants", "4"});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-a"), 15s));
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-b"), 15s));
  const size_t before_restart = recorder_.size();
  prosody_->restart();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kDisconnected), 10s, before_restart));
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kConnected), 20s, before_restart));
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-a"), 20s, before_restart));
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-b"), 20s, before_restart));
  for (const Event& e : recorder_.events()) {
    EXPECT_NE(e.type, Event::Type::kLeft) << "bridge " << e.bridge << " reported left while blind";
  }
}

TEST_F(BreweryClientTest, WrongPasswordGivesOneClearSentenceWithoutThePassword) {
  ClientConfig bad = config();
  bad.password = "definitely-wrong-pw";
  BreweryClient client(bad, std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kDisconnected), 10s));
  client.stop();
  const Event event = recorder_.events().front();
  EXPECT_EQ(event.type, Event::Type::kDisconnected);
  EXPECT_NE(event.message.find("authentication failed for autoscaler@auth.meet.test"),
            std::string::npos)
      << event.message;
  for (const Event& e : recorder_.events()) {
    EXPECT_EQ(e.message.find("definitely-wrong-pw"), std::string::npos);
    EXPECT_NE(e.type, Event::Type::kConnected);
  }
}

TEST_F(BreweryClientTest, TlsRequiredAgainstPlainServerIsAClearError) {
  ClientConfig tls = config();
  tls.tls = TlsMode::kRequired;
  BreweryClient client(tls, std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kDisconnected), 10s));
  client.stop();
  EXPECT_NE(recorder_.events().front().message.find("does not offer STARTTLS"), std::string::npos)
      << recorder_.events().front().message;
}

TEST_F(BreweryClientTest, ConnectionRefusedIsAClearErrorAndRetried) {
  ClientConfig refused = config();
  refused.port = test_support::free_loopback_port();
  BreweryClient client(refused, std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kDisconnected), 10s));
  EXPECT_NE(recorder_.events().front().message.find("refused"), std::string::npos)
      << recorder_.events().front().message;
  EXPECT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.type == Event::Type::kDisconnected; }, 5s, 1));  // retried
}

TEST_F(BreweryClientTest, OwnPresenceCarriesNoColibriStatsAndObserversAreNotBridges) {
  test_support::RawXmppClient observer(prosody_->host(), prosody_->port(),
                                       "observer@" + prosody_->auth_domain(), "obs");
  ASSERT_TRUE(observer.wait_connected(10s));
  observer.join(prosody_->room_jid(), "observer");
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  const std::string our_jid = prosody_->room_jid() + "/jvb-autoscaler";
  ASSERT_TRUE(observer.wait_for_presence(
      [&](const std::string& p) { return p.find(our_jid) != std::string::npos; }, 10s));
  for (const std::string& p : observer.presences()) {
    if (p.find(our_jid) != std::string::npos) {
      EXPECT_EQ(p.find("colibri"), std::string::npos) << p;
      EXPECT_FALSE(parse_presence(p));
    }
  }
  std::this_thread::sleep_for(300ms);
  for (const Event& e : recorder_.events()) {
    EXPECT_NE(e.type, Event::Type::kJoined) << "observer taken for a bridge: " << e.bridge;
  }
}

TEST_F(BreweryClientTest, NicknameConflictRetriesWithSuffix) {
  test_support::RawXmppClient squatter(prosody_->host(), prosody_->port(),
                                       "observer@" + prosody_->auth_domain(), "obs");
  ASSERT_TRUE(squatter.wait_connected(10s));
  squatter.join(prosody_->room_jid(), "jvb-autoscaler");
  ASSERT_TRUE(squatter.wait_for_presence(
      [](const std::string& p) { return p.find("/jvb-autoscaler") != std::string::npos; }, 10s));
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  EXPECT_TRUE(squatter.wait_for_presence(
      [](const std::string& p) { return p.find("/jvb-autoscaler-2") != std::string::npos; }, 10s));
  EXPECT_EQ(client.current_nickname(), "jvb-autoscaler-2");
}

// POSTs `body` (JSON) to jvb-sim's HTTP port; returns the HTTP status, or -1.
int post(int port, const std::string& path, const std::string& body = "") {
  const auto result =
      test_support::run_command({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X",
                                 "POST", "-H", "Content-Type: application/json", "--data", body,
                                 "http://127.0.0.1:" + std::to_string(port) + path});
  try {
    return result.exit_code == 0 ? std::stoi(result.output) : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

// jvb-sim drains like JVB (Videobridge.java setDrainMode): the flag stops new conferences and
// nothing else; conferences on the bridge keep their participants and keep receiving new ones.
TEST_F(BreweryClientTest, DrainStopsNothingOnTheBridgeAndKeepsTakingParticipants) {
  const int http_port = test_support::free_loopback_port();
  auto sim = start_sim("jvb-drain", {"--participants", "40", "--conferences", "4", "--http",
                                     "127.0.0.1:" + std::to_string(http_port)});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-drain"), 15s));
  ASSERT_TRUE(test_support::wait_for_port("127.0.0.1", http_port, 5s));
  ASSERT_EQ(post(http_port, "/colibri/drain/enable"), 200);
  ASSERT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.bridge == "jvb-drain" && e.stats.drain == true; }, 5s));
  std::this_thread::sleep_for(1s);  // five ticks: the meetings are still there
  ASSERT_EQ(post(http_port, "/sim/load", R"({"participants":55,"conferences":4})"), 200);
  EXPECT_TRUE(recorder_.wait_for(
      [](const Event& e) {
        return e.bridge == "jvb-drain" && e.stats.drain == true && e.stats.participants == 55;
      },
      5s));
  for (const Event& e : recorder_.events()) {
    if (e.bridge == "jvb-drain" && e.stats.drain == true) {
      EXPECT_GE(e.stats.participants.value_or(-1), 40) << "a drain moved participants";
    }
  }
  ASSERT_EQ(post(http_port, "/colibri/drain/disable"), 200);
  EXPECT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.bridge == "jvb-drain" && e.stats.drain == false; }, 5s,
      recorder_.size()));
}

// POST /colibri/shutdown as JVB's Shutdown.java + ShutdownManager.kt: graceful-shutdown is
// required; GRACEFUL_SHUTDOWN holds while participants stay; at 0 SHUTTING_DOWN, then the
// bridge leaves the brewery. A restart forgets drain mode; health is published.
TEST_F(BreweryClientTest, ShutdownRestartAndHealthLikeJvb) {
  const int http_port = test_support::free_loopback_port();
  auto sim = start_sim("jvb-life", {"--participants", "12", "--conferences", "2", "--http",
                                    "127.0.0.1:" + std::to_string(http_port),
                                    "--shutting-down-seconds", "0.6", "--restart-seconds", "0.3"});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-life"), 15s));
  ASSERT_TRUE(test_support::wait_for_port("127.0.0.1", http_port, 5s));
  EXPECT_EQ(first(recorder_, Event::Type::kJoined, "jvb-life").stats.healthy, true);

  // Unhealthy, then healthy again.
  ASSERT_EQ(post(http_port, "/sim/health", R"({"healthy":false})"), 200);
  ASSERT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.bridge == "jvb-life" && e.stats.healthy == false; }, 5s));
  ASSERT_EQ(post(http_port, "/sim/health", R"({"healthy":true})"), 200);

  // A restart mid-drain: the bridge leaves, comes back with drain = false and no conference.
  ASSERT_EQ(post(http_port, "/colibri/drain/enable"), 200);
  ASSERT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.bridge == "jvb-life" && e.stats.drain == true; }, 5s));
  size_t mark = recorder_.size();
  ASSERT_EQ(post(http_port, "/sim/restart"), 200);
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kLeft, "jvb-life"), 5s, mark));
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-life"), 10s, mark));
  const Event rejoined = first(recorder_, Event::Type::kJoined, "jvb-life", mark);
  EXPECT_EQ(rejoined.stats.drain, false) << "drain mode survived a restart";
  EXPECT_EQ(rejoined.stats.participants, 0);

  // Shutdown: the body is required.
  EXPECT_EQ(post(http_port, "/colibri/shutdown", ""), 400);
  EXPECT_EQ(post(http_port, "/colibri/shutdown", "{}"), 400);
  ASSERT_EQ(post(http_port, "/sim/load", R"({"participants":9,"conferences":1})"), 200);
  mark = recorder_.size();
  ASSERT_EQ(post(http_port, "/colibri/shutdown", R"({"graceful-shutdown":true})"), 200);
  ASSERT_TRUE(recorder_.wait_for(
      [](const Event& e) {
        return e.bridge == "jvb-life" && e.stats.graceful_shutdown == true &&
               e.stats.shutting_down == false && e.stats.participants == 9;
      },
      5s, mark));
  std::this_thread::sleep_for(1s);  // it moves nobody and stays while its meeting runs
  EXPECT_FALSE(recorder_.wait_for(is(Event::Type::kLeft, "jvb-life"), 10ms, mark));
  ASSERT_EQ(post(http_port, "/sim/load", R"({"participants":0,"conferences":0})"), 200);
  EXPECT_TRUE(recorder_.wait_for(
      [](const Event& e) { return e.bridge == "jvb-life" && e.stats.shutting_down == true; }, 5s,
      mark));
  EXPECT_TRUE(recorder_.wait_for(is(Event::Type::kLeft, "jvb-life"), 5s, mark));
  EXPECT_EQ(sim->wait(5s), 0) << "a shut-down bridge exits 0";
}

TEST_F(BreweryClientTest, MeetingFromTheCommandLineLastsItsLengthThroughADrain) {
  const int http_port = test_support::free_loopback_port();
  auto sim = start_sim("jvb-meeting", {"--participants", "3", "--conferences", "1", "--meeting",
                                       "7:3", "--http", "127.0.0.1:" + std::to_string(http_port)});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-meeting"), 15s));
  EXPECT_EQ(first(recorder_, Event::Type::kJoined, "jvb-meeting").stats.participants, 10);
  ASSERT_TRUE(test_support::wait_for_port("127.0.0.1", http_port, 5s));
  ASSERT_EQ(post(http_port, "/colibri/drain/enable"), 200);
  EXPECT_TRUE(recorder_.wait_for(
      [](const Event& e) {
        return e.bridge == "jvb-meeting" && e.stats.drain == true && e.stats.participants == 3 &&
               e.stats.conferences == 1;
      },
      10s))
      << "the meeting did not end at its end";
}

TEST_F(BreweryClientTest, StatsFilterPublishesNoParticipants) {
  auto sim = start_sim("jvb-filtered", {"--participants", "30", "--stats-filter"});
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kJoined, "jvb-filtered"), 15s));
  const Event joined = first(recorder_, Event::Type::kJoined, "jvb-filtered");
  EXPECT_DOUBLE_EQ(joined.stats.stress_level.value_or(-1), 0.3);
  EXPECT_EQ(joined.stats.participants, std::nullopt);
  EXPECT_EQ(joined.stats.conferences, std::nullopt);
  EXPECT_EQ(joined.stats.local_endpoints, std::nullopt);
  EXPECT_EQ(joined.stats.healthy, true);
  EXPECT_EQ(joined.stats.drain, false);
}

TEST_F(BreweryClientTest, StopIsBoundedAndLeavesTheRoom) {
  test_support::RawXmppClient observer(prosody_->host(), prosody_->port(),
                                       "observer@" + prosody_->auth_domain(), "obs");
  ASSERT_TRUE(observer.wait_connected(10s));
  observer.join(prosody_->room_jid(), "observer");
  BreweryClient client(config(), std::ref(recorder_));
  client.start();
  ASSERT_TRUE(recorder_.wait_for(is(Event::Type::kConnected), 10s));
  ASSERT_TRUE(observer.wait_for_presence(
      [](const std::string& p) { return p.find("/jvb-autoscaler") != std::string::npos; }, 10s));
  const auto start = std::chrono::steady_clock::now();
  client.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(observer.wait_for_presence(
      [](const std::string& p) {
        return p.find("/jvb-autoscaler") != std::string::npos &&
               p.find("unavailable") != std::string::npos;
      },
      5s));
}

}  // namespace
}  // namespace xmpp
