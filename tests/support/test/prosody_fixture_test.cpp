// Proves the Prosody fixture: a real Prosody starts, a libstrophe client logs in and joins the
// brewery room, and a second client sees its presence. Also restart and bad accounts.
#include "test_support/prosody_fixture.h"

#include <gtest/gtest.h>

#include "test_support/raw_xmpp_client.h"

namespace test_support {
namespace {

using namespace std::chrono_literals;

TEST(ProsodyFixture, ClientJoinsBreweryAndSecondClientSeesIt) {
  SKIP_WITHOUT_PROSODY();
  ProsodyFixture prosody({.accounts = {{"alice", "a-pass"}, {"bob", "b-pass"}}});
  prosody.start();
  RawXmppClient bob(prosody.host(), prosody.port(), "bob@" + prosody.auth_domain(), "b-pass");
  ASSERT_TRUE(bob.wait_connected(10s)) << "log: " << prosody.log_file();
  bob.join(prosody.room_jid(), "bob");
  ASSERT_TRUE(bob.wait_for_presence(
      [](const std::string& p) { return p.find("/bob") != std::string::npos; }, 10s));

  RawXmppClient alice(prosody.host(), prosody.port(), "alice@" + prosody.auth_domain(), "a-pass");
  ASSERT_TRUE(alice.wait_connected(10s));
  alice.join(prosody.room_jid(), "alice");
  EXPECT_TRUE(bob.wait_for_presence(
      [&](const std::string& p) {
        return p.find("from=\"" + prosody.room_jid() + "/alice\"") != std::string::npos;
      },
      10s));
}

TEST(ProsodyFixture, WrongPasswordIsRefused) {
  SKIP_WITHOUT_PROSODY();
  ProsodyFixture prosody({.accounts = {{"alice", "a-pass"}}});
  prosody.start();
  RawXmppClient alice(prosody.host(), prosody.port(), "alice@" + prosody.auth_domain(), "nope");
  EXPECT_FALSE(alice.wait_connected(3s));
}

TEST(ProsodyFixture, RestartKeepsPortAndAccountsAndStopClosesPort) {
  SKIP_WITHOUT_PROSODY();
  ProsodyFixture prosody({.accounts = {{"alice", "a-pass"}}});
  prosody.start();
  const int port = prosody.port();
  prosody.restart();
  EXPECT_EQ(port, prosody.port());
  RawXmppClient alice(prosody.host(), prosody.port(), "alice@" + prosody.auth_domain(), "a-pass");
  EXPECT_TRUE(alice.wait_connected(10s));
  prosody.stop();
  EXPECT_TRUE(wait_for_port_closed(prosody.host(), port, 1s));
}

TEST(ProsodyFixture, TlsOptionServesSelfSignedCertificate) {
  SKIP_WITHOUT_PROSODY();
  ProsodyOptions options;
  options.tls = true;
  ProsodyFixture prosody(options);
  prosody.start();
  const CommandResult result =
      run_command({"openssl", "x509", "-noout", "-subject", "-in", prosody.certificate_file()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(prosody.auth_domain()), std::string::npos) << result.output;
}

TEST(ChildProcess, DestructorKillsAChildThatIgnoresSigterm) {
  pid_t pid;
  {
    ChildProcess::Options options;
    options.stop_grace = 300ms;
    ChildProcess child({"sh", "-c", "trap '' TERM; sleep 60"}, options);
    pid = child.pid();
    EXPECT_TRUE(child.running());
  }
  EXPECT_NE(::kill(pid, 0), 0);  // gone (reaped)
}

TEST(RunCommand, CapturesOutputAndExitCodeAndTimesOut) {
  const CommandResult ok = run_command({"sh", "-c", "echo hello; exit 3"});
  EXPECT_EQ(ok.exit_code, 3);
  EXPECT_EQ(ok.output, "hello\n");
  const CommandResult slow = run_command({"sleep", "30"}, 200ms);
  EXPECT_EQ(slow.exit_code, -1);
}

}  // namespace
}  // namespace test_support
