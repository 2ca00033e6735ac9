// `jvb-autoscaler ctl`, run as the built binary in a child process against a real
// ControlServer with a canned handler: the request it sends, what it prints, its exit code.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/control_server.h"
#include "agent/state_store.h"
#include "test_util.h"

extern char** environ;

namespace agent {
namespace {

using agent_infra_test::TempDir;
using nlohmann::json;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream input(path);
  std::ostringstream content;
  content << input.rdbuf();
  return content.str();
}

// Runs the binary with `args`; kills it if it runs longer than 20 s (a failure).
Outcome run_binary(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), JVB_AUTOSCALER_BINARY);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const auto out_file = dir / "stdout.txt";
  const auto err_file = dir / "stderr.txt";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Outcome outcome;
  if (spawned != 0) {
    ADD_FAILURE() << "cannot start " << argv[0];
    return outcome;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "ctl did not finish within 20 s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  outcome.out = slurp(out_file);
  outcome.err = slurp(err_file);
  return outcome;
}

// A daemon stand-in: a real ControlServer answering with a canned reply and recording requests.
class FakeDaemon {
 public:
  FakeDaemon(std::filesystem::path path, json reply)
      : reply_(std::move(reply)), work_(boost::asio::make_work_guard(io_)) {
    server_ = std::make_unique<ControlServer>(io_, std::move(path), [this](const json& request) {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      return reply_;
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeDaemon() {
    std::promise<void> closed;
    boost::asio::post(io_, [&] {
      server_->close();
      closed.set_value();
    });
    closed.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  std::vector<json> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  json reply_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<json> requests_;
};

const json kStatus = json::parse(R"({"ok":true,"paused":false,"override":null,"min":1,"max":10,
  "desired":3,"cluster_stress":0.41,"xmpp_connected":true,"linode_ok":true,"blind_reason":null,
  "schedule":null,"last_decisions":[{"time":"2026-11-24T10:00:05Z","action":"scale_up",
  "reason":"stress 0.82 above 0.70"}],
  "bridges":[{"name":"jvb-as-3","state":"ready","stress":0.52,"participants":31,
              "conferences":4,"managed":true,"linode_id":1234}]})");

TEST(Ctl, StatusSendsOneStatusRequestAndPrintsTheTable) {
  TempDir dir;
  const auto socket = dir / "control.sock";
  FakeDaemon daemon(socket, kStatus);
  auto outcome = run_binary(dir, {"ctl", "--socket", socket.string(), "status"});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(outcome.out,
            "BRIDGE    STATE  STRESS  PARTICIPANTS  CONFERENCES  MANAGED  LINODE_ID\n"
            "jvb-as-3  ready    0.52            31            4  yes           1234\n"
            "\n"
            "desired 3 (min 1, max 10), override none (automatic), paused no\n"
            "cluster stress 0.41, xmpp connected yes, linode ok yes\n"
            "last decisions:\n"
            "  2026-11-24T10:00:05Z  scale_up  stress 0.82 above 0.70\n");
  EXPECT_EQ(daemon.requests(), (std::vector<json>{json{{"cmd", "status"}}}));
}

TEST(Ctl, StatusJsonPrintsTheReplyAsIs) {
  TempDir dir;
  const auto socket = dir / "control.sock";
  FakeDaemon daemon(socket, kStatus);
  auto outcome = run_binary(dir, {"ctl", "--socket", socket.string(), "status", "--json"});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out, kStatus.dump() + "\n");
}

TEST(Ctl, EachSubcommandSendsItsRequestAndPrintsOneSentence) {
  struct Case {
    std::vector<std::string> args;
    json expected_request;
    json reply;
    std::string expected_output;
  };
  const std::vector<Case> cases = {
      {{"scale-to", "12"},
       {{"cmd", "scale-to"}, {"n", 12}},
       {{"ok", true}, {"override", 10}, {"requested", 12}, {"min", 1}, {"max", 10}},
       "desired count pinned to 10 (clamped from 12 to max 10)\n"},
      {{"set", "min", "2"},
       {{"cmd", "set"}, {"key", "min"}, {"n", 2}},
       {{"ok", true}, {"key", "min"}, {"n", 2}, {"min", 2}, {"max", 10}},
       "min_bridges set to 2 (bounds now 2..10)\n"},
      {{"drain", "jvb-as-3"},
       {{"cmd", "drain"}, {"bridge", "jvb-as-3"}},
       {{"ok", true}, {"bridge", "jvb-as-3"}},
       "draining jvb-as-3: it will be deleted once empty\n"},
      {{"resume"}, {{"cmd", "resume"}}, {{"ok", true}, {"paused", false}}, "scaling resumed\n"},
      {{"auto"},
       {{"cmd", "auto"}},
       {{"ok", true}, {"override", nullptr}},
       "override removed: back to automatic scaling\n"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const auto socket = dir / "control.sock";
    FakeDaemon daemon(socket, c.reply);
    std::vector<std::string> args = {"ctl", "--socket", socket.string()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto outcome = run_binary(dir, args);
    EXPECT_EQ(outcome.exit_code, 0) << c.args[0] << ": " << outcome.err;
    EXPECT_EQ(outcome.out, c.expected_output) << c.args[0];
    EXPECT_EQ(daemon.requests(), (std::vector<json>{c.expected_request})) << c.args[0];
  }
}

TEST(Ctl, TheRequestIsExactlyOneJsonLine) {
  // A bare listening socket (not ControlServer) to see the raw bytes ctl writes.
  TempDir dir;
  const auto path = dir / "raw.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  auto received = std::async(std::launch::async, [listener] {
    int client = ::accept(listener, nullptr, nullptr);
    timeval timeout{10, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string bytes;
    char buffer[256];
    while (bytes.find('\n') == std::string::npos) {
      ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      bytes.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string reply = "{\"ok\":true}\n";
    (void)!::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(client);
    return bytes;
  });
  auto outcome = run_binary(dir, {"ctl", "--socket", path.string(), "set", "max", "7"});
  EXPECT_EQ(received.get(), "{\"cmd\":\"set\",\"key\":\"max\",\"n\":7}\n");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out, "max_bridges set to 7\n");
  ::close(listener);
}

TEST(Ctl, ARefusalGoesToStderrWithExitCode1) {
  TempDir dir;
  const auto socket = dir / "control.sock";
  FakeDaemon daemon(socket, {{"ok", false}, {"error", "bridge jvb1 is not managed by this agent"}});
  auto outcome = run_binary(dir, {"ctl", "--socket", socket.string(), "drain", "jvb1"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "jvb-autoscaler: bridge jvb1 is not managed by this agent\n");
}

TEST(Ctl, NoDaemonGivesOneClearSentenceAndExitCode1) {
  TempDir dir;
  const auto socket = dir / "run/control.sock";
  auto outcome = run_binary(dir, {"ctl", "--socket", socket.string(), "status"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "jvb-autoscaler: cannot reach jvb-autoscaler at " + socket.string() +
                             ": no such socket (is the daemon running? see `systemctl status "
                             "jvb-autoscaler`)\n");
}

TEST(Ctl, AStaleSocketIsReportedAsConnectionRefused) {
  TempDir dir;
  const auto path = dir / "control.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
  auto outcome = run_binary(dir, {"ctl", "--socket", path.string(), "pause"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.err, "jvb-autoscaler: cannot reach jvb-autoscaler at " + path.string() +
                             ": connection refused (is the daemon running? see `systemctl "
                             "status jvb-autoscaler`)\n");
}

// `run` writes diagnostics to stderr only (DESIGN section 3): a second daemon on a locked state
// file says so on stderr, exits 1, and prints nothing on stdout.
TEST(Run, LockHeldSentenceIsOnStderrAndStdoutStaysEmpty) {
  TempDir dir;
  std::ofstream(dir / "xmpp.pass") << "secret-xmpp\n";
  std::ofstream(dir / "linode.token") << "secret-token\n";
  ::chmod((dir / "xmpp.pass").c_str(), 0600);
  ::chmod((dir / "linode.token").c_str(), 0600);
  const json config = {{"xmpp",
                        {{"host", "127.0.0.1"},
                         {"port", 1},
                         {"domain", "meet.test"},
                         {"username", "autoscaler"},
                         {"password_file", (dir / "xmpp.pass").string()},
                         {"tls", "disabled"}}},
                       {"linode",
                        {{"api_url", "http://127.0.0.1:1"},
                         {"token_file", (dir / "linode.token").string()},
                         {"region", "us-lax"},
                         {"type", "g6-dedicated-2"},
                         {"image", "linode/debian12"},
                         {"user_data_file", nullptr}}},
                       {"metrics", {{"listen", "127.0.0.1:0"}}},
                       {"control", {{"socket", (dir / "control.sock").string()}}},
                       {"state_file", (dir / "state.json").string()}};
  std::ofstream(dir / "config.json") << config.dump(2);
  StateLock held(dir / "state.json");  // the first daemon

  const Outcome outcome = run_binary(dir, {"run", "--config", (dir / "config.json").string()});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_NE(outcome.err.find("holds the lock"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find((dir / "state.json.lock").string()), std::string::npos) << outcome.err;
  EXPECT_EQ(outcome.err.find("secret"), std::string::npos) << "no secret in diagnostics";
}

}  // namespace
}  // namespace agent
