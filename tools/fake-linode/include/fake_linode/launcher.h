#pragma once
// Starts the fake Linode API (tools/fake-linode) as a child process for a test, reads the port
// it prints, and stops it (SIGTERM, then SIGKILL after a bound) when destroyed.
//
//   fake_linode::FakeLinodeProcess fake({.token = "t0ken"});
//   client_config.api_url = fake.api_url();            // http://127.0.0.1:PORT/v4
//   fake.control("POST", "/__fake/faults", R"({"rate_limit":3})");
//   auto instances = fake.control("GET", "/__fake/instances");   // JSON text
//
// Link the CMake target fake_linode_launcher.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace fake_linode {

struct LaunchOptions {
  std::string token;        // expected bearer token; empty = any
  double boot_seconds = 0;  // provisioning -> booting -> running
  std::string on_create;    // hook command, see docs/linode.md
  double hook_delay_seconds = 0;
  std::vector<std::string> extra_args;  // e.g. {"--latency-ms", "50"}
  std::string binary;                   // default: the fake-linode built with this tree
  double ready_timeout_seconds = 15;
};

class FakeLinodeProcess {
 public:
  // Throws std::runtime_error (one sentence) if the fake does not start or report its port.
  explicit FakeLinodeProcess(LaunchOptions options = {});
  ~FakeLinodeProcess();
  FakeLinodeProcess(const FakeLinodeProcess&) = delete;
  FakeLinodeProcess& operator=(const FakeLinodeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const;  // http://127.0.0.1:PORT
  std::string api_url() const;   // http://127.0.0.1:PORT/v4 (for ClientConfig::api_url)

  // One blocking HTTP request to the fake (control endpoints or the API itself); returns the
  // response body. Throws std::runtime_error on a transport error or a non-2xx status.
  std::string control(const std::string& method, const std::string& path,
                      const std::string& body = "") const;

  struct HttpResult {
    int status = 0;
    std::string body;
  };
  // Like control() but with extra headers and no throw on a non-2xx status.
  HttpResult request(const std::string& method, const std::string& path, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers) const;

  // SIGTERM, wait up to 10 s, then SIGKILL. Idempotent. Returns the wait status.
  int stop();

 private:
  pid_t pid_ = 0;
  int stdout_fd_ = -1;
  int port_ = 0;
  int wait_status_ = 0;
};

}  // namespace fake_linode
