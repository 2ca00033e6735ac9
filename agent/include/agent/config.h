#pragma once
// The configuration file (DESIGN.md section 4): typed sections, defaults, and a loader that
// reports every problem with its key path. Secrets are loaded into the `password`, `token`
// and `root_pass` fields and never printed by anything in this module.
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

struct DrainSection {
  std::string url = "http://{private_ip}:8080/colibri/drain/enable";
};

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
  nlohmann::json schedule = nullptr;  // raw `schedule` section (validated), null when absent
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
