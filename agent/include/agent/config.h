#pragma once
// The configuration file (DESIGN.md section 4): typed sections, defaults, and a loader that
// reports every problem with its key path. Secrets are loaded into the `password`, `token`
// and `root_pass` fields and never printed by anything in this module.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "scaling/config.h"

namespace agent {

// What the configuration is loaded for decides which sections must be present and which
// files (secrets, templates) are read.
enum class ConfigUse {
  kDaemon,    // `run`: everything, secrets and templates read
  kCheck,     // `check-config`: everything validated, secret files checked for readability
  kWatch,     // `watch`: xmpp section (password read) only; others validated if present
  kSimulate,  // `simulate`: scaling, simulation, schedule; other sections may be absent
};

struct XmppSection {
  std::string host = "127.0.0.1";
  int port = 5222;
  std::string domain;    // required, e.g. auth.meet.example.com
  std::string username;  // required
  std::string password_file = "/etc/jvb-autoscaler/xmpp.pass";
  std::string brewery;  // default: jvbbrewery@internal.<domain>
  std::string nickname = "jvb-autoscaler";
  std::optional<std::string> advertise_host;  // default: host
  std::string tls = "required";               // required | optional | disabled
  bool verify_certificate = true;
  std::optional<std::string> ca_file;
  // A bridge whose last presence is older than this (or than 3 periods, whichever is longer)
  // has unknown stats: not counted as capacity, and it blocks scale-down.
  double stats_timeout_seconds = 60;
  // XEP-0199 keepalive: a ping to the server every `ping_interval_seconds`; unanswered within
  // `ping_timeout_seconds` the connection counts as down (blind). Both in [1, 3600], timeout
  // <= interval. For xmpp::ClientConfig (DESIGN §5 "Blind means hold").
  double ping_interval_seconds = 15;
  double ping_timeout_seconds = 10;
  std::string password;  // secret, read from password_file

  const std::string& effective_advertise_host() const {
    return advertise_host ? *advertise_host : host;
  }
};

struct LinodeSection {
  std::string api_url = "https://api.linode.com/v4";
  std::string token_file = "/etc/jvb-autoscaler/linode.token";
  std::string region;  // required
  std::string type;    // required
  std::string image;   // required
  std::string label_prefix = "jvb-as-";
  std::vector<std::string> tags = {"jitsi", "jvb-autoscaler"};
  std::vector<std::string> authorized_keys;
  std::optional<std::string> root_pass_file;
  bool private_ip = true;
  std::optional<int64_t> firewall_id;
  std::optional<std::string> user_data_file = "/etc/jvb-autoscaler/jvb-cloud-init.yaml";
  std::string token;                              // secret: LINODE_TOKEN or token_file
  std::optional<std::string> root_pass;           // secret
  std::optional<std::string> user_data_template;  // content of user_data_file
};

// JVB's REST endpoints; placeholders {label}, {private_ip}, {public_ip}, {linode_id}.
struct DrainSection {
  std::string url = "http://{private_ip}:8080/colibri/drain/enable";
  // Undo a drain when load returns (DESIGN §5 "Undrain before create").
  std::string disable_url = "http://{private_ip}:8080/colibri/drain/disable";
  // Graceful shutdown at the drain timeout: POST {"graceful-shutdown": true}. nullopt (null in
  // the file): shut the instance down through the Linode API instead.
  std::optional<std::string> shutdown_url = "http://{private_ip}:8080/colibri/shutdown";
};

// The `schedule` section parsed once: a schedule::ScheduleConfig, defined in
// "agent/schedule_section.h". Held by pointer so that this header does not declare namespace
// `schedule`: that name breaks boost::asio's unqualified schedule() when it is seen first.
struct ScheduleSection;

struct Config {
  std::string path;  // the file it came from
  XmppSection xmpp;
  LinodeSection linode;
  scaling::ScalingConfig scaling;
  DrainSection drain;
  std::string metrics_listen = "127.0.0.1:9464";
  std::string control_socket = "/run/jvb-autoscaler/control.sock";
  std::string state_file = "/var/lib/jvb-autoscaler/state.json";
  bool dry_run = false;
  scaling::SimulationConfig simulation;
  // The `schedule` section, parsed once by parse_config (null when absent).
  std::shared_ptr<const ScheduleSection> schedule_config;
  // Deprecated: the raw section (null when absent), kept until `run` and `simulate` use
  // schedule_config instead of parsing it again.
  nlohmann::json schedule = nullptr;
  std::string log_level = "info";
};

struct ConfigResult {
  std::optional<Config> config;       // set when there is no error
  std::vector<std::string> errors;    // "<key.path>: <problem>" each
  std::vector<std::string> warnings;  // e.g. a world-readable secret file
};

ConfigResult load_config(const std::string& path, ConfigUse use);
// Same rules on an already parsed document (tests, fuzzing). Files named in it are read
// according to `use`.
ConfigResult parse_config(const nlohmann::json& document, ConfigUse use);

// Prints every warning and error of `result` on `out`, each prefixed by the file, e.g.
// "config.json: scaling.min_bridges: (5) must not exceed scaling.max_bridges (3)".
void print_config_problems(const std::string& path, const ConfigResult& result, std::ostream& out);

// The simulate command's defaults when no --config is given.
Config default_config();

}  // namespace agent
