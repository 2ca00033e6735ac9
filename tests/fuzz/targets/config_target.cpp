#include "config_target.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <set>

#include "agent/config.h"

namespace jvb_fuzz {

namespace {

using nlohmann::json;

// The key path an error starts with: text before the first ':' (key paths such as
// "xmpp.port" or "linode.tags[2]" hold no ':' themselves unless the document's own key does).
bool starts_with_key_path(const std::string& error, const std::set<std::string>& top_level_keys,
                          const std::vector<std::string>& other_prefixes) {
  for (const auto& prefix : other_prefixes) {
    if (error.rfind(prefix + ": ", 0) == 0) return true;
  }
  for (const auto& key : top_level_keys) {
    if (error.size() <= key.size() || error.compare(0, key.size(), key) != 0) continue;
    const char next = error[key.size()];
    if ((next == '.' || next == '[') && error.find(": ", key.size()) != std::string::npos) {
      return true;
    }
    if (next == ':' && error.compare(key.size(), 2, ": ") == 0) return true;
  }
  return false;
}

std::set<std::string> top_level_keys(const json& document) {
  // Sections every use reports as missing ("xmpp: section is required ...") even when absent.
  std::set<std::string> keys = {"xmpp", "linode", "scaling", "simulation", "schedule"};
  if (document.is_object()) {
    for (const auto& [key, value] : document.items()) keys.insert(key);
  }
  return keys;
}

std::optional<std::string> invariant_violation(const agent::Config& config) {
  const auto& s = config.scaling;
  if (s.min_bridges < 0 || s.max_bridges < 1 || s.min_bridges > s.max_bridges) {
    return "accepted min_bridges " + std::to_string(s.min_bridges) + " / max_bridges " +
           std::to_string(s.max_bridges);
  }
  for (double value :
       {s.scale_up_threshold, s.scale_down_threshold, s.target_stress, s.period_seconds,
        s.cooldown_seconds, s.boot_timeout_seconds, s.drain_timeout_seconds,
        config.simulation.capacity_participants, config.simulation.boot_seconds}) {
    if (!std::isfinite(value) || value < 0) {
      return "accepted a non-finite or negative scaling/simulation number";
    }
  }
  if (!(s.scale_down_threshold < s.scale_up_threshold)) {
    return "accepted scale_down_threshold >= scale_up_threshold";
  }
  if (s.period_seconds <= 0 || config.simulation.capacity_participants <= 0) {
    return "accepted period_seconds or capacity_participants <= 0";
  }
  if (s.scale_up_step < 1 || s.scale_down_step < 1 || s.scale_up_periods < 1 ||
      s.scale_down_periods < 1) {
    return "accepted a step or period count below 1";
  }
  if (config.xmpp.port < 1 || config.xmpp.port > 65535) {
    return "accepted xmpp.port " + std::to_string(config.xmpp.port);
  }
  if (!config.schedule.is_null() && !config.schedule.is_object()) {
    return "accepted a schedule that is not an object";
  }
  if (config.linode.tags.empty()) return "accepted an empty linode.tags";
  return std::nullopt;
}

std::optional<std::string> result_violation(const agent::ConfigResult& result,
                                            const std::set<std::string>& keys,
                                            const std::vector<std::string>& other_prefixes) {
  if (result.config.has_value() == !result.errors.empty()) {
    return result.config ? "config returned together with errors" : "no config and no error either";
  }
  for (const auto& error : result.errors) {
    if (!starts_with_key_path(error, keys, other_prefixes)) {
      return "error does not start with a key path: " + printable(error);
    }
  }
  if (result.config) return invariant_violation(*result.config);
  return std::nullopt;
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace

Verdict ConfigSimulateTarget::check(std::string_view input) {
  const json document = json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Verdict::ok(false);
  agent::ConfigResult result;
  try {
    result = agent::parse_config(document, agent::ConfigUse::kSimulate);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("parse_config threw: ") + error.what());
  }
  if (auto why = result_violation(result, top_level_keys(document), {"(top level)"})) {
    return Verdict::fail(*why);
  }
  return Verdict::ok(result.config.has_value());
}

ConfigCheckTarget::ConfigCheckTarget() {
  // The environment would override token_file; the campaign must read the file.
  ::unsetenv("LINODE_TOKEN");
  std::string pattern =
      (std::filesystem::temp_directory_path() / "jvb-fuzz-config-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  directory_ = pattern;
  const std::string tag = std::to_string(stable_hash(directory_.string()));
  xmpp_secret_ = "xmpp-secret-" + tag;
  linode_secret_ = "linode-secret-" + tag;
  root_pass_secret_ = "root-pass-secret-" + tag;
  write_file(directory_ / "xmpp.pass", xmpp_secret_ + "\n");
  write_file(directory_ / "linode.token", linode_secret_ + "\n");
  write_file(directory_ / "root.pass", root_pass_secret_);
  write_file(directory_ / "user-data.yaml", "#cloud-config\nhostname: {{label}}\n");
  write_file(directory_ / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  std::filesystem::permissions(directory_ / "xmpp.pass", std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write);
  std::filesystem::permissions(
      directory_ / "linode.token",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

ConfigCheckTarget::~ConfigCheckTarget() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

Verdict ConfigCheckTarget::check(std::string_view input) {
  std::string text(input);
  for (std::size_t at = text.find("@DIR@"); at != std::string::npos; at = text.find("@DIR@", at)) {
    text.replace(at, 5, directory_.string());
    at += directory_.string().size();
  }
  const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const std::filesystem::path path = directory_ / "config.json";
  write_file(path, text);
  agent::ConfigResult result;
  try {
    result = agent::load_config(path.string(), agent::ConfigUse::kCheck);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("load_config threw: ") + error.what());
  }
  if (auto why =
          result_violation(result, top_level_keys(document), {"(top level)", path.string()})) {
    return Verdict::fail(*why);
  }
  for (const auto* list : {&result.errors, &result.warnings}) {
    for (const auto& message : *list) {
      for (const auto* secret : {&xmpp_secret_, &linode_secret_, &root_pass_secret_}) {
        // libFuzzer learns the secrets from this very comparison and writes them into the
        // config text; quoting the config's own text is no leak of the secret file.
        if (text.find(*secret) != std::string::npos) continue;
        if (message.find(*secret) != std::string::npos) {
          return Verdict::fail("a secret appears in an error or warning: " + printable(message));
        }
      }
    }
  }
  if (result.config) {
    const auto& config = *result.config;
    if (config.xmpp.password_file == (directory_ / "xmpp.pass").string() &&
        config.xmpp.password != xmpp_secret_) {
      return Verdict::fail("xmpp.password was not read exactly from password_file");
    }
    if (config.linode.token_file == (directory_ / "linode.token").string() &&
        config.linode.token != linode_secret_) {
      return Verdict::fail("linode.token was not read exactly from token_file");
    }
    if (config.linode.token.empty() || config.xmpp.password.empty()) {
      return Verdict::fail("check-config accepted a config without both secrets");
    }
  }
  return Verdict::ok(result.config.has_value());
}

}  // namespace jvb_fuzz
