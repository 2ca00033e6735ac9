#include <iostream>
#include <string>

#include "agent/commands.h"
#include "agent/config.h"

namespace agent {

int check_config(const std::string& config_path) {
  const ConfigResult result = load_config(config_path, ConfigUse::kCheck);
  print_config_problems(config_path, result, std::cerr);
  if (!result.errors.empty()) {
    std::cerr << result.errors.size() << " problem" << (result.errors.size() == 1 ? "" : "s")
              << " found in " << config_path << ".\n";
    return 2;
  }
  std::cout << config_path << ": configuration is valid.\n";
  return 0;
}

}  // namespace agent
