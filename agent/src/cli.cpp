// Command-line parsing (CLI11) and dispatch to the sub-commands.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "agent/commands.h"
#include "jvb/version.h"

namespace agent {
namespace {

constexpr const char* kDefaultConfig = "/etc/jvb-autoscaler/config.json";

constexpr const char* kDescription =
    "jvb-autoscaler: keeps a Jitsi Meet cluster on Linode sized to its load.\n"
    "It joins Prosody's JVB brewery to read every videobridge's stress, creates bridges\n"
    "through the Linode API when load rises, and drains then deletes them when it falls.\n"
    "\n"
    "Typical use:\n"
    "  jvb-autoscaler check-config --config /etc/jvb-autoscaler/config.json\n"
    "  jvb-autoscaler run --config /etc/jvb-autoscaler/config.json --dry-run\n"
    "  jvb-autoscaler ctl status\n"
    "  jvb-autoscaler simulate --trace traces/workday.csv\n"
    "  jvb-autoscaler demo --duration 120\n"
    "\n"
    "Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

// Values parsed for the ctl sub-commands before they are turned into one JSON request.
struct CtlArgs {
  int n = 0;
  std::string bridge;
  std::string bound;
  std::string event_name, event_start, event_end;
  int event_min = 0;
};

// The ctl sub-commands each build one JSON request for the control socket.
CLI::App* add_ctl_commands(CLI::App& app, CtlOptions& ctl, CtlArgs& args) {
  auto* cmd = app.add_subcommand("ctl", "Steer a running daemon through its control socket");
  cmd->add_option("--socket", ctl.socket_path,
                  "Control socket (default: /run/jvb-autoscaler/control.sock)");
  cmd->require_subcommand(1);
  auto simple = [&](const char* name, const char* help) {
    auto* sub = cmd->add_subcommand(name, help);
    sub->callback([&ctl, name] { ctl.request = {{"cmd", name}}; });
    return sub;
  };
  auto* status = simple("status", "Bridges, their state and stress, desired count, override");
  status->add_flag("--json", ctl.json, "Print the reply as one JSON object");
  simple("pause", "Stop scaling actions (observation continues; running drains complete)");
  simple("resume", "Resume scaling actions after pause");
  simple("auto", "Drop a scale-to pin and return to automatic scaling");

  auto* scale_to = cmd->add_subcommand("scale-to", "Pin the desired bridge count to N");
  scale_to->add_option("N", args.n, "Desired bridge count (clamped to min/max, reported)")
      ->required()
      ->check(CLI::NonNegativeNumber);
  scale_to->callback([&] { ctl.request = {{"cmd", "scale-to"}, {"n", args.n}}; });

  auto* drain = cmd->add_subcommand("drain", "Drain BRIDGE, then delete it once empty");
  drain->add_option("BRIDGE", args.bridge, "Bridge name (MUC nickname = Linode label)")->required();
  drain->callback([&] { ctl.request = {{"cmd", "drain"}, {"bridge", args.bridge}}; });

  auto* set = cmd->add_subcommand("set", "Change min or max bridges at run time (persisted)");
  set->add_option("KEY", args.bound, "min or max")
      ->required()
      ->check(CLI::IsMember({"min", "max"}));
  set->add_option("N", args.n, "New bound")->required()->check(CLI::NonNegativeNumber);
  set->callback([&] { ctl.request = {{"cmd", "set"}, {"key", args.bound}, {"n", args.n}}; });

  auto* schedule = simple("schedule", "Show the effective schedule window now and the next ones");
  schedule->add_flag("--json", ctl.json, "Print the reply as one JSON object");

  auto* event = cmd->add_subcommand("event", "Add or remove a one-off scheduled event");
  event->require_subcommand(1);
  auto* add = event->add_subcommand("add", "Add an event: NAME --start ISO --end ISO --min N");
  add->add_option("NAME", args.event_name, "Event name")->required();
  add->add_option("--start", args.event_start, "Start, ISO 8601 with offset")->required();
  add->add_option("--end", args.event_end, "End, ISO 8601 with offset")->required();
  add->add_option("--min", args.event_min, "min_bridges during the event")->required();
  add->callback([&] {
    ctl.request = {{"cmd", "event-add"},
                   {"name", args.event_name},
                   {"start", args.event_start},
                   {"end", args.event_end},
                   {"min_bridges", args.event_min}};
  });
  auto* remove = event->add_subcommand("remove", "Remove the event NAME");
  remove->add_option("NAME", args.event_name, "Event name")->required();
  remove->callback([&] { ctl.request = {{"cmd", "event-remove"}, {"name", args.event_name}}; });
  return cmd;
}

}  // namespace

int run_cli(int argc, char** argv) {
  // Every command writes its logs and errors to stderr and only its data to stdout
  // (DESIGN section 3); spdlog's default logger would write to stdout.
  spdlog::set_default_logger(spdlog::stderr_color_mt("jvb-autoscaler"));
  CLI::App app{kDescription, "jvb-autoscaler"};
  app.set_version_flag("--version", std::string("jvb-autoscaler ") + JVB_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'jvb-autoscaler COMMAND --help' for the options of one command.");

  std::function<void()> action;
  int exit_code = 0;

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run the autoscaler daemon (exits 0 on SIGTERM)");
  run_cmd->add_option("--config", run.config_path, "Configuration file")
      ->default_val(kDefaultConfig);
  run_cmd->add_flag("--dry-run", run.dry_run, "Decide and log, never create or delete instances");
  run_cmd->add_option("--log-level", run.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  run_cmd->callback([&] { action = [&] { exit_code = run_daemon(run); }; });

  std::string check_path;
  auto* check = app.add_subcommand(
      "check-config",
      "Validate a configuration file; print every problem by key path (exit 2) and warn on "
      "scaling thresholds that flap on a flat load");
  check->add_option("--config", check_path, "Configuration file")->default_val(kDefaultConfig);
  bool check_online = false;
  check->add_flag("--online", check_online,
                  "Also ask the Linode API whether the token, region (Metadata), image "
                  "(cloud-init), type and firewall fit");
  bool check_profile = false;
  check->add_flag("--profile", check_profile,
                  "Also print the effective scaling profile (every scaling key with its value; "
                  "keys the file leaves to their default are marked (default))");
  check->callback(
      [&] { action = [&] { exit_code = check_config(check_path, check_online, check_profile); }; });

  WatchOptions watch_options;
  auto* watch_cmd = app.add_subcommand(
      "watch", "Join the brewery read-only and print one line per bridge update");
  watch_cmd->add_option("--config", watch_options.config_path, "Configuration file")
      ->default_val(kDefaultConfig);
  watch_cmd->add_flag("--json", watch_options.json, "One JSON object per line");
  watch_cmd->callback([&] { action = [&] { exit_code = watch(watch_options); }; });

  CtlOptions ctl_options;
  CtlArgs ctl_args;
  add_ctl_commands(app, ctl_options, ctl_args)->final_callback([&] {
    action = [&] { exit_code = ctl(ctl_options); };
  });

  SimulateOptions sim;
  auto* sim_cmd = app.add_subcommand(
      "simulate",
      "Replay a load trace (CSV start_s,duration_s,participants) through the policy; without "
      "--config the default profile runs (min_bridges 1, max_bridges 10)");
  sim_cmd->add_option("--trace", sim.trace_path, "Trace file")->required();
  sim_cmd->add_option("--config", sim.config_path,
                      "Configuration (only scaling, simulation, schedule are read; scaling keys "
                      "left out keep their defaults: check-config --profile lists them)");
  sim_cmd->add_flag("--json", sim.json, "Print the report as JSON");
  sim_cmd->add_option("--timeline", sim.timeline_path,
                      "Write one CSV row per period: t, participants, provisioning, ready, held, "
                      "draining, desired, overload_participants");
  sim_cmd->add_option("--plot", sim.plot_path,
                      "Draw load, capacity and bridges over the trace as SVG (needs gnuplot)");
  sim_cmd->callback([&] { action = [&] { exit_code = simulate(sim); }; });

  DemoOptions demo_options;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Run the whole loop locally: Prosody, simulated bridges, fake Linode API");
  demo_cmd->add_option("--duration", demo_options.duration_seconds, "Seconds to run")
      ->default_val(300)
      ->check(CLI::PositiveNumber);
  demo_cmd->add_flag("--quiet", demo_options.quiet, "No live table, only the event log");
  demo_cmd->callback([&] { action = [&] { exit_code = demo(demo_options); }; });

  // A mistyped command would otherwise read "A subcommand is required": name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string first = argv[1];
    const auto known = app.get_subcommands([](const CLI::App*) { return true; });
    const bool is_known = std::any_of(
        known.begin(), known.end(), [&](const CLI::App* sub) { return sub->get_name() == first; });
    if (!is_known) {
      std::cerr << "jvb-autoscaler: unknown command \"" << first
                << "\" (commands: run, check-config, watch, ctl, simulate, demo)\n"
                << "Run 'jvb-autoscaler --help' for usage.\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "jvb-autoscaler: " << e.what() << "\nRun 'jvb-autoscaler --help' for usage.\n";
    return 2;
  }
  if (action) action();
  return exit_code;
}

}  // namespace agent
