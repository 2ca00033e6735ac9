#pragma once
// Entry points of the sub-commands of `jvb-autoscaler` (DESIGN.md section 3).
// Each returns the process exit code: 0 success, 1 runtime failure, 2 usage/configuration error.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace agent {

struct RunOptions {
  std::string config_path;
  bool dry_run = false;                  // --dry-run: decide and log, never POST/DELETE
  std::optional<std::string> log_level;  // overrides the config / default "info"
};
int run_daemon(const RunOptions& options);

// online: also ask the Linode API (linode::preflight) whether the token, region, image, type
// and firewall fit; every problem is printed with its key path, exit 2.
int check_config(const std::string& config_path, bool online = false);

struct WatchOptions {
  std::string config_path;
  bool json = false;
};
int watch(const WatchOptions& options);

struct CtlOptions {
  std::optional<std::string> socket_path;  // default: /run/jvb-autoscaler/control.sock
  nlohmann::json request;                  // e.g. {"cmd":"scale-to","n":3}
  bool json = false;                       // print the raw JSON reply
};
int ctl(const CtlOptions& options);

struct SimulateOptions {
  std::string trace_path;
  std::optional<std::string> config_path;
  bool json = false;
  std::optional<std::string> timeline_path;  // CSV, one row per decision period
  std::optional<std::string> plot_path;      // SVG drawn by gnuplot
};
int simulate(const SimulateOptions& options);

struct DemoOptions {
  double duration_seconds = 300;
  bool quiet = false;  // no live table (used by tests)
};
int demo(const DemoOptions& options);

// Parses argv and dispatches; what main() calls.
int run_cli(int argc, char** argv);

}  // namespace agent
