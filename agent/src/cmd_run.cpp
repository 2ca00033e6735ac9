#include <spdlog/spdlog.h>

#include <iostream>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "linode/client.h"

namespace agent {

int run_daemon(const RunOptions& options) {
  ConfigResult result = load_config(options.config_path, ConfigUse::kDaemon);
  for (const auto& warning : result.warnings) {
    std::cerr << options.config_path << ": warning: " << warning << "\n";
  }
  if (!result.config) {
    for (const auto& error : result.errors) {
      if (error.rfind(options.config_path, 0) == 0) {
        std::cerr << error << "\n";
      } else {
        std::cerr << options.config_path << ": " << error << "\n";
      }
    }
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
