#include "agent/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "agent/schedule_section.h"
#include "linode/validation.h"
#include "scaling/keys.h"
#include "schedule/schedule.h"

namespace agent {
namespace {

using nlohmann::json;

std::string type_name(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

// Reads one JSON object with typed getters; every problem is appended to `errors` prefixed by
// the key path, and keys never asked for are reported as unknown (typos must not silently
// change behaviour). A missing object (section absent) leaves every default in place.
class ObjectReader {
 public:
  ObjectReader(const json* object, std::string path, std::vector<std::string>& errors)
      : object_(object), path_(std::move(path)), errors_(errors) {
    if (object_ != nullptr && !object_->is_object()) {
      error(path_, "expected an object, got " + type_name(*object_));
      object_ = nullptr;
    }
  }
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;
  ~ObjectReader() { report_unknown_keys(); }

  bool present() const { return object_ != nullptr; }
  std::string key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  // Returns the value for `key` (marking it known) or nullptr when absent or null.
  const json* find(const std::string& key) {
    known_.insert(key);
    if (object_ == nullptr) return nullptr;
    auto it = object_->find(key);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  void require(const std::string& key, bool needed) {
    if (needed && find(key) == nullptr) error(key_path(key), "is required and has no default");
  }

  void text(const std::string& key, std::string& out, bool required = false) {
    const json* value = find(key);
    if (value == nullptr) {
      if (required) error(key_path(key), "is required and has no default");
      return;
    }
    if (!value->is_string()) return type_error(key, "a string", *value);
    out = value->get<std::string>();
    if (required && out.empty()) error(key_path(key), "must not be empty");
  }

  void optional_text(const std::string& key, std::optional<std::string>& out) {
    known_.insert(key);
    if (object_ == nullptr || !object_->contains(key)) return;
    const json& value = (*object_)[key];
    if (value.is_null()) {
      out.reset();
    } else if (value.is_string()) {
      out = value.get<std::string>();
    } else {
      type_error(key, "a string or null", value);
    }
  }

  void choice(const std::string& key, std::string& out,
              std::initializer_list<const char*> allowed) {
    std::string value = out;
    text(key, value);
    std::string list;
    for (const char* option : allowed) {
      if (value == option) {
        out = value;
        return;
      }
      list += (list.empty() ? "" : ", ") + std::string(option);
    }
    error(key_path(key), "must be one of " + list + ", got \"" + value + "\"");
  }

  void integer(const std::string& key, int& out, int min, int max = 1'000'000) {
    const json* value = find(key);
    if (value == nullptr) return;
    if (!value->is_number_integer() && !value->is_number_unsigned()) {
      return type_error(key, "an integer", *value);
    }
    const int64_t v = value->get<int64_t>();
    if (v < min || v > max) {
      return error(key_path(key), "must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + ", got " + std::to_string(v));
    }
    out = static_cast<int>(v);
  }

  void optional_id(const std::string& key, std::optional<int64_t>& out) {
    const json* value = find(key);
    if (value == nullptr) return;
    if (!value->is_number_integer() && !value->is_number_unsigned()) {
      return type_error(key, "an integer or null", *value);
    }
    if (value->get<int64_t>() <= 0) return error(key_path(key), "must be a positive id");
    out = value->get<int64_t>();
  }

  // A number in [min, max] (min excluded when `exclusive_min`).
  void number(const std::string& key, double& out, double min, double max, bool exclusive_min) {
    const json* value = find(key);
    if (value == nullptr) return;
    if (!value->is_number()) return type_error(key, "a number", *value);
    const double v = value->get<double>();
    const bool too_low = exclusive_min ? v <= min : v < min;
    if (!std::isfinite(v) || too_low || v > max) {
      std::ostringstream message;
      message << "must be " << (exclusive_min ? "greater than " : "at least ") << min
              << " and at most " << max << ", got " << v;
      return error(key_path(key), message.str());
    }
    out = v;
  }

  // A key of the one scaling-key table (scaling/keys.h): its type and range come from there.
  void scaling_key(const scaling::ScalingKey& key, scaling::ScalingConfig& config) {
    const std::string name(key.name);
    if (key.type == scaling::KeyType::kPolicy) {
      std::string policy = config.policy == scaling::PolicyKind::kTarget ? "target" : "threshold";
      choice(name, policy, {"threshold", "target"});
      config.policy =
          policy == "target" ? scaling::PolicyKind::kTarget : scaling::PolicyKind::kThreshold;
      return;
    }
    if (key.type == scaling::KeyType::kBoolean) return boolean(name, config.*key.flag);
    const json* value = find(name);
    if (value == nullptr) return;
    const bool integer = key.type == scaling::KeyType::kInteger;
    if (integer && !value->is_number_integer() && !value->is_number_unsigned()) {
      return type_error(name, "an integer", *value);
    }
    if (!value->is_number()) return type_error(name, "a number", *value);
    const double v = value->get<double>();
    if (const auto problem = scaling::check_range(key, v)) return error(key_path(name), *problem);
    if (integer) {
      config.*key.integer = static_cast<int>(value->get<int64_t>());
    } else {
      config.*key.number = v;
    }
  }

  // A URL template (http:// or https://), or null when `nullable`.
  void url(const std::string& key, std::optional<std::string>& out, bool nullable) {
    known_.insert(key);
    if (object_ == nullptr || !object_->contains(key)) return;
    const json& value = (*object_)[key];
    if (value.is_null()) {
      if (!nullable) return type_error(key, "an http:// or https:// URL", value);
      out.reset();
      return;
    }
    if (!value.is_string()) {
      return type_error(key, nullable ? "a URL or null" : "an http:// or https:// URL", value);
    }
    const std::string text = value.get<std::string>();
    if (text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0) {
      return error(key_path(key), "must be an http:// or https:// URL");
    }
    out = text;
  }

  void boolean(const std::string& key, bool& out) {
    const json* value = find(key);
    if (value == nullptr) return;
    if (!value->is_boolean()) return type_error(key, "true or false", *value);
    out = value->get<bool>();
  }

  void text_list(const std::string& key, std::vector<std::string>& out) {
    const json* value = find(key);
    if (value == nullptr) return;
    if (!value->is_array()) return type_error(key, "an array of strings", *value);
    std::vector<std::string> items;
    for (size_t i = 0; i < value->size(); ++i) {
      if (!(*value)[i].is_string()) {
        return error(key_path(key) + "[" + std::to_string(i) + "]",
                     "expected a string, got " + type_name((*value)[i]));
      }
      items.push_back((*value)[i].get<std::string>());
    }
    out = std::move(items);
  }

  void error(const std::string& key_path, const std::string& message) {
    errors_.push_back(key_path + ": " + message);
  }

 private:
  void type_error(const std::string& key, const std::string& expected, const json& got) {
    error(key_path(key), "expected " + expected + ", got " + type_name(got));
  }

  void report_unknown_keys() {
    if (object_ == nullptr) return;
    for (const auto& [key, value] : object_->items()) {
      if (known_.count(key) != 0) continue;
      std::string message = "unknown key";
      const std::vector<std::string_view> candidates(known_.begin(), known_.end());
      if (const auto best = scaling::closest(key, candidates)) {
        message += " (did you mean \"" + *best + "\"?)";
      }
      error(key_path(key), message);
    }
  }

  const json* object_;
  std::string path_;
  std::vector<std::string>& errors_;
  std::set<std::string> known_;
};

// Reads a secret file without echoing it: trailing newlines are stripped; the content never
// reaches a message. Warns when the file is readable by every user.
bool read_secret(const std::string& key_path, const std::string& file, std::string& out,
                 ConfigResult& result) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    result.errors.push_back(key_path + ": cannot read secret file " + file +
                            " (check that it exists and that the service user may read it)");
    return false;
  }
  std::ostringstream content;
  content << in.rdbuf();
  out = content.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
    out.pop_back();
  }
  if (out.empty()) {
    result.errors.push_back(key_path + ": secret file " + file + " is empty");
    return false;
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) == 0 && (info.st_mode & S_IROTH) != 0) {
    result.warnings.push_back(key_path + ": " + file +
                              " is readable by every user; run: chmod 600 " + file);
  }
  return true;
}

bool read_text_file(const std::string& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream content;
  content << in.rdbuf();
  out = content.str();
  return true;
}

void parse_xmpp(const json* section, ConfigUse use, Config& config, ConfigResult& result) {
  const bool needed =
      use == ConfigUse::kDaemon || use == ConfigUse::kCheck || use == ConfigUse::kWatch;
  if (section == nullptr && needed) {
    result.errors.push_back("xmpp: section is required (the account the agent logs in with)");
    return;
  }
  if (section == nullptr) return;
  XmppSection& x = config.xmpp;
  ObjectReader r(section, "xmpp", result.errors);
  r.text("host", x.host);
  r.integer("port", x.port, 1, 65535);
  r.text("domain", x.domain, needed);
  r.text("username", x.username, needed);
  r.text("password_file", x.password_file);
  r.text("brewery", x.brewery);
  r.text("nickname", x.nickname);
  r.optional_text("advertise_host", x.advertise_host);
  r.choice("tls", x.tls, {"required", "optional", "disabled"});
  r.boolean("verify_certificate", x.verify_certificate);
  r.optional_text("ca_file", x.ca_file);
  r.number("stats_timeout_seconds", x.stats_timeout_seconds, 1, 3'600, false);
  r.number("ping_interval_seconds", x.ping_interval_seconds, 1, 3'600, false);
  r.number("ping_timeout_seconds", x.ping_timeout_seconds, 1, 3'600, false);
  if (x.ping_timeout_seconds > x.ping_interval_seconds) {
    std::ostringstream message;
    message << "(" << x.ping_timeout_seconds << ") must not exceed xmpp.ping_interval_seconds ("
            << x.ping_interval_seconds << ")";
    r.error("xmpp.ping_timeout_seconds", message.str());
  }
  if (x.brewery.empty() && !x.domain.empty()) x.brewery = "jvbbrewery@internal." + x.domain;
  if (!x.brewery.empty() && x.brewery.find('@') == std::string::npos) {
    r.error("xmpp.brewery", "must be a room JID like jvbbrewery@internal.auth.example.com, got \"" +
                                x.brewery + "\"");
  }
  if (x.nickname.empty()) r.error("xmpp.nickname", "must not be empty");
  if (x.ca_file && use != ConfigUse::kSimulate) {
    std::string ignored;
    if (!read_text_file(*x.ca_file, ignored)) {
      r.error("xmpp.ca_file", "cannot read " + *x.ca_file);
    }
  }
  if (needed && !x.password_file.empty()) {
    read_secret("xmpp.password_file", x.password_file, x.password, result);
  }
}

void parse_linode(const json* section, ConfigUse use, Config& config, ConfigResult& result) {
  const bool needed = use == ConfigUse::kDaemon || use == ConfigUse::kCheck;
  if (section == nullptr && needed) {
    result.errors.push_back("linode: section is required (region, type, image of new bridges)");
    return;
  }
  if (section == nullptr) return;
  LinodeSection& l = config.linode;
  ObjectReader r(section, "linode", result.errors);
  r.text("api_url", l.api_url);
  r.text("token_file", l.token_file);
  r.text("region", l.region, needed);
  r.text("type", l.type, needed);
  r.text("image", l.image, needed);
  r.text("label_prefix", l.label_prefix);
  r.text_list("tags", l.tags);
  r.text_list("authorized_keys", l.authorized_keys);
  r.optional_text("root_pass_file", l.root_pass_file);
  r.boolean("private_ip", l.private_ip);
  r.optional_id("firewall_id", l.firewall_id);
  r.optional_text("user_data_file", l.user_data_file);
  if (l.api_url.rfind("http://", 0) != 0 && l.api_url.rfind("https://", 0) != 0) {
    r.error("linode.api_url", "must start with https:// (or http:// for a local test API)");
  }
  while (!l.api_url.empty() && l.api_url.back() == '/') l.api_url.pop_back();
  // Label and tag rules exactly as the Linode API applies them (linode/validation.h cites the
  // API reference): a prefix the API would refuse makes every create a refused POST.
  if (auto problem = linode::validate_label_prefix(l.label_prefix)) {
    r.error("linode.label_prefix", *problem);
  }
  for (size_t i = 0; i < l.tags.size(); ++i) {
    if (auto problem = linode::validate_tag(l.tags[i])) {
      r.error("linode.tags[" + std::to_string(i) + "]", *problem);
    }
  }
  if (l.tags.empty()) {
    r.error("linode.tags", "must hold at least one tag: tags are how the agent finds its bridges");
  }
  if (!needed) return;
  if (const char* env = std::getenv("LINODE_TOKEN"); env != nullptr && *env != '\0') {
    l.token = env;
    while (!l.token.empty() && (l.token.back() == '\n' || l.token.back() == ' ')) {
      l.token.pop_back();
    }
  } else {
    read_secret("linode.token_file", l.token_file, l.token, result);
  }
  if (l.root_pass_file) {
    std::string root_pass;
    if (read_secret("linode.root_pass_file", *l.root_pass_file, root_pass, result)) {
      l.root_pass = std::move(root_pass);
    }
  }
  if (l.user_data_file) {
    std::string content;
    if (!read_text_file(*l.user_data_file, content)) {
      r.error("linode.user_data_file",
              "cannot read " + *l.user_data_file +
                  " (the cloud-init template for new bridges; set it to null to send none)");
    } else {
      l.user_data_template = std::move(content);
    }
  }
}

void parse_scaling(const json* section, scaling::ScalingConfig& s, ConfigResult& result) {
  ObjectReader r(section, "scaling", result.errors);
  for (const scaling::ScalingKey& key : scaling::scaling_keys()) r.scaling_key(key, s);
  if (s.min_bridges > s.max_bridges) {
    r.error("scaling.min_bridges", "(" + std::to_string(s.min_bridges) +
                                       ") must not exceed scaling.max_bridges (" +
                                       std::to_string(s.max_bridges) + ")");
  }
  if (s.scale_down_threshold >= s.scale_up_threshold) {
    std::ostringstream message;
    message << "(" << s.scale_down_threshold << ") must be below scaling.scale_up_threshold ("
            << s.scale_up_threshold << ")";
    r.error("scaling.scale_down_threshold", message.str());
  }
}

void parse_simulation(const json* section, scaling::SimulationConfig& sim, ConfigResult& result) {
  ObjectReader r(section, "simulation", result.errors);
  r.number("capacity_participants", sim.capacity_participants, 0, 1e6, true);
  r.number("boot_seconds", sim.boot_seconds, 0, 86'400, false);
  r.integer("failed_boots", sim.failed_boots, -1);
  r.text("start", sim.start);
  std::string problem;
  if (!schedule::parse_instant(sim.start, &problem)) {
    r.error("simulation.start", "\"" + sim.start + "\" is not an ISO 8601 time with offset (" +
                                    problem + "), e.g. 2026-01-05T00:00:00Z");
  }
}

// "line L, column C" of a byte offset, for JSON syntax errors.
std::string position_of(const std::string& text, size_t byte) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

Config default_config() { return Config{}; }

void print_config_problems(const std::string& path, const ConfigResult& result, std::ostream& out) {
  for (const auto& warning : result.warnings) out << path << ": warning: " << warning << "\n";
  for (const auto& error : result.errors) {
    // Errors about reading the file itself already start with the path.
    if (error.rfind(path, 0) == 0) {
      out << error << "\n";
    } else {
      out << path << ": " << error << "\n";
    }
  }
}

ConfigResult parse_config(const json& document, ConfigUse use) {
  ConfigResult result;
  Config config;
  if (!document.is_object()) {
    result.errors.push_back("(top level): expected a JSON object, got " + type_name(document));
    return result;
  }
  {
    ObjectReader top(&document, "", result.errors);
    parse_xmpp(top.find("xmpp"), use, config, result);
    parse_linode(top.find("linode"), use, config, result);
    parse_scaling(top.find("scaling"), config.scaling, result);
    {
      ObjectReader drain(top.find("drain"), "drain", result.errors);
      std::optional<std::string> url = config.drain.url;
      drain.url("url", url, /*nullable=*/false);
      config.drain.url = url.value_or(config.drain.url);
      std::optional<std::string> disable_url = config.drain.disable_url;
      drain.url("disable_url", disable_url, /*nullable=*/false);
      config.drain.disable_url = disable_url.value_or(config.drain.disable_url);
      drain.url("shutdown_url", config.drain.shutdown_url, /*nullable=*/true);
    }
    {
      ObjectReader metrics(top.find("metrics"), "metrics", result.errors);
      metrics.text("listen", config.metrics_listen);
      if (config.metrics_listen.find(':') == std::string::npos) {
        metrics.error("metrics.listen", "must be ADDRESS:PORT, e.g. 127.0.0.1:9464");
      }
    }
    {
      ObjectReader control(top.find("control"), "control", result.errors);
      control.text("socket", config.control_socket);
    }
    top.text("state_file", config.state_file);
    top.boolean("dry_run", config.dry_run);
    std::optional<std::string> log_level;
    top.optional_text("log_level", log_level);
    if (log_level) {
      static constexpr const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
      if (std::find(std::begin(kLevels), std::end(kLevels), *log_level) == std::end(kLevels)) {
        top.error("log_level", "must be one of trace, debug, info, warn, error");
      } else {
        config.log_level = *log_level;
      }
    }
    parse_simulation(top.find("simulation"), config.simulation, result);
    if (const json* schedule = top.find("schedule"); schedule != nullptr) {
      if (!schedule->is_object()) {
        top.error("schedule", "expected an object, got " + type_name(*schedule));
      } else {
        config.schedule = *schedule;
        // Parsed once here (check-config names every problem by key path); `run` and
        // `simulate` use the typed result.
        config.schedule_config = std::make_shared<const ScheduleSection>(
            ScheduleSection{schedule::parse_schedule(*schedule, config.scaling, result.errors)});
      }
    }
  }
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult load_config(const std::string& path, ConfigUse use) {
  ConfigResult result;
  std::string text;
  if (!read_text_file(path, text)) {
    result.errors.push_back(path + ": cannot read the configuration file (does it exist?)");
    return result;
  }
  json document;
  try {
    document = json::parse(text);
  } catch (const json::out_of_range& e) {
    // e.g. 1e309: a number nlohmann cannot hold.
    result.errors.push_back(path + ": not valid JSON: a number is out of range (" +
                            std::string(e.what()).substr(std::string(e.what()).find(']') + 2) +
                            ")");
    return result;
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1,
    // column 9: syntax error ..."; keep the human part after the position.
    const auto column = what.find("column ");
    const auto colon = what.find(": ", column == std::string::npos ? 0 : column);
    const std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    result.errors.push_back(path + ": not valid JSON at " + position_of(text, e.byte) + ": " +
                            detail);
    return result;
  }
  result = parse_config(document, use);
  if (result.config) result.config->path = path;
  return result;
}

}  // namespace agent
