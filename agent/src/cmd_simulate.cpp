// `jvb-autoscaler simulate`: replays a load trace through the policy offline (DESIGN section 8).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
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

// gnuplot on PATH (Debian package gnuplot-nox), or empty.
std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::string directories = path;
  std::size_t begin = 0;
  while (begin <= directories.size()) {
    const std::size_t colon = std::min(directories.find(':', begin), directories.size());
    const std::string directory = directories.substr(begin, colon - begin);
    if (!directory.empty()) {
      const std::string candidate = directory + "/gnuplot";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    begin = colon + 1;
  }
  return {};
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

// Draws the timeline with gnuplot into `svg_path`. Returns an error sentence, empty on success.
std::string plot_timeline(const std::string& gnuplot, const std::string& timeline_csv,
                          const std::string& svg_path, const std::string& title, double capacity) {
  for (const std::string* text : {&svg_path, &title}) {
    if (text->find_first_of("'\n\\") != std::string::npos) {
      return "cannot plot to " + svg_path + ": the name contains a quote, newline or backslash";
    }
  }
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "jvb-plot-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return std::string("cannot create a temporary directory: ") + std::strerror(errno);
  }
  const fs::path directory = pattern;
  const std::string data = (directory / "timeline.csv").string();
  const std::string script = (directory / "plot.gp").string();
  const std::string x = "($1/3600)";
  // At most ~1,200 points per series keeps the SVG small (a day at 10 s periods has 8,640 rows).
  const std::size_t rows =
      static_cast<std::size_t>(std::count(timeline_csv.begin(), timeline_csv.end(), '\n'));
  const std::string every = " every " + std::to_string(std::max<std::size_t>(1, rows / 1200));
  const std::string cap = std::to_string(capacity);
  const std::string gp =
      "set terminal svg size 1100,520 dynamic font 'sans,11' background rgb 'white'\n"
      "set output '" +
      svg_path +
      "'\n"
      "set datafile separator ','\n"
      "set title '" +
      title +
      "' noenhanced\n"
      "set xlabel 'hours since the trace start'\n"
      "set ylabel 'bridges; load = participants / capacity'\n"
      "set key outside bottom center horizontal\n"
      "set offsets 0, 0, 0.5, 0\n"
      "set yrange [0:*]\n"
      "set grid\n"
      "plot '" +
      data + "' skip 1" + every + " using " + x + ":($2/" + cap +
      ") with lines lw 2 lc rgb '#1f77b4' title 'load (participants / capacity)', \\\n"
      "  '' skip 1" +
      every + " using " + x +
      ":($3+$4+$5+$6) with steps lw 1.5 lc rgb '#444444' "
      "title 'bridges (all states)', \\\n"
      "  '' skip 1" +
      every + " using " + x +
      ":4 with steps lc rgb '#2ca02c' title 'ready (open)', \\\n"
      "  '' skip 1" +
      every + " using " + x +
      ":5 with steps lc rgb '#ff7f0e' title 'held', \\\n"
      "  '' skip 1" +
      every + " using " + x +
      ":6 with steps lc rgb '#9467bd' title 'draining', \\\n"
      "  '' skip 1" +
      every + " using " + x +
      ":7 with steps lc rgb '#17becf' title 'desired', \\\n"
      "  '' skip 1" +
      every + " using " + x + ":($8/" + cap +
      ") with filledcurves x1 fs solid 0.6 lc rgb '#d62728' title 'overloaded participants / "
      "capacity'\n";
  std::string error;
  if (!write_text(data, timeline_csv) || !write_text(script, gp)) {
    error = "cannot write the plot's temporary files in " + directory.string();
  } else {
    const char* argv[] = {gnuplot.c_str(), script.c_str(), nullptr};
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, gnuplot.c_str(), nullptr, nullptr,
                                      const_cast<char* const*>(argv), environ);
    int status = 0;
    if (spawned != 0) {
      error = "cannot run " + gnuplot + ": " + std::strerror(spawned);
    } else if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      error = gnuplot + " failed to draw " + svg_path;
    }
  }
  std::error_code ignored;
  fs::remove_all(directory, ignored);
  return error;
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

  // Check for gnuplot before a long replay, not after it.
  std::string gnuplot;
  if (options.plot_path) {
    gnuplot = find_gnuplot();
    if (gnuplot.empty()) {
      std::cerr << kProgram
                << "--plot needs gnuplot, which is not installed (Debian: apt-get "
                   "install gnuplot-nox)\n";
      return 1;
    }
  }

  scaling::SimulationReport report;
  std::vector<scaling::TimelineRow> timeline;
  try {
    const scaling::ConfigProvider provider = make_provider(config);
    scaling::ReplayHooks hooks;
    if (options.timeline_path || options.plot_path) hooks.timeline = &timeline;
    report = scaling::simulate(trace, config.simulation, provider, hooks);
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

  if (options.timeline_path || options.plot_path) {
    const std::string csv = scaling::timeline_to_csv(timeline);
    if (options.timeline_path && !write_text(*options.timeline_path, csv)) {
      std::cerr << kProgram << "cannot write timeline " << *options.timeline_path << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
    if (options.plot_path) {
      const std::string title =
          std::filesystem::path(options.trace_path).filename().string() + ": " + report.policy +
          " policy, billed " + std::to_string(static_cast<long long>(report.billed_hours)) +
          " h, overload " + std::to_string(report.overload_percent()).substr(0, 5) + " %";
      const std::string error = plot_timeline(gnuplot, csv, *options.plot_path, title,
                                              config.simulation.capacity_participants);
      if (!error.empty()) {
        std::cerr << kProgram << error << "\n";
        return 1;
      }
    }
  }

  if (options.json) {
    std::cout << scaling::report_to_json(report).dump(2) << "\n";
  } else {
    std::cout << "Simulation of " << options.trace_path << "\n" << scaling::report_to_table(report);
  }
  return 0;
}

}  // namespace agent
