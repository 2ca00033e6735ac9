#include <spdlog/spdlog.h>

#include <iostream>
#include <string>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/linode_preflight.h"
#include "linode/client.h"
#include "linode/preflight.h"

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

}  // namespace

int check_config(const std::string& config_path, bool online) {
  const ConfigResult result = load_config(config_path, ConfigUse::kCheck);
  print_config_problems(config_path, result, std::cerr);
  if (!result.errors.empty()) {
    std::cerr << result.errors.size() << " problem" << (result.errors.size() == 1 ? "" : "s")
              << " found in " << config_path << ".\n";
    return 2;
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
