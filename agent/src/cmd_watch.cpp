// `jvb-autoscaler watch --config FILE [--json]`: joins the brewery read-only under its own
// nickname and prints one line per bridge event on stdout (JSON lines with --json). Logs and
// connection problems go to stderr. Exit 0 on SIGINT/SIGTERM, 2 on a configuration error.

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/brewery_settings.h"
#include "agent/commands.h"
#include "agent/config.h"
#include "agent/event_queue.h"
#include "xmpp/brewery_client.h"
#include "xmpp/stats_filter.h"

namespace agent {
namespace {

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string format_json(const xmpp::Event& event) {
  nlohmann::json line = {{"time", utc_timestamp(event.time)},
                         {"event", std::string(xmpp::to_string(event.type))},
                         {"bridge", event.bridge}};
  if (event.type != xmpp::Event::Type::kLeft) {
    line["stress"] = or_null(event.stats.stress_level);
    line["participants"] = or_null(event.stats.participants);
    line["conferences"] = or_null(event.stats.conferences);
    line["drain"] = or_null(event.stats.drain);
    line["graceful_shutdown"] = or_null(event.stats.graceful_shutdown);
    line["shutting_down"] = or_null(event.stats.shutting_down);
    line["healthy"] = or_null(event.stats.healthy);
    line["local_endpoints"] = or_null(event.stats.local_endpoints);
    line["relayed_endpoints"] = or_null(event.stats.relayed_endpoints);
    line["region"] = or_null(event.stats.region);
    line["version"] = or_null(event.stats.version);
  }
  // Invalid UTF-8 cannot reach here (the parser drops it); replace rather than throw anyway.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_text(const xmpp::Event& event) {
  std::string line = utc_timestamp(event.time) + " " + std::string(xmpp::to_string(event.type)) +
                     " " + event.bridge;
  if (event.type == xmpp::Event::Type::kLeft) return line;
  auto field = [&](const char* name, const std::string& value) {
    line += std::string(" ") + name + "=" + value;
  };
  const auto& s = event.stats;
  field("stress", s.stress_level ? fmt::format("{:.3f}", *s.stress_level) : "?");
  field("participants", s.participants ? std::to_string(*s.participants) : "?");
  field("conferences", s.conferences ? std::to_string(*s.conferences) : "?");
  auto flag = [](const std::optional<bool>& value) -> std::string {
    return value ? (*value ? "true" : "false") : "?";
  };
  field("drain", flag(s.drain));
  field("healthy", flag(s.healthy));
  // The shutdown phases only when a bridge is in one: most lines stay short.
  if (s.graceful_shutdown.value_or(false)) field("graceful_shutdown", "true");
  if (s.shutting_down.value_or(false)) field("shutting_down", "true");
  if (s.relayed_endpoints && *s.relayed_endpoints > 0) {
    field("relayed", std::to_string(*s.relayed_endpoints));
  }
  return line;
}

}  // namespace

int watch(const WatchOptions& options) {
  const ConfigResult result = load_config(options.config_path, ConfigUse::kWatch);
  print_config_problems(options.config_path, result, std::cerr);
  if (!result.errors.empty()) return 2;
  const XmppSection& section = result.config->xmpp;

  // stdout carries only event lines; logs go to stderr.
  auto logger = spdlog::stderr_color_mt("watch");
  spdlog::set_default_logger(logger);

  // Its own nickname, so it never collides with the daemon's occupant.
  xmpp::ClientConfig config =
      brewery_client_config(section, section.nickname + "-watch-" + std::to_string(::getpid()));

  // Block the stop signals before the XMPP thread starts (it inherits the mask), then wait
  // for them synchronously here: no signal handler, no global flag.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  EventQueue queue;
  xmpp::MissingParticipantsDetector filter_warnings;
  xmpp::BreweryClient client(config, [&queue](const xmpp::Event& event) { queue.push(event); });
  client.start();
  std::cerr << "watching " << config.brewery << " on " << config.host << ":" << config.port
            << " as " << config.nickname << " (Ctrl-C to stop)\n";
  while (true) {
    for (const xmpp::Event& event : queue.take()) {
      switch (event.type) {
        case xmpp::Event::Type::kJoined:
        case xmpp::Event::Type::kStats:
        case xmpp::Event::Type::kLeft:
          std::cout << (options.json ? format_json(event) : format_text(event)) << std::endl;
          if (auto warning = filter_warnings.observe(event))
            std::cerr << "watch: " << *warning << "\n";
          break;
        case xmpp::Event::Type::kConnected:
          std::cerr << "connected to " << config.host << ":" << config.port << "\n";
          break;
        case xmpp::Event::Type::kDisconnected:
        case xmpp::Event::Type::kError:
          std::cerr << "xmpp: " << event.message << "\n";
          break;
      }
    }
    const timespec poll_interval{0, 100'000'000};
    if (sigtimedwait(&stop_signals, nullptr, &poll_interval) > 0) break;
  }
  client.stop();
  for (const xmpp::Event& event : queue.take()) {
    if (event.type == xmpp::Event::Type::kJoined || event.type == xmpp::Event::Type::kStats ||
        event.type == xmpp::Event::Type::kLeft) {
      std::cout << (options.json ? format_json(event) : format_text(event)) << std::endl;
    }
  }
  spdlog::drop("watch");
  return 0;
}

}  // namespace agent
