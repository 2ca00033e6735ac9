#include <spdlog/spdlog.h>

#include <iostream>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "linode/client.h"

namespace agent {

int run_daemon(const RunOptions& options) {
  ConfigResult result = load_config(options.config_path, ConfigUse::kDaemon);
  print_config_problems(options.config_path, result, std::cerr);
  if (!result.config) {
    std::cerr << "Fix the configuration (jvb-autoscaler check-config --config "
              << options.config_path << ") and start again.\n";
    return 2;
  }
  Config config = std::move(*result.config);
  const std::string level = options.log_level.value_or(config.log_level);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  linode::CurlGlobal curl;
  Daemon daemon(std::move(config), options);
  return daemon.run();
}

}  // namespace agent
