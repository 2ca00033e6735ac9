#include <iostream>
#include <string>

#include "agent/commands.h"

namespace agent {

int demo(const DemoOptions& /*options*/) {
  std::cerr << "jvb-autoscaler: this command is not implemented yet.\n";
  return 1;
}

}  // namespace agent
