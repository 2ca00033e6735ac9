#pragma once
// Small helpers shared by the scale benchmarks: /proc readings (CPU ticks, RSS), the load
// average, a bounded wait, a plain HTTP GET on loopback and the decision-duration histogram
// parsed from Prometheus text.
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

namespace scale_bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// 1-minute load average, e.g. "1.23" (the machine is shared: recorded next to every run).
inline std::string load_average() {
  std::istringstream in(read_text("/proc/loadavg"));
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

// utime + stime of a process in seconds; -1 when it is gone.
inline double cpu_seconds(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A "VmRSS" / "VmHWM" line of /proc/<pid>/status in MiB; -1 when absent.
inline double status_mib(const std::string& pid_or_self, const std::string& key) {
  std::istringstream in(read_text("/proc/" + pid_or_self + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream value(line.substr(key.size() + 1));
      double kib = 0;
      value >> kib;
      return kib / 1024.0;
    }
  }
  return -1;
}

inline bool eventually(const std::function<bool()>& condition, double timeout_seconds,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto start = Clock::now();
  while (seconds_since(start) < timeout_seconds) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

// GET http://127.0.0.1:<port><target>; returns the body, or "" on any failure.
inline std::string http_get(int port, const std::string& target) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<uint16_t>(port)));
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return response.result_int() == 200 ? response.body() : "";
  } catch (const std::exception&) {
    return "";
  }
}

// One Prometheus histogram read from text exposition: cumulative bucket counts by `le`.
struct Histogram {
  double count = 0;
  double sum = 0;
  std::map<double, double> buckets;  // upper bound -> cumulative count (+Inf as infinity)
};

inline Histogram parse_histogram(const std::string& text, const std::string& name) {
  Histogram histogram;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string series = line.substr(0, space);
    double value = 0;
    try {
      value = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      continue;
    }
    if (series == name + "_count") histogram.count = value;
    if (series == name + "_sum") histogram.sum = value;
    if (series.rfind(name + "_bucket{", 0) == 0) {
      const size_t le = series.find("le=\"");
      if (le == std::string::npos) continue;
      const std::string bound = series.substr(le + 4, series.find('"', le + 4) - le - 4);
      histogram.buckets[bound == "+Inf" ? 1e300 : std::stod(bound)] = value;
    }
  }
  return histogram;
}

// Upper bucket bound under which `quantile` of the observations between two scrapes fell.
inline double quantile_bound(const Histogram& before, const Histogram& after, double quantile) {
  const double total = after.count - before.count;
  if (total <= 0) return -1;
  for (const auto& [bound, cumulative] : after.buckets) {
    const auto old = before.buckets.find(bound);
    const double delta = cumulative - (old == before.buckets.end() ? 0 : old->second);
    if (delta >= quantile * total) return bound;
  }
  return -1;
}

// The daemon configuration every benchmark runs with: the loopback Prosody and fake Linode
// API, secrets (xmpp.pass, linode.token) in `secrets_dir`, socket and state in `run_dir`.
inline nlohmann::json loopback_daemon_config(int prosody_port, const std::string& domain,
                                             const std::string& api_url,
                                             const std::filesystem::path& secrets_dir,
                                             const std::filesystem::path& run_dir, int metrics_port,
                                             nlohmann::json scaling) {
  return {{"xmpp",
           {{"host", "127.0.0.1"},
            {"port", prosody_port},
            {"domain", domain},
            {"username", "autoscaler"},
            {"password_file", (secrets_dir / "xmpp.pass").string()},
            {"tls", "disabled"}}},
          {"linode",
           {{"api_url", api_url},
            {"token_file", (secrets_dir / "linode.token").string()},
            {"region", "us-lax"},
            {"type", "g6-dedicated-2"},
            {"image", "linode/debian12"},
            {"user_data_file", nullptr}}},
          {"scaling", std::move(scaling)},
          {"metrics", {{"listen", "127.0.0.1:" + std::to_string(metrics_port)}}},
          {"control", {{"socket", (run_dir / "control.sock").string()}}},
          {"state_file", (run_dir / "state.json").string()}};
}

}  // namespace scale_bench
