// Control socket server over real Unix sockets in a temporary directory.
#include "agent/control_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "test_util.h"

namespace agent {
namespace {

using agent_infra_test::TempDir;
using agent_infra_test::UnixClient;
using nlohmann::json;

// Runs a ControlServer on its own io_context thread; the handler echoes the request.
class ServerFixture {
 public:
  explicit ServerFixture(
      std::filesystem::path path, ControlServer::Handler handler = nullptr,
      std::chrono::milliseconds idle_timeout = ControlServer::kDefaultIdleTimeout)
      : work_(boost::asio::make_work_guard(io_)) {
    if (!handler) {
      handler = [this](const json& request) {
        handled_.fetch_add(1);
        return json{{"echo", request}};
      };
    }
    server_ = std::make_unique<ControlServer>(io_, std::move(path), std::move(handler));
    server_->set_idle_timeout(idle_timeout);  // before the loop thread starts: no race
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerFixture() { stop(); }

  // Closes the server on its own thread (as the daemon does), then stops the loop.
  void stop() {
    if (!thread_.joinable()) return;
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

  int handled() const { return handled_.load(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::atomic<int> handled_{0};
};

json reply_to(UnixClient& client, const std::string& line) {
  EXPECT_TRUE(client.send(line + "\n"));
  auto reply = client.read_line();
  EXPECT_TRUE(reply.has_value()) << "no reply to " << line;
  return reply ? json::parse(*reply) : json();
}

TEST(ControlServer, SeveralRequestsPerConnectionOneReplyLineEach) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  UnixClient client(dir / "control.sock");
  // Two requests in one write, then a third after the replies.
  ASSERT_TRUE(client.send("{\"cmd\":\"status\"}\n{\"cmd\":\"scale-to\",\"n\":3}\n"));
  auto first = json::parse(client.read_line().value());
  auto second = json::parse(client.read_line().value());
  EXPECT_EQ(first, (json{{"ok", true}, {"echo", {{"cmd", "status"}}}}));
  EXPECT_EQ(second, (json{{"ok", true}, {"echo", {{"cmd", "scale-to"}, {"n", 3}}}}));
  EXPECT_EQ(reply_to(client, "{\"cmd\":\"pause\"}\r")["echo"]["cmd"], "pause");
  EXPECT_EQ(server.handled(), 3);
}

TEST(ControlServer, SocketHasMode0660AndItsDirectoryIsCreated) {
  TempDir dir;
  const auto path = dir / "run/jvb-autoscaler/control.sock";
  ServerFixture server(path);
  struct stat info {};
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

TEST(ControlServer, MalformedJsonGetsAnErrorAndTheConnectionStaysUsable) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  UnixClient client(dir / "control.sock");
  auto reply = reply_to(client, "{\"cmd\": status}");
  EXPECT_EQ(reply["ok"], false);
  const std::string error = reply["error"];
  EXPECT_EQ(error.rfind("malformed request: ", 0), 0u) << error;
  EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
  EXPECT_EQ(reply_to(client, "{\"cmd\":\"status\"}")["ok"], true);
  EXPECT_EQ(server.handled(), 1);
}

TEST(ControlServer, MissingUnknownOrNonStringCmdAndNonObjectsAreRefusedClearly) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  UnixClient client(dir / "control.sock");
  auto missing = reply_to(client, "{\"n\":3}");
  EXPECT_EQ(missing,
            (json{{"ok", false},
                  {"error", "request has no \"cmd\" string (e.g. {\"cmd\":\"status\"})"}}));
  auto unknown = reply_to(client, "{\"cmd\":\"explode\"}");
  EXPECT_EQ(unknown["ok"], false);
  EXPECT_EQ(std::string(unknown["error"]).rfind("unknown command \"explode\"; known commands: ", 0),
            0u)
      << unknown;
  EXPECT_NE(std::string(unknown["error"]).find("scale-to"), std::string::npos);
  EXPECT_EQ(reply_to(client, "{\"cmd\":7}")["ok"], false);
  auto array = reply_to(client, "[\"status\"]");
  EXPECT_EQ(array["error"],
            "malformed request: expected a JSON object such as {\"cmd\":\"status\"}");
  EXPECT_EQ(server.handled(), 0);
}

TEST(ControlServer, HandlerErrorsBecomeErrorReplies) {
  TempDir dir;
  ServerFixture server(dir / "control.sock", [](const json& request) -> json {
    if (request["cmd"] == "drain") throw std::invalid_argument("bridge jvb1 is not managed");
    if (request["cmd"] == "pause") throw 42;  // not a std::exception
    return {{"ok", false}, {"error", "refused by handler"}};
  });
  UnixClient client(dir / "control.sock");
  EXPECT_EQ(reply_to(client, R"({"cmd":"drain","bridge":"jvb1"})"),
            (json{{"ok", false}, {"error", "bridge jvb1 is not managed"}}));
  EXPECT_EQ(reply_to(client, R"({"cmd":"pause"})"),
            (json{{"ok", false}, {"error", "internal error while handling \"pause\""}}));
  EXPECT_EQ(reply_to(client, R"({"cmd":"status"})"),
            (json{{"ok", false}, {"error", "refused by handler"}}));
}

TEST(ControlServer, A64KiBLineIsAcceptedALongerOneIsRefusedAndClosed) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  {
    UnixClient client(dir / "control.sock");
    const std::string prefix = R"({"cmd":"status","pad":")";
    const std::string suffix = R"("})";
    std::string line =
        prefix + std::string(ControlServer::kMaxRequestBytes - prefix.size() - suffix.size(), 'x') +
        suffix;
    ASSERT_EQ(line.size(), ControlServer::kMaxRequestBytes);
    EXPECT_EQ(reply_to(client, line)["ok"], true);
  }
  UnixClient client(dir / "control.sock");
  // 70,000 bytes and no newline: the server must not wait for more.
  ASSERT_TRUE(client.send(std::string(70000, '{')));
  auto reply = client.read_line();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(json::parse(*reply), (json{{"ok", false}, {"error", "request too long"}}));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(server.handled(), 1);
}

TEST(ControlServer, LastRequestWithoutNewlineIsAnsweredWhenTheClientShutsDown) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  UnixClient client(dir / "control.sock");
  ASSERT_TRUE(client.send("{\"cmd\":\"resume\"}"));
  client.shutdown_write();
  auto reply = client.read_line();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(json::parse(*reply)["echo"]["cmd"], "resume");
}

TEST(ControlServer, ManyConcurrentClientsEachGetTheirOwnAnswers) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  constexpr int kClients = 16;
  constexpr int kRequestsEach = 25;
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      try {
        UnixClient client(dir / "control.sock");
        for (int r = 0; r < kRequestsEach; ++r) {
          json request = {{"cmd", "scale-to"}, {"n", c * 1000 + r}};
          if (!client.send(request.dump() + "\n")) {
            ++wrong;
            return;
          }
          auto line = client.read_line();
          if (!line || json::parse(*line)["echo"] != request) ++wrong;
        }
      } catch (...) {
        ++wrong;
      }
    });
  }
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(server.handled(), kClients * kRequestsEach);
}

TEST(ControlServer, IdleClientsAreDisconnectedButActiveOnesStay) {
  TempDir dir;
  ServerFixture server(dir / "control.sock", nullptr, std::chrono::milliseconds(300));
  UnixClient active(dir / "control.sock");
  UnixClient idle(dir / "control.sock");
  const auto started = std::chrono::steady_clock::now();
  // The active client asks every 100 ms for 1 s: never idle for 300 ms.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(reply_to(active, "{\"cmd\":\"status\"}")["ok"], true) << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(reply_to(active, "{\"cmd\":\"status\"}")["ok"], true);
}

TEST(ControlServer, ClientsBeyondTheLimitAreToldAndClosed) {
  TempDir dir;
  ServerFixture server(dir / "control.sock");
  std::vector<std::unique_ptr<UnixClient>> held;
  for (std::size_t i = 0; i < ControlServer::kMaxClients; ++i) {
    held.push_back(std::make_unique<UnixClient>(dir / "control.sock"));
    // A round trip makes sure the server has accepted this one before the next connects.
    EXPECT_EQ(reply_to(*held.back(), "{\"cmd\":\"status\"}")["ok"], true);
  }
  UnixClient extra(dir / "control.sock");
  auto refusal = extra.read_line();
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(json::parse(*refusal)["error"],
            "too many clients on the control socket; try again later");
  EXPECT_TRUE(extra.closed_by_peer());
  held.pop_back();  // one leaves: a newcomer is served again (once the server saw it go)
  bool served = false;
  for (int attempt = 0; attempt < 60 && !served; ++attempt) {
    UnixClient later(dir / "control.sock");
    auto line = later.send("{\"cmd\":\"status\"}\n") ? later.read_line() : std::nullopt;
    served = line && json::parse(*line)["ok"] == true;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
}

TEST(ControlServer, AStaleSocketFileIsReplaced) {
  TempDir dir;
  const auto path = dir / "control.sock";
  {
    // A socket file nobody listens on, as left by a daemon that was killed.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  ServerFixture server(path);
  UnixClient client(path);
  EXPECT_EQ(reply_to(client, "{\"cmd\":\"status\"}")["ok"], true);
}

TEST(ControlServer, ALiveSocketOfAnotherDaemonIsNotStolen) {
  TempDir dir;
  const auto path = dir / "control.sock";
  ServerFixture first(path);
  boost::asio::io_context io;
  try {
    ControlServer second(io, path, [](const json&) { return json::object(); });
    FAIL() << "a second server took over a live socket";
  } catch (const ControlServerError& e) {
    EXPECT_EQ(std::string(e.what()),
              "another jvb-autoscaler is already listening on " + path.string());
  }
  UnixClient client(path);
  EXPECT_EQ(reply_to(client, "{\"cmd\":\"status\"}")["ok"], true);
}

TEST(ControlServer, ARegularFileAtTheSocketPathIsNotReplaced) {
  TempDir dir;
  const auto path = dir / "control.sock";
  std::ofstream(path) << "precious";
  boost::asio::io_context io;
  EXPECT_THROW(ControlServer(io, path, [](const json&) { return json::object(); }),
               ControlServerError);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST(ControlServer, CloseRemovesTheSocketFileAndRefusesNewClients) {
  TempDir dir;
  const auto path = dir / "control.sock";
  ServerFixture server(path);
  ASSERT_TRUE(std::filesystem::exists(path));
  server.stop();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_THROW(UnixClient client(path), std::runtime_error);
}

}  // namespace
}  // namespace agent
