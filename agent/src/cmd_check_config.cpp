#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/linode_preflight.h"
#include "linode/client.h"
#include "linode/preflight.h"
#include "scaling/keys.h"
#include "scaling/predictor.h"

namespace agent {

linode::PreflightRequest linode_preflight_request(const LinodeSection& section) {
  linode::PreflightRequest request;
  request.region = section.region;
  request.type = section.type;
  request.image = section.image;
  request.firewall_id = section.firewall_id;
  request.tags = section.tags;
  request.user_data = section.user_data_file.has_value();
  return request;
}

namespace {

// Asks the Linode API; prints one line per problem as the offline check does
// ("<file>: <key.path>: <sentence>"). Returns the number of problems.
size_t check_online(const std::string& config_path, const Config& config) {
  // Only the sentences below: the client's per-attempt retry warnings are noise here (the
  // final sentence names the failure).
  spdlog::set_level(spdlog::level::err);
  linode::CurlGlobal curl;
  linode::ClientConfig api;
  api.api_url = config.linode.api_url;
  api.token = config.linode.token;
  api.connect_timeout_seconds = 10;
  api.total_timeout_seconds = 20;
  api.max_attempts = 3;
  api.backoff_initial_seconds = 0.5;
  api.backoff_max_seconds = 5;
  auto client = linode::make_curl_client(std::move(api));
  const auto problems =
      linode::preflight_blocking(*client, linode_preflight_request(config.linode), 90);
  client->shutdown();
  for (const auto& problem : problems) {
    std::cerr << config_path << ": " << problem.key_path << ": " << problem.sentence << "\n";
  }
  return problems.size();
}

// The scaling keys the file itself sets (a key set to its default value is still the file's:
// it will not follow a change of the defaults). Empty when the file cannot be read again.
std::set<std::string> written_scaling_keys(const std::string& config_path) {
  std::set<std::string> written;
  std::ifstream in(config_path);
  const nlohmann::json document = nlohmann::json::parse(in, nullptr, false);
  if (document.is_object() && document.contains("scaling") && document["scaling"].is_object()) {
    for (const auto& item : document["scaling"].items()) written.insert(item.key());
  }
  return written;
}

// The effective scaling profile, one key per line ("scaling.<key> = <value>"), with the keys
// the file leaves to the default marked: what follows the defaults when they change.
void print_profile(const Config& config, const std::set<std::string>& written) {
  for (const auto& key : scaling::scaling_keys()) {
    std::cout << "scaling." << key.name << " = " << scaling::value_text(key, config.scaling)
              << (written.count(std::string(key.name)) != 0 ? "" : "  (default)") << "\n";
  }
}

}  // namespace

int check_config(const std::string& config_path, bool online, bool profile) {
  const ConfigResult result = load_config(config_path, ConfigUse::kCheck);
  print_config_problems(config_path, result, std::cerr);
  if (!result.errors.empty()) {
    std::cerr << result.errors.size() << " problem" << (result.errors.size() == 1 ? "" : "s")
              << " found in " << config_path << ".\n";
    return 2;
  }
  // Threshold pairs that flap on a flat load are legal but costly: warn, do not refuse.
  if (result.config) {
    for (const auto& warning : scaling::flap_warnings(
             result.config->scaling, result.config->simulation.capacity_participants)) {
      std::cerr << config_path << ": warning: " << warning << "\n";
    }
    if (profile) print_profile(*result.config, written_scaling_keys(config_path));
  }
  if (online && result.config) {
    const size_t problems = check_online(config_path, *result.config);
    if (problems > 0) {
      std::cerr << problems << " problem" << (problems == 1 ? "" : "s")
                << " found by asking the Linode API about " << config_path << ".\n";
      return 2;
    }
    std::cout << config_path
              << ": configuration is valid, and the Linode API accepts its token, region, image, "
                 "type"
              << (result.config->linode.firewall_id ? " and firewall" : "") << ".\n";
    return 0;
  }
  std::cout << config_path << ": configuration is valid.\n";
  return 0;
}

}  // namespace agent
