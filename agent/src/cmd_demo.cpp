// `jvb-autoscaler demo`: the whole loop on this machine with no cloud account. A local
// Prosody, the fake Linode API whose "instances" boot as jvb-sim bridges, one static
// (unmanaged) bridge like the guide's jvb1, the real daemon as a child process, and a load
// driver that places conferences on the least-stressed bridge the way Jicofo does.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "agent/commands.h"
#include "agent/control_client.h"
#include "agent/http_post.h"
#include "agent/local_cluster.h"

namespace agent {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kDomain = "auth.demo.local";
constexpr int kConferenceSize = 10;
constexpr int kPeakParticipants = 320;  // ~4.5 bridges of 100 at the 0.7 threshold

void write_secret(const fs::path& file, const std::string& content) {
  std::ofstream(file) << content << "\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

// Participants wanted at `t` of `duration`: quiet, a rise to the peak, a plateau, a fall.
int load_at(double t, double duration) {
  const double x = t / duration;
  double level = 0;
  if (x < 0.1) {
    level = 0.1;
  } else if (x < 0.35) {
    level = 0.1 + 0.9 * (x - 0.1) / 0.25;
  } else if (x < 0.55) {
    level = 1.0;
  } else if (x < 0.75) {
    level = 1.0 - 0.95 * (x - 0.55) / 0.2;
  } else {
    level = 0.05;
  }
  return static_cast<int>(std::lround(level * kPeakParticipants));
}

struct Conference {
  std::string bridge;
  int participants = kConferenceSize;
};

class Demo {
 public:
  explicit Demo(const DemoOptions& options) : options_(options), dir_("jvb-autoscaler-demo-") {}

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
                                           {"jvb", "demo-jvb-pw"}});
    write_secret(dir_.path() / "xmpp.pass", "demo-autoscaler-pw");
    write_secret(dir_.path() / "jvb.pass", "demo-jvb-pw");
    write_secret(dir_.path() / "linode.token", "demo-token");

    const std::string sim_common = (bin / "jvb-sim").string() + " --host 127.0.0.1 --port " +
                                   std::to_string(prosody_->port()) + " --domain " + kDomain +
                                   " --username jvb --password-file " +
                                   (dir_.path() / "jvb.pass").string() + " --brewery " +
                                   prosody_->brewery() + " --interval 2 --drain-seconds 12";
    fake_port_ = local::free_tcp_port();
    say("starting the fake Linode API on 127.0.0.1:" + std::to_string(fake_port_) +
        " (new instances boot as simulated bridges after 6 s)");
    fake_ = std::make_unique<local::Process>(
        std::vector<std::string>{(bin / "fake-linode").string(), "--listen",
                                 "127.0.0.1:" + std::to_string(fake_port_), "--token", "demo-token",
                                 "--boot-seconds", "4", "--hook-delay", "6", "--on-create",
                                 sim_common + " --nickname {label} --http {private_ip}:8080"},
        dir_.path() / "fake-linode.log");
    if (!local::wait_for_tcp_port(fake_port_, 15)) {
      std::cerr << "demo: the fake Linode API did not start (see its log)\n";
      return 1;
    }
    const int static_port = local::free_tcp_port();
    static_bridge_url_ = "http://127.0.0.1:" + std::to_string(static_port);
    say("starting the static bridge jvb1 (not managed by the agent, like the guide's jvb1)");
    std::vector<std::string> static_argv;
    {
      std::istringstream words(sim_common +
                               " --nickname jvb1 --http 127.0.0.1:" + std::to_string(static_port));
      for (std::string word; words >> word;) static_argv.push_back(word);
    }
    static_bridge_ = std::make_unique<local::Process>(static_argv, dir_.path() / "jvb1.log");

    write_config();
    say("starting jvb-autoscaler run --config " + (dir_.path() / "config.json").string());
    daemon_ = std::make_unique<local::Process>(
        std::vector<std::string>{(bin / "jvb-autoscaler").string(), "run", "--config",
                                 (dir_.path() / "config.json").string()},
        dir_.path() / "agent.log");

    boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      say("interrupted: stopping everything");
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
                     {"period_seconds", 2},
                     {"scale_up_periods", 2},
                     {"scale_down_periods", 4},
                     {"cooldown_seconds", 8},
                     {"boot_timeout_seconds", 90},
                     {"drain_timeout_seconds", 60}}},
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
    if (status_.is_object() && status_.value("ok", false)) {
      drive_load(load_at(t, options_.duration_seconds));
      report(t);
    }
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) step();
    });
  }

  // Jicofo-like placement: new conferences go to the least-loaded ready bridge; conferences
  // on a bridge that drains or disappears move away (their participants rejoin elsewhere).
  void drive_load(int wanted_participants) {
    std::map<std::string, std::string> ready;  // name -> sim load URL
    for (const auto& bridge : status_["bridges"]) {
      const std::string state = bridge.value("state", "");
      const std::string name = bridge.value("name", "");
      if (state != "ready" && state != "unmanaged") continue;
      if (name == "jvb1") {
        ready[name] = static_bridge_url_;
      } else if (bridge.contains("private_ip") && bridge["private_ip"].is_string()) {
        ready[name] = "http://" + bridge["private_ip"].get<std::string>() + ":8080";
      }
    }
    std::vector<Conference> kept;
    for (auto& conference : conferences_) {
      if (ready.count(conference.bridge) != 0) kept.push_back(conference);
    }
    conferences_ = std::move(kept);
    if (ready.empty()) return;
    const int wanted = wanted_participants / kConferenceSize;
    while (static_cast<int>(conferences_.size()) > wanted) {
      std::uniform_int_distribution<size_t> pick(0, conferences_.size() - 1);
      conferences_.erase(conferences_.begin() + static_cast<std::ptrdiff_t>(pick(random_)));
    }
    std::map<std::string, int> load;
    for (const auto& [name, url] : ready) load[name] = 0;
    for (const auto& conference : conferences_) load[conference.bridge] += conference.participants;
    while (static_cast<int>(conferences_.size()) < wanted) {
      auto least = std::min_element(load.begin(), load.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      });
      conferences_.push_back({least->first, kConferenceSize});
      least->second += kConferenceSize;
    }
    for (const auto& entry : ready) {
      const std::string& name = entry.first;  // not a structured binding: captured below
      const std::string& url = entry.second;
      const int count =
          static_cast<int>(std::count_if(conferences_.begin(), conferences_.end(),
                                         [&](const Conference& c) { return c.bridge == name; }));
      json body = {{"participants", load[name]}, {"conferences", count}};
      async_http_post(io_, url + "/sim/load", body.dump(), 2, [](HttpOutcome) {});
    }
    total_participants_ = 0;
    for (const auto& [name, participants] : load) total_participants_ += participants;
  }

  static std::string cell(const json& value, int precision = 2) {
    if (value.is_null()) return "-";
    if (value.is_number_float()) {
      std::ostringstream out;
      out << std::fixed << std::setprecision(precision) << value.get<double>();
      return out.str();
    }
    return value.dump();
  }

  void report(double t) {
    // Decisions and state changes as event lines (always), the table when on a terminal.
    for (const auto& decision : status_["last_decisions"]) {
      const std::string key = decision.value("time", "") + decision.value("reason", "");
      if (seen_decisions_.insert(key).second && decision.value("action", "") != "none") {
        std::cout << "[" << std::setw(4) << static_cast<int>(t) << "s] decision "
                  << decision.value("action", "") << ": " << decision.value("reason", "")
                  << std::endl;
      }
    }
    std::set<std::string> present;
    for (const auto& bridge : status_["bridges"]) present.insert(bridge.value("name", ""));
    for (auto it = bridge_states_.begin(); it != bridge_states_.end();) {
      if (present.count(it->first) == 0) {
        std::cout << "[" << std::setw(4) << static_cast<int>(t) << "s] bridge " << it->first
                  << " is deleted" << std::endl;
        it = bridge_states_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& bridge : status_["bridges"]) {
      const std::string name = bridge.value("name", "");
      const std::string state = bridge.value("state", "");
      if (bridge_states_[name] != state) {
        std::cout << "[" << std::setw(4) << static_cast<int>(t) << "s] bridge " << name << " is "
                  << state << std::endl;
        bridge_states_[name] = state;
      }
    }
    if (options_.quiet || !::isatty(STDOUT_FILENO)) return;
    std::ostringstream table;
    table << "\n  t=" << static_cast<int>(t) << "s/" << static_cast<int>(options_.duration_seconds)
          << "s  load " << total_participants_ << " participants in " << conferences_.size()
          << " conferences   desired " << cell(status_["desired"]) << " (min "
          << cell(status_["min"]) << ", max " << cell(status_["max"]) << ")  cluster stress "
          << cell(status_["cluster_stress"]) << "\n";
    table << "  " << std::left << std::setw(12) << "BRIDGE" << std::setw(14) << "STATE"
          << std::setw(8) << "STRESS"
          << "PARTICIPANTS\n";
    for (const auto& bridge : status_["bridges"]) {
      table << "  " << std::setw(12) << bridge.value("name", "") << std::setw(14)
            << bridge.value("state", "") << std::setw(8) << cell(bridge["stress"])
            << cell(bridge["participants"]) << "\n";
    }
    std::cout << table.str() << std::flush;
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
    say("finished: " + std::to_string(created) + " bridge(s) created, " + std::to_string(deleted) +
        " deleted after draining or failing; everything stopped and " + dir_.path().string() +
        " removed");
    return failed_ ? 1 : 0;
  }

  DemoOptions options_;
  local::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_{io_};
  std::unique_ptr<local::LocalProsody> prosody_;
  std::unique_ptr<local::Process> fake_, static_bridge_, daemon_;
  int fake_port_ = 0;
  std::string static_bridge_url_;
  std::chrono::steady_clock::time_point started_;
  json status_;
  std::vector<Conference> conferences_;
  int total_participants_ = 0;
  std::mt19937 random_{42};
  std::set<std::string> seen_decisions_;
  std::map<std::string, std::string> bridge_states_;
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
