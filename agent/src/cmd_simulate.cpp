// `jvb-autoscaler simulate`: replays a load trace through the policy offline (DESIGN section 8).
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/schedule_section.h"
#include "scaling/simulator.h"
#include "scaling/trace.h"
#include "schedule/schedule.h"

namespace agent {
namespace {

constexpr const char* kProgram = "jvb-autoscaler: ";

// The configuration in force at trace time t: the schedule's view of `scaling` when the file
// has a schedule, the constant `scaling` section otherwise.
scaling::ConfigProvider make_provider(const Config& config) {
  if (!config.schedule_config) {
    scaling::EffectiveConfig constant;
    constant.config = config.scaling;
    return [constant](double) { return constant; };
  }
  // Parsed once by load_config (an invalid schedule never gets here).
  return schedule::make_simulation_provider(schedule::Schedule(config.schedule_config->config),
                                            config.scaling, config.simulation);
}

}  // namespace

int simulate(const SimulateOptions& options) {
  Config config = default_config();
  if (options.config_path) {
    ConfigResult loaded = load_config(*options.config_path, ConfigUse::kSimulate);
    if (!loaded.errors.empty() || !loaded.config) {
      for (const auto& error : loaded.errors) {
        // Errors about reading the file itself already start with the path.
        if (error.rfind(*options.config_path, 0) == 0) {
          std::cerr << kProgram << error << "\n";
        } else {
          std::cerr << kProgram << *options.config_path << ": " << error << "\n";
        }
      }
      return 2;
    }
    config = std::move(*loaded.config);
  }

  std::ifstream trace_file(options.trace_path);
  if (!trace_file) {
    std::cerr << kProgram << "cannot open trace " << options.trace_path << ": "
              << std::strerror(errno) << "\n";
    return 2;
  }
  std::vector<scaling::Conference> trace;
  try {
    trace = scaling::read_trace(trace_file, options.trace_path);
  } catch (const scaling::TraceError& error) {
    std::cerr << kProgram << error.what() << "\n";
    return 2;
  }

  scaling::SimulationReport report;
  try {
    const scaling::ConfigProvider provider = make_provider(config);
    report = scaling::simulate(trace, config.simulation, provider);
  } catch (const std::invalid_argument& error) {
    // A configuration the simulator cannot run (bad schedule, non-positive period, ...).
    std::cerr << kProgram << (options.config_path ? *options.config_path + ": " : "")
              << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << kProgram << "simulation of " << options.trace_path << " failed: " << error.what()
              << "\n";
    return 1;
  }

  if (options.json) {
    std::cout << scaling::report_to_json(report).dump(2) << "\n";
  } else {
    std::cout << "Simulation of " << options.trace_path << "\n" << scaling::report_to_table(report);
  }
  return 0;
}

}  // namespace agent
