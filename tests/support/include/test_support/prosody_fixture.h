#pragma once
// A real Prosody (the Debian package) for integration tests, on a free loopback port, with a
// configuration generated into a temporary directory:
//   VirtualHost  auth.<domain>            accounts live here
//   Component    internal.auth.<domain>   MUC (the JVB brewery)
// TLS is off by default (plaintext SASL allowed on loopback); ProsodyOptions::tls generates a
// self-signed certificate with openssl and offers STARTTLS.
//
// Usage:
//   SKIP_WITHOUT_PROSODY();
//   test_support::ProsodyFixture prosody({.accounts = {{"jvb", "secret"}}});
//   prosody.start();
//   ... connect to 127.0.0.1:prosody.port() as "jvb@" + prosody.auth_domain() ...
// The destructor stops Prosody and removes the directory.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/local_cluster.h"
#include "test_support/process.h"

namespace test_support {

struct ProsodyOptions {
  std::string domain = "meet.test";  // accounts on auth.<domain>, MUC on internal.auth.<domain>
  std::vector<std::pair<std::string, std::string>> accounts;  // (user, password)
  bool tls = false;  // offer STARTTLS with a self-signed certificate for auth.<domain>
  std::string log_level = "warn";
};

// A thin test-facing layer over agent::local::Prosody (the one Prosody launcher of the demo
// and the tests) in its own temporary directory.
class ProsodyFixture {
 public:
  // Empty when prosody can run here; otherwise one sentence saying what is missing.
  static std::string unavailable_reason();

  explicit ProsodyFixture(ProsodyOptions options = {});
  ~ProsodyFixture();
  ProsodyFixture(const ProsodyFixture&) = delete;
  ProsodyFixture& operator=(const ProsodyFixture&) = delete;

  // Starts Prosody and waits (bounded) until the c2s port accepts; throws
  // std::runtime_error naming the log file on failure. Same port across restarts.
  void start() { prosody_.start(); }
  void stop() { prosody_.stop(); }  // SIGTERM, bounded wait, SIGKILL; waits for the port
  void restart() {
    stop();
    start();
  }
  bool running() const { return prosody_.running(); }

  // Registers an account with prosodyctl (works whether or not Prosody is running).
  void add_account(const std::string& user, const std::string& password) {
    prosody_.add_account(user, password);
  }

  int port() const { return prosody_.port(); }
  std::string host() const { return "127.0.0.1"; }
  std::string auth_domain() const { return prosody_.virtual_host(); }
  std::string muc_domain() const { return prosody_.muc_domain(); }
  std::string room_jid(const std::string& room = "jvbbrewery") const {
    return room + "@" + muc_domain();
  }
  // PEM certificate of the server (only with ProsodyOptions::tls), usable as a CA file.
  std::string certificate_file() const { return prosody_.certificate_file(); }
  std::string log_file() const { return prosody_.log_file(); }
  std::string directory() const { return dir_.path().string(); }

 private:
  ProsodyOptions options_;
  agent::local::TempDir dir_;
  agent::local::Prosody prosody_;
};

}  // namespace test_support

// Skips the current test with a clear message when Prosody cannot run on this machine.
#define SKIP_WITHOUT_PROSODY()                                                                \
  do {                                                                                        \
    const std::string prosody_missing = ::test_support::ProsodyFixture::unavailable_reason(); \
    if (!prosody_missing.empty()) GTEST_SKIP() << prosody_missing;                            \
  } while (false)
