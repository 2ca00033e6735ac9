#include <iostream>
#include <string>

#include "agent/commands.h"
#include "agent/config.h"

namespace agent {

int check_config(const std::string& config_path) {
  const ConfigResult result = load_config(config_path, ConfigUse::kCheck);
  for (const auto& warning : result.warnings) {
    std::cerr << config_path << ": warning: " << warning << "\n";
  }
  if (!result.errors.empty()) {
    for (const auto& error : result.errors) {
      // Errors about reading the file itself already start with the path.
      if (error.rfind(config_path, 0) == 0) {
        std::cerr << error << "\n";
      } else {
        std::cerr << config_path << ": " << error << "\n";
      }
    }
    std::cerr << result.errors.size() << " problem" << (result.errors.size() == 1 ? "" : "s")
              << " found in " << config_path << ".\n";
    return 2;
  }
  std::cout << config_path << ": configuration is valid.\n";
  return 0;
}

}  // namespace agent
