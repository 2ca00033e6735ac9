#include <iostream>
#include <string>

#include "agent/commands.h"

namespace agent {

int check_config(const std::string& /*options*/) {
  std::cerr << "jvb-autoscaler: this command is not implemented yet.\n";
  return 1;
}

}  // namespace agent
