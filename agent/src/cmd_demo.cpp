// `jvb-autoscaler demo`: the whole loop on this machine with no cloud account. A local
// Prosody, the fake Linode API whose "instances" boot as jvb-sim bridges, one static
// (unmanaged) bridge like the guide's jvb1, the real daemon as a child process, and a load
// driver that plays Jicofo: it watches the brewery (the bridges' own presences) and places
// like jicofo's BridgeSelector.kt / BridgeSelectionStrategy.kt:
//  - a new conference goes to the least-loaded bridge that is operational (healthy), not
//    shutting down, and not draining or in graceful shutdown;
//  - a new participant of an existing conference goes to that conference's bridge, draining or
//    not (drain only stops new conferences);
//  - the conferences of a bridge that enters SHUTTING_DOWN, turns unhealthy or leaves the
//    brewery are moved to other bridges (BridgeSelector's bridgeIsShuttingDown / health
//    handling): a short reconnect for their participants, counted as "moved".
// Meetings end and new ones start all the time (churn), so new bridges take load as soon as
// they join; one long meeting keeps growing through its bridge's drain.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <deque>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "agent/commands.h"
#include "agent/control_client.h"
#include "agent/event_queue.h"
#include "agent/http_post.h"
#include "agent/local_cluster.h"
#include "xmpp/brewery_client.h"

namespace agent {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kDomain = "auth.demo.local";
constexpr int kCapacity = 100;          // jvb-sim's --capacity: participants at stress 1.0
constexpr int kPeakParticipants = 320;  // ~4.5 bridges of 100 at the 0.7 threshold
constexpr int kLongMeetingMax = 40;     // the long meeting grows to this size
constexpr size_t kRecentLines = 14;     // event lines kept under the live table

void write_secret(const fs::path& file, const std::string& content) {
  std::ofstream(file) << content << "\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

// Participants wanted at `t` of `duration`: quiet, a rise to the peak, a plateau, a fall.
int load_at(double t, double duration) {
  const double x = t / duration;
  double level = 0;
  if (x < 0.08) {
    level = 0.1;
  } else if (x < 0.4) {
    level = 0.1 + 0.9 * (x - 0.08) / 0.32;
  } else if (x < 0.55) {
    level = 1.0;
  } else if (x < 0.72) {
    level = 1.0 - 0.95 * (x - 0.55) / 0.17;
  } else {
    level = 0.05;
  }
  return static_cast<int>(std::lround(level * kPeakParticipants));
}

struct Conference {
  int id = 0;
  std::string bridge;
  int participants = 0;
  double ends_at = 0;
  bool long_meeting = false;
};

// What the demo's Jicofo knows about one bridge: its last presence, and where its HTTP is.
struct BridgeView {
  bool in_brewery = false;
  xmpp::BridgeStats stats;
  std::string url;  // jvb-sim's HTTP base URL; empty until the daemon reports its address
};

class Demo {
 public:
  explicit Demo(const DemoOptions& options)
      : options_(options),
        dir_("jvb-autoscaler-demo-"),
        live_(!options.quiet && ::isatty(STDOUT_FILENO)) {}

  int run() {
    const fs::path bin = local::executable_dir();
    for (const char* tool : {"jvb-sim", "fake-linode"}) {
      if (!fs::exists(bin / tool)) {
        std::cerr << "demo: " << (bin / tool).string()
                  << " is missing: build the whole project first (./bootstrap.sh build)\n";
        return 1;
      }
    }
    say("starting a local Prosody (Debian package) on a free loopback port");
    prosody_ = std::make_unique<local::LocalProsody>(
        dir_.path(), kDomain,
        std::vector<local::ProsodyAccount>{{"autoscaler", "demo-autoscaler-pw"},
                                           {"jvb", "demo-jvb-pw"},
                                           {"focus", "demo-focus-pw"}});
    write_secret(dir_.path() / "xmpp.pass", "demo-autoscaler-pw");
    write_secret(dir_.path() / "jvb.pass", "demo-jvb-pw");
    write_secret(dir_.path() / "linode.token", "demo-token");

    // Realistic bridges (jvb-sim's defaults: drain stops only new conferences; graceful
    // shutdown waits for the meetings), with JVB's timings shortened to demo scale.
    const std::string sim_common =
        (bin / "jvb-sim").string() + " --host 127.0.0.1 --port " +
        std::to_string(prosody_->port()) + " --domain " + kDomain +
        " --username jvb --password-file " + (dir_.path() / "jvb.pass").string() + " --brewery " +
        prosody_->brewery() + " --capacity " + std::to_string(kCapacity) +
        " --stats-interval 2 --graceful-shutdown-max-seconds 10 --shutting-down-seconds 3";
    fake_port_ = local::free_tcp_port();
    say("starting the fake Linode API on 127.0.0.1:" + std::to_string(fake_port_) +
        " (new instances boot as simulated bridges after 4 s)");
    fake_ = std::make_unique<local::Process>(
        std::vector<std::string>{(bin / "fake-linode").string(), "--listen",
                                 "127.0.0.1:" + std::to_string(fake_port_), "--token", "demo-token",
                                 "--boot-seconds", "2", "--hook-delay", "4", "--on-create",
                                 sim_common + " --nickname {label} --http {private_ip}:8080"},
        dir_.path() / "fake-linode.log");
    if (!local::wait_for_tcp_port(fake_port_, 15)) {
      std::cerr << "demo: the fake Linode API did not start (see its log)\n";
      return 1;
    }
    const int static_port = local::free_tcp_port();
    bridges_["jvb1"].url = "http://127.0.0.1:" + std::to_string(static_port);
    say("starting the static bridge jvb1 (not managed by the agent, like the guide's jvb1)");
    std::vector<std::string> static_argv;
    {
      std::istringstream words(sim_common +
                               " --nickname jvb1 --http 127.0.0.1:" + std::to_string(static_port));
      for (std::string word; words >> word;) static_argv.push_back(word);
    }
    static_bridge_ = std::make_unique<local::Process>(static_argv, dir_.path() / "jvb1.log");

    say("starting the load driver (plays Jicofo: watches the brewery, places conferences)");
    // The load driver's XMPP client logs warnings only, on stderr: stdout is the story.
    spdlog::set_default_logger(spdlog::stderr_color_mt("demo"));
    spdlog::set_level(spdlog::level::warn);
    xmpp::ClientConfig watcher;
    watcher.port = prosody_->port();
    watcher.domain = kDomain;
    watcher.username = "focus";
    watcher.password = "demo-focus-pw";
    watcher.brewery = prosody_->brewery();
    watcher.nickname = "demo-jicofo";
    watcher.tls = xmpp::TlsMode::kDisabled;
    watcher.reconnect_initial_seconds = 0.5;
    watcher.reconnect_max_seconds = 2;
    jicofo_ = std::make_unique<xmpp::BreweryClient>(
        watcher, [this](const xmpp::Event& event) { events_.push(event); });
    jicofo_->start();

    write_config();
    say("starting jvb-autoscaler run --config " + (dir_.path() / "config.json").string());
    daemon_ = std::make_unique<local::Process>(
        std::vector<std::string>{(bin / "jvb-autoscaler").string(), "run", "--config",
                                 (dir_.path() / "config.json").string()},
        dir_.path() / "agent.log");

    boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      event_line("interrupted: stopping everything");
      io_.stop();
    });
    started_ = std::chrono::steady_clock::now();
    step();
    io_.run();
    return finish();
  }

 private:
  void say(const std::string& line) { std::cout << "demo: " << line << std::endl; }

  void write_config() {
    const fs::path dir = dir_.path();
    std::ofstream(dir / "jvb-cloud-init.yaml")
        << "#cloud-config\n# bridge {{label}} joins {{brewery}} via {{xmpp_host}} in {{region}}\n";
    // Scaling keys tuned for a demo minutes long: a period of 2 s, two periods above 0.5 to
    // buy a bridge (it joins ~6 s later), so new bridges arrive while the first is still
    // below stress 1 even though the load rises steeply. A drain lasts at most 20 s.
    // The demo shows a whole lifecycle (create, drain, delete) within minutes, so it sets its
    // profile explicitly instead of taking the measured defaults, which keep a bridge until its
    // paid hour nearly ends (billing wait, steering holds) and look 180 s ahead: the old contract
    // profile (scale-down below 0.3, prompt drains and deletes, every issue-17 lever off).
    json config = {{"xmpp",
                    {{"host", "127.0.0.1"},
                     {"port", prosody_->port()},
                     {"domain", kDomain},
                     {"username", "autoscaler"},
                     {"password_file", (dir / "xmpp.pass").string()},
                     {"tls", "disabled"}}},
                   {"linode",
                    {{"api_url", "http://127.0.0.1:" + std::to_string(fake_port_) + "/v4"},
                     {"token_file", (dir / "linode.token").string()},
                     {"region", "us-lax"},
                     {"type", "g6-dedicated-2"},
                     {"image", "linode/ubuntu22.04"},
                     {"user_data_file", (dir / "jvb-cloud-init.yaml").string()}}},
                   {"scaling",
                    {{"min_bridges", 1},
                     {"max_bridges", 6},
                     {"scale_up_threshold", 0.5},
                     {"scale_down_threshold", 0.3},
                     {"target_stress", 0.6},
                     {"period_seconds", 2},
                     {"scale_up_periods", 2},
                     {"scale_down_periods", 4},
                     {"cooldown_seconds", 6},
                     {"boot_timeout_seconds", 90},
                     {"drain_timeout_seconds", 20},
                     {"billing_period_seconds", 0},
                     {"billing_drain_lead_seconds", 600},
                     {"trend_window_seconds", 60},
                     {"lookahead_seconds", 0},
                     {"predictive_headroom_seconds", 0},
                     {"learn_drain_lead", false},
                     {"drain_by_age", false},
                     {"no_yoyo", false},
                     {"steer_holds", false},
                     {"learn_largest_conference", false}}},
                   {"metrics", {{"listen", "127.0.0.1:" + std::to_string(local::free_tcp_port())}}},
                   {"control", {{"socket", (dir / "control.sock").string()}}},
                   {"state_file", (dir / "state.json").string()}};
    std::ofstream(dir / "config.json") << config.dump(2) << "\n";
  }

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  void step() {
    const double t = elapsed();
    if (t >= options_.duration_seconds) {
      io_.stop();
      return;
    }
    if (!daemon_->running()) {
      std::cerr << "demo: the daemon exited; its log follows\n" << read_file("agent.log");
      failed_ = true;
      io_.stop();
      return;
    }
    try {
      status_ = control_request((dir_.path() / "control.sock").string(), {{"cmd", "status"}}, 2);
    } catch (const std::exception&) {
      status_ = nullptr;  // the daemon is still starting
    }
    read_brewery(t);
    if (status_.is_object() && status_.value("ok", false)) {
      learn_addresses();
      report_changes(t);
      drive_load(t);
      show(t);
    }
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) step();
    });
  }

  // --- what Jicofo sees -----------------------------------------------------------------

  void read_brewery(double t) {
    for (const xmpp::Event& event : events_.take()) {
      if (event.bridge.empty()) continue;
      BridgeView& view = bridges_[event.bridge];
      if (event.type == xmpp::Event::Type::kLeft) {
        view.in_brewery = false;
        continue;
      }
      if (event.type != xmpp::Event::Type::kJoined && event.type != xmpp::Event::Type::kStats) {
        continue;
      }
      const xmpp::BridgeStats before = view.stats;
      const bool was_in = view.in_brewery;
      view.in_brewery = true;
      view.stats = event.stats;
      // Tell the story from what the bridges publish.
      const std::string name = event.bridge;
      auto became = [&](const std::optional<bool> xmpp::BridgeStats::*field) {
        return (event.stats.*field).value_or(false) && !(was_in && (before.*field).value_or(false));
      };
      if (became(&xmpp::BridgeStats::drain)) {
        const int held = participants_on(name);
        std::string line = "bridge " + name + " publishes drain=true: no new conference goes there";
        if (held > 0) {
          line += "; its " + std::to_string(held) +
                  " participants stay, and their meetings still take newcomers";
        }
        event_line(at(t) + line);
      }
      if (became(&xmpp::BridgeStats::graceful_shutdown)) {
        event_line(at(t) + "bridge " + name +
                   " is in graceful shutdown: it waits for its meetings to end (" +
                   std::to_string(participants_on(name)) + " participants on it)");
      }
      if (became(&xmpp::BridgeStats::shutting_down)) {
        event_line(at(t) + "bridge " + name + " is shutting down: Jicofo moves its meetings");
      }
    }
  }

  // The daemon knows where each managed bridge's HTTP listens (its private IP).
  void learn_addresses() {
    for (const auto& bridge : status_["bridges"]) {
      const std::string name = bridge.value("name", "");
      if (name.empty() || name == "jvb1") continue;
      if (bridge.contains("private_ip") && bridge["private_ip"].is_string()) {
        bridges_[name].url = "http://" + bridge["private_ip"].get<std::string>() + ":8080";
      }
    }
  }

  // Jicofo moves a conference away from a bridge that is shutting down, unhealthy or gone.
  bool serving(const std::string& name) const {
    const auto it = bridges_.find(name);
    if (it == bridges_.end() || !it->second.in_brewery || it->second.url.empty()) return false;
    const xmpp::BridgeStats& stats = it->second.stats;
    return !stats.shutting_down.value_or(false) && stats.healthy.value_or(true);
  }

  // And places a NEW conference only where it is also not draining nor in graceful shutdown.
  bool takes_new_conferences(const std::string& name) const {
    if (!serving(name)) return false;
    return !bridges_.at(name).stats.refuses_new_conferences();
  }

  std::string daemon_state_of(const std::string& name) const {
    if (!status_.is_object() || !status_.contains("bridges")) return "";
    for (const auto& bridge : status_["bridges"]) {
      if (bridge.value("name", "") == name) return bridge.value("state", "");
    }
    return "";
  }

  int participants_on(const std::string& name) const {
    int sum = 0;
    for (const auto& conference : conferences_) {
      if (conference.bridge == name) sum += conference.participants;
    }
    return sum;
  }

  // The least-loaded bridge that takes new conferences (BridgeSelector sorts by stress; the
  // demo knows each bridge's load exactly since it placed it). Empty when none.
  std::string least_loaded() const {
    std::string best;
    int best_load = 0;
    for (const auto& [name, view] : bridges_) {
      if (!takes_new_conferences(name)) continue;
      const int load = participants_on(name);
      if (best.empty() || load < best_load) {
        best = name;
        best_load = load;
      }
    }
    return best;
  }

  void drive_load(double t) {
    const double duration = options_.duration_seconds;
    // 1. Meetings whose bridge no longer serves them move (a short reconnect, not a cut).
    for (auto& conference : conferences_) {
      if (serving(conference.bridge)) continue;
      const std::string from = conference.bridge;
      const BridgeView& gone = bridges_[from];
      // A deleted instance is powered off: its bridge sends nothing more, and the calls on it
      // drop until Jicofo's health checks notice (issue 15). A bridge that shuts down
      // gracefully has its meetings moved before it leaves (at shutting_down).
      const std::string daemon_state = daemon_state_of(from);
      const bool cut =
          !gone.in_brewery && !gone.stats.shutting_down.value_or(false) &&
          (daemon_state.empty() || daemon_state == "deleting" || daemon_state == "failed");
      const std::string why = !gone.in_brewery                           ? "it left the brewery"
                              : gone.stats.shutting_down.value_or(false) ? "it is shutting down"
                                                                         : "it is unhealthy";
      const std::string to = least_loaded();
      const std::string what = conference.long_meeting
                                   ? "the long meeting"
                                   : "meeting #" + std::to_string(conference.id);
      if (cut || to.empty()) {
        cut_ += conference.participants;
        if (conference.long_meeting) long_cut_ = true;
        event_line(at(t) + what + " (" + std::to_string(conference.participants) +
                   " participants) is CUT: " +
                   (cut ? "its bridge " + from + " was deleted while they were on it"
                        : "no bridge can take it"));
        if (to.empty()) {
          conference.participants = 0;
          continue;
        }
      } else {
        moved_ += conference.participants;
        if (conference.long_meeting || conference.participants >= 5) {
          event_line(at(t) + what + " (" + std::to_string(conference.participants) +
                     " participants) moves from " + from + " to " + to + ": " + why +
                     " (a short reconnect, not a cut call)");
        }
      }
      conference.bridge = to;  // they rejoin elsewhere (after a cut: once Jicofo notices)
    }
    std::erase_if(conferences_, [](const Conference& c) { return c.participants == 0; });

    // 2. Meetings end (the long one only at its own end).
    for (auto& conference : conferences_) {
      if (t >= conference.ends_at) {
        if (conference.long_meeting) {
          event_line(at(t) + "the long meeting ends after " +
                     std::to_string(static_cast<int>(t - long_started_.value_or(t))) + " s on " +
                     conference.bridge + (long_cut_ ? " (it was cut once)" : ", never cut"));
        }
        conference.participants = 0;
      }
    }
    std::erase_if(conferences_, [](const Conference& c) { return c.participants == 0; });

    // 3. The long meeting: starts on the plateau, keeps taking newcomers wherever it is.
    if (!long_started_ && t >= 0.42 * duration) {
      // It happens to land on a bridge the agent manages (so the story shows its drain).
      const std::string where = least_loaded();
      if (!where.empty() && where != "jvb1") {
        long_started_ = t;
        conferences_.push_back({next_id_++, where, 6, 2 * duration, true});
        event_line(at(t) + "a long meeting starts on " + where);
      }
    }
    for (auto& conference : conferences_) {
      if (conference.long_meeting && conference.participants < kLongMeetingMax &&
          static_cast<int>(t) % 3 == 0) {
        ++conference.participants;  // a newcomer joins it on its bridge, draining or not
      }
    }

    // 4. The rest of the load: meetings of 4 to 14 lasting 10 % to 30 % of the demo.
    const int wanted = load_at(t, duration);
    int total = 0;
    for (const auto& conference : conferences_) total += conference.participants;
    std::uniform_int_distribution<int> size(4, 14);
    std::uniform_real_distribution<double> length(0.1 * duration, 0.3 * duration);
    for (int guard = 0; guard < 100 && total < wanted - 4; ++guard) {
      const std::string where = least_loaded();
      if (where.empty()) break;
      const int participants = std::min(size(random_), wanted - total);
      conferences_.push_back({next_id_++, where, participants, t + length(random_), false});
      total += participants;
    }
    for (int guard = 0; guard < 100 && total > wanted + 8; ++guard) {
      auto earliest = std::min_element(
          conferences_.begin(), conferences_.end(), [](const auto& a, const auto& b) {
            return (a.long_meeting ? 1e18 : a.ends_at) < (b.long_meeting ? 1e18 : b.ends_at);
          });
      if (earliest == conferences_.end() || earliest->long_meeting) break;
      total -= earliest->participants;
      conferences_.erase(earliest);
    }
    total_participants_ = total;

    // 5. Every bridge reports what was placed on it (draining or not).
    for (const auto& [name, view] : bridges_) {
      if (view.url.empty() || !view.in_brewery) continue;
      int participants = 0, count = 0;
      for (const auto& conference : conferences_) {
        if (conference.bridge != name) continue;
        participants += conference.participants;
        ++count;
      }
      json body = {{"participants", participants}, {"conferences", count}};
      async_http_post(io_, view.url + "/sim/load", body.dump(), 2, [](HttpOutcome) {});
      const double stress = static_cast<double>(participants) / kCapacity;
      if (stress > peak_stress_) {
        peak_stress_ = stress;
        peak_bridge_ = name;
        peak_time_ = t;
      }
    }
  }

  // --- output ---------------------------------------------------------------------------

  static std::string cell(const json& value, int precision = 2) {
    if (value.is_null()) return "-";
    if (value.is_number_float()) {
      std::ostringstream out;
      out << std::fixed << std::setprecision(precision) << value.get<double>();
      return out.str();
    }
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
  }

  static std::string at(double t) {
    std::ostringstream out;
    out << "[" << std::setw(4) << static_cast<int>(t) << "s] ";
    return out.str();
  }

  // An event line: appended at once when stdout is not a terminal; on a terminal it is kept
  // in the recent lines under the live table (and the table redraws in place).
  void event_line(const std::string& line) {
    if (!live_) {
      std::cout << line << std::endl;
      return;
    }
    recent_.push_back(line);
    while (recent_.size() > kRecentLines) recent_.pop_front();
  }

  // Decisions and bridge state changes since the last step, as event lines.
  void report_changes(double t) {
    for (const auto& decision : status_["last_decisions"]) {
      const std::string key = decision.value("time", "") + decision.value("reason", "");
      if (seen_decisions_.insert(key).second && decision.value("action", "") != "none") {
        event_line(at(t) + "decision " + decision.value("action", "") + ": " +
                   decision.value("reason", ""));
      }
    }
    std::set<std::string> present;
    for (const auto& bridge : status_["bridges"]) present.insert(bridge.value("name", ""));
    for (auto it = bridge_states_.begin(); it != bridge_states_.end();) {
      if (present.count(it->first) == 0) {
        event_line(at(t) + "bridge " + it->first + " is deleted (" +
                   std::to_string(participants_on(it->first)) + " participants on it)");
        it = bridge_states_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& bridge : status_["bridges"]) {
      const std::string name = bridge.value("name", "");
      const std::string state = bridge.value("state", "");
      if (bridge_states_[name] != state) {
        event_line(at(t) + "bridge " + name + " is " + state);
        bridge_states_[name] = state;
      }
    }
  }

  void show(double t) {
    if (live_) {
      draw(t);
    } else if (static_cast<int>(t) >= next_summary_) {
      // Plain output (a pipe, a file, --quiet): one load line every 10 s.
      next_summary_ = static_cast<int>(t) + 10;
      std::ostringstream line;
      line << at(t) << "load " << total_participants_ << " participants; stress";
      for (const auto& bridge : status_["bridges"]) {
        line << " " << bridge.value("name", "") << "=" << cell(bridge["stress"]);
      }
      std::cout << line.str() << std::endl;
    }
  }

  // Redraws the block (table + recent event lines) in place: cursor up over the previous
  // block, clear to the end of the screen, print the new one.
  void draw(double t) {
    std::ostringstream block;
    block << "  t=" << static_cast<int>(t) << "s/" << static_cast<int>(options_.duration_seconds)
          << "s  load " << total_participants_ << " participants in " << conferences_.size()
          << " meetings   desired " << cell(status_["desired"]) << " (min " << cell(status_["min"])
          << ", max " << cell(status_["max"]) << ")  cluster stress "
          << cell(status_["cluster_stress"]) << "\n";
    block << "  " << std::left << std::setw(12) << "BRIDGE" << std::setw(14) << "STATE"
          << std::setw(8) << "STRESS" << std::setw(14) << "PARTICIPANTS"
          << "PUBLISHES\n";
    for (const auto& bridge : status_["bridges"]) {
      const std::string name = bridge.value("name", "");
      std::string flags;
      const auto view = bridges_.find(name);
      if (view != bridges_.end() && view->second.in_brewery) {
        const xmpp::BridgeStats& stats = view->second.stats;
        if (stats.drain.value_or(false)) flags += "drain ";
        if (stats.graceful_shutdown.value_or(false)) flags += "graceful_shutdown ";
        if (stats.shutting_down.value_or(false)) flags += "shutting_down ";
        if (!stats.healthy.value_or(true)) flags += "unhealthy ";
        for (const auto& conference : conferences_) {
          if (conference.long_meeting && conference.bridge == name) flags += "(long meeting)";
        }
      }
      block << "  " << std::setw(12) << name << std::setw(14) << bridge.value("state", "")
            << std::setw(8) << cell(bridge["stress"]) << std::setw(14)
            << cell(bridge["participants"]) << flags << "\n";
    }
    block << "\n";
    for (const auto& line : recent_) block << line << "\n";
    const std::string text = block.str();
    if (drawn_lines_ > 0) std::cout << "\x1b[" << drawn_lines_ << "F\x1b[J";
    std::cout << text << std::flush;
    drawn_lines_ = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  std::string read_file(const std::string& name) const {
    std::ifstream in(dir_.path() / name);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  }

  int finish() {
    int created = 0, deleted = 0;
    std::istringstream log(read_file("agent.log"));
    for (std::string line; std::getline(log, line);) {
      if (line.find("creating bridge ") != std::string::npos) ++created;
      // The daemon's "bridge <name> deleted" line, not "... it will be deleted".
      const auto at = line.rfind(" bridge ");
      if (at != std::string::npos) {
        const std::string tail = line.substr(at + 8);
        const auto space = tail.find(' ');
        if (space != std::string::npos && tail.substr(space) == " deleted") ++deleted;
      }
    }
    if (jicofo_) jicofo_->stop();
    const int daemon_exit = daemon_ ? daemon_->terminate() : 0;
    if (daemon_exit != 0) {
      std::cerr << "demo: the daemon exited with " << daemon_exit << "; its log follows\n"
                << read_file("agent.log");
      failed_ = true;
    }
    daemon_.reset();
    static_bridge_.reset();
    fake_.reset();  // SIGTERM to the fake also stops the bridges it booted
    prosody_.reset();
    std::ostringstream peak;
    peak << std::fixed << std::setprecision(2) << peak_stress_;
    say("highest stress on any bridge: " + peak.str() +
        (peak_bridge_.empty() ? ""
                              : " (" + peak_bridge_ + " at " +
                                    std::to_string(static_cast<int>(peak_time_)) + " s)") +
        "; participants moved to another bridge: " + std::to_string(moved_) +
        ", cut: " + std::to_string(cut_));
    say("finished: " + std::to_string(created) + " bridge(s) created, " + std::to_string(deleted) +
        " deleted after draining or failing; everything stopped and " + dir_.path().string() +
        " removed");
    return failed_ ? 1 : 0;
  }

  DemoOptions options_;
  local::TempDir dir_;
  const bool live_;  // redraw a live table: stdout is a terminal and not --quiet
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_{io_};
  std::unique_ptr<local::LocalProsody> prosody_;
  std::unique_ptr<local::Process> fake_, static_bridge_, daemon_;
  EventQueue events_;
  std::unique_ptr<xmpp::BreweryClient> jicofo_;
  int fake_port_ = 0;
  std::chrono::steady_clock::time_point started_;
  json status_;
  std::map<std::string, BridgeView> bridges_;
  std::vector<Conference> conferences_;
  int next_id_ = 1;
  std::optional<double> long_started_;
  int total_participants_ = 0;
  int moved_ = 0, cut_ = 0;
  bool long_cut_ = false;
  double peak_stress_ = 0, peak_time_ = 0;
  std::string peak_bridge_;
  std::mt19937 random_{42};
  std::set<std::string> seen_decisions_;
  std::map<std::string, std::string> bridge_states_;
  std::deque<std::string> recent_;
  int drawn_lines_ = 0;
  int next_summary_ = 0;
  bool failed_ = false;
};

}  // namespace

int demo(const DemoOptions& options) {
  try {
    Demo demo(options);
    return demo.run();
  } catch (const std::exception& e) {
    std::cerr << "demo: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace agent
