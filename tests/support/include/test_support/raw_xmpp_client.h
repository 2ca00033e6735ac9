#pragma once
// A plain libstrophe client for tests (target test_support_xmpp): logs in with TLS disabled,
// sends raw stanzas, and records the text of every presence it receives. It runs its own
// thread; all methods are thread-safe. Used to prove the Prosody fixture and to inspect what
// other clients publish in the brewery.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace test_support {

class RawXmppClient {
 public:
  RawXmppClient(const std::string& host, int port, const std::string& jid,
                const std::string& password);
  ~RawXmppClient();  // disconnects, joins the thread
  RawXmppClient(const RawXmppClient&) = delete;
  RawXmppClient& operator=(const RawXmppClient&) = delete;

  bool wait_connected(std::chrono::milliseconds timeout);
  // Sends XML as-is (e.g. a MUC join presence); queued to the client thread.
  void send_raw(const std::string& xml);
  // Joins room_jid/nick (no colibri stats), optionally with extra children inside <presence>.
  void join(const std::string& room_jid, const std::string& nick, const std::string& extra = "");
  std::vector<std::string> presences() const;
  // Waits until some received presence satisfies `match`.
  bool wait_for_presence(const std::function<bool(const std::string&)>& match,
                         std::chrono::milliseconds timeout) const;
  size_t presence_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace test_support
