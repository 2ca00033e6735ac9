// fake-linode: a loopback-only HTTP double of the Linode API v4 endpoints the autoscaler uses.
// One thread, Boost.Asio coroutines; see docs/linode.md for flags and control endpoints.
#include <utility>  // before asio: Boost 1.74's awaitable.hpp needs std::exchange
//
#include <signal.h>
#include <spawn.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <iostream>
#include <map>
#include <random>

#include "fake_state.h"

extern char** environ;

namespace fake_linode {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kHookStopGrace = std::chrono::seconds(5);

std::string substitute(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    const std::string placeholder = "{" + key + "}";
    for (size_t at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }
  return text;
}

// Hook processes, one per instance, each in its own process group so that `sh -c` and
// whatever it starts are stopped together.
class Hooks {
 public:
  pid_t start(const std::string& command) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // The hook's stdout goes to our stderr: our stdout carries only the "listening" line.
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes,
                               const_cast<char* const*>(argv), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      spdlog::error("fake-linode: could not start hook: {}", std::strerror(rc));
      return 0;
    }
    running_.insert(pid);
    return pid;
  }

  void stop(pid_t pid) {
    if (!running_.count(pid)) return;
    ::kill(-pid, SIGTERM);
    stopping_[pid] = Clock::now() + kHookStopGrace;
  }

  // Reaps exited hooks and SIGKILLs the ones past their grace period.
  void reap() {
    for (auto it = running_.begin(); it != running_.end();) {
      int status = 0;
      if (::waitpid(*it, &status, WNOHANG) == *it) {
        spdlog::info("fake-linode: hook pid {} exited ({})", *it,
                     WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                       : "signal " + std::to_string(WTERMSIG(status)));
        stopping_.erase(*it);
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [pid, deadline] : stopping_) {
      if (Clock::now() > deadline) ::kill(-pid, SIGKILL);
    }
  }

  // At exit: SIGTERM everything, wait a bounded time, SIGKILL what is left.
  void stop_all() {
    for (pid_t pid : running_) stop(pid);
    const auto deadline = Clock::now() + kHookStopGrace;
    while (!running_.empty() && Clock::now() < deadline) {
      reap();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (pid_t pid : running_) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    running_.clear();
  }

 private:
  std::set<pid_t> running_;
  std::map<pid_t, Clock::time_point> stopping_;
};

struct Server {
  FakeApi api;
  Hooks hooks;
  std::string on_create;
  double hook_delay_seconds = 0;
  asio::io_context& io;

  void schedule_hooks() {
    for (pid_t pid : api.take_deleted_hooks()) hooks.stop(pid);
    const auto created = api.take_created();
    if (on_create.empty()) return;
    for (int64_t id : created) {
      auto timer = std::make_shared<asio::steady_timer>(io);
      timer->expires_after(std::chrono::milliseconds(static_cast<long>(hook_delay_seconds * 1000)));
      timer->async_wait([this, timer, id](const boost::system::error_code& error) {
        if (error) return;
        auto it = api.instances().find(id);
        if (it == api.instances().end()) return;  // deleted before it "booted"
        FakeInstance& instance = it->second;
        if (instance.shutdown_at || instance.deleted_at) return;  // stopped before it booted
        if (!api.user_data_reaches(instance)) {
          spdlog::info(
              "fake-linode: instance {} ({}) never receives its user data (region {} without "
              "Metadata or image without cloud-init): no hook, the bridge never joins",
              instance.label, instance.id, instance.region);
          return;
        }
        const std::string command = substitute(on_create, {{"label", instance.label},
                                                           {"id", std::to_string(instance.id)},
                                                           {"private_ip", instance.private_ip},
                                                           {"public_ip", instance.public_ip}});
        instance.hook_pid = hooks.start(command);
        spdlog::info("fake-linode: instance {} ({}) booted, hook pid {}", instance.label,
                     instance.id, instance.hook_pid);
      });
    }
  }
};

asio::awaitable<void> session(tcp::socket socket, Server& server) {
  beast::flat_buffer buffer;
  try {
    while (true) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      const int latency_ms = server.api.faults().latency_ms;
      if (latency_ms > 0 && request.target().starts_with("/v4/")) {
        asio::steady_timer timer(socket.get_executor());
        timer.expires_after(std::chrono::milliseconds(latency_ms));
        co_await timer.async_wait(asio::use_awaitable);
      }
      const std::string method(request.method_string());
      const std::string target(request.target());
      Reply reply =
          server.api.handle(method, target, std::string(request[http::field::authorization]),
                            std::string(request["X-Filter"]), request.body());
      spdlog::debug("fake-linode: {} {} -> {}", method, target, reply.status);
      server.schedule_hooks();
      if (reply.action == Reply::Action::kClose) {
        spdlog::info("fake-linode: {} {} created the instance, closing without an answer", method,
                     target);
        co_return;  // the socket closes as it goes out of scope
      }
      if (reply.action == Reply::Action::kHang) {
        spdlog::info("fake-linode: {} {} created the instance, never answering", method, target);
        // Hold the connection (bounded) until the client gives up and closes it.
        asio::steady_timer limit(socket.get_executor());
        limit.expires_after(std::chrono::seconds(300));
        limit.async_wait([&socket](const boost::system::error_code& error) {
          if (!error) socket.close();
        });
        char scratch[512];
        while (true) co_await socket.async_read_some(asio::buffer(scratch), asio::use_awaitable);
      }
      http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                                 request.version()};
      response.set(http::field::server, "fake-linode");
      response.set(http::field::content_type, "application/json");
      for (const auto& [name, value] : reply.headers) response.set(name, value);
      response.keep_alive(request.keep_alive());
      if (reply.status != 204) response.body() = reply.body.dump();
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
      if (!response.keep_alive()) co_return;
    }
  } catch (const std::exception&) {
    // The client closed the connection or sent garbage: nothing to answer.
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Server& server) {
  while (true) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), server), asio::detached);
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Fake Linode API v4 for tests and the demo (loopback only)", "fake-linode"};
  std::string listen = "127.0.0.1:0";
  Options options;
  Faults faults;
  std::string on_create;
  double hook_delay = 0;
  std::string log_level = "info";
  app.add_option("--listen", listen, "loopback address:port; port 0 picks a free one");
  app.add_option("--token", options.token, "expected API token (401 otherwise); empty = any");
  int ip_block = -1;
  app.add_option("--ip-block", ip_block,
                 "third octet of the instances' 127.1.X.Y/127.2.X.Y addresses (default: random)")
      ->check(CLI::Range(0, 199));
  app.add_option("--boot-seconds", options.boot_seconds,
                 "seconds from provisioning through booting to running")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--on-create", on_create,
                 "command run (sh -c) when an instance boots; {label} {id} {private_ip} "
                 "{public_ip} are substituted; SIGTERM'd when the instance is deleted");
  app.add_option("--hook-delay", hook_delay, "seconds from create to starting --on-create")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--shutdown-seconds", options.shutdown_seconds,
                 "seconds an instance stays shutting_down after POST .../shutdown (default 0.5)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--delete-seconds", options.delete_seconds,
                 "seconds a deleted instance still lists as deleting (default 0: gone at once)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--create-rate-limit", options.create_rate_limit,
                 "creates allowed per --create-rate-window, 429 past it (default 20, as Linode; "
                 "0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--create-rate-window", options.create_rate_window_seconds,
                 "window of --create-rate-limit in seconds (default 15)")
      ->check(CLI::PositiveNumber);
  std::vector<std::string> no_metadata, no_cloud_init;
  std::vector<int64_t> firewalls;
  app.add_option("--region-without-metadata", no_metadata,
                 "this region lacks the Metadata capability (repeatable)");
  app.add_option("--image-without-cloud-init", no_cloud_init,
                 "this image lacks the cloud-init capability (repeatable)");
  app.add_flag("--restricted", options.account.restricted,
               "the token's user is restricted (cannot tag; see --no-add-linodes)");
  bool no_add_linodes = false;
  app.add_flag("--no-add-linodes", no_add_linodes,
               "a restricted user without the add_linodes grant (cannot create)");
  app.add_option("--token-scopes", options.account.token_scopes,
                 "the token's OAuth scopes (X-OAuth-Scopes), e.g. 'linodes:read_only'; "
                 "default '*'");
  app.add_option("--firewall", firewalls, "a firewall id that exists (repeatable)");
  app.add_option("--fault-429", faults.rate_limit, "answer the next N API requests with 429");
  app.add_option("--retry-after", faults.retry_after_seconds, "Retry-After seconds for 429s");
  app.add_option("--fault-5xx", faults.server_errors, "answer the next N API requests with 503");
  app.add_option("--latency-ms", faults.latency_ms, "added latency per API request");
  app.add_option("--drop-creates", faults.drop_creates,
                 "the next N creates make the instance but never answer");
  app.add_option("--fail-deletes", faults.fail_deletes, "the next N DELETEs fail with 500");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  CLI11_PARSE(app, argc, argv);
  options.account.regions_without_metadata = {no_metadata.begin(), no_metadata.end()};
  options.account.images_without_cloud_init = {no_cloud_init.begin(), no_cloud_init.end()};
  options.account.firewalls = {firewalls.begin(), firewalls.end()};
  options.account.grant_add_linodes = !no_add_linodes;
  options.ip_block = ip_block >= 0 ? ip_block : static_cast<int>(std::random_device{}() % 200);

  auto logger = spdlog::stderr_color_mt("fake-linode");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));

  const size_t colon = listen.rfind(':');
  boost::system::error_code error;
  const auto address =
      asio::ip::make_address(colon == std::string::npos ? listen : listen.substr(0, colon), error);
  if (error || colon == std::string::npos) {
    std::cerr << "fake-linode: --listen must be ADDRESS:PORT, got '" << listen << "'\n";
    return 2;
  }
  if (!address.is_loopback()) {
    std::cerr << "fake-linode: refusing to listen on " << address.to_string()
              << ": this test double serves loopback addresses only\n";
    return 2;
  }
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = 70000;
  }
  if (port > 65535) {
    std::cerr << "fake-linode: --listen port must be 0..65535, got '" << listen << "'\n";
    return 2;
  }

  asio::io_context io;
  Server server{FakeApi(options), Hooks{}, on_create, hook_delay, io};
  server.api.faults() = faults;
  tcp::acceptor acceptor(io);
  try {
    acceptor.open(address.is_v6() ? tcp::v6() : tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(tcp::endpoint(address, static_cast<unsigned short>(port)));
    acceptor.listen();
  } catch (const std::exception& e) {
    std::cerr << "fake-linode: cannot listen on " << listen << ": " << e.what() << "\n";
    return 1;
  }
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal_number) {
    spdlog::info("fake-linode: signal {}, stopping", signal_number);
    io.stop();
  });
  // Reap hooks; exit when orphaned so a crashed test never leaves us running.
  const pid_t parent = ::getppid();
  asio::steady_timer reaper(io);
  std::function<void(const boost::system::error_code&)> tick =
      [&](const boost::system::error_code& tick_error) {
        if (tick_error) return;
        server.hooks.reap();
        if (::getppid() != parent) {
          spdlog::info("fake-linode: parent process went away, stopping");
          io.stop();
          return;
        }
        reaper.expires_after(std::chrono::milliseconds(200));
        reaper.async_wait(tick);
      };
  reaper.expires_after(std::chrono::milliseconds(200));
  reaper.async_wait(tick);

  asio::co_spawn(io, accept_loop(acceptor, server), asio::detached);
  const auto bound = acceptor.local_endpoint();
  std::cout << "fake-linode listening on " << bound.address().to_string() << ":" << bound.port()
            << std::endl;
  io.run();
  server.hooks.stop_all();
  return 0;
}

}  // namespace
}  // namespace fake_linode

int main(int argc, char** argv) {
  try {
    return fake_linode::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "fake-linode: " << e.what() << "\n";
    return 1;
  }
}
