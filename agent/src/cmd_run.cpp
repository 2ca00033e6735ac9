#include <iostream>
#include <string>

#include "agent/commands.h"

namespace agent {

int run_daemon(const RunOptions& /*options*/) {
  std::cerr << "jvb-autoscaler: this command is not implemented yet.\n";
  return 1;
}

}  // namespace agent
