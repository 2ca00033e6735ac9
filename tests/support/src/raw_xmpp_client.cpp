#include "test_support/raw_xmpp_client.h"

#include <strophe.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace test_support {

class RawXmppClient::Impl {
 public:
  Impl(const std::string& host, int port, const std::string& jid, const std::string& password) {
    static std::once_flag once;  // process-wide libstrophe init
    std::call_once(once, [] { xmpp_initialize(); });
    thread_ = std::thread([=, this] { run(host, port, jid, password); });
  }
  ~Impl() {
    stop_ = true;
    thread_.join();
  }

  void send_raw(const std::string& xml) {
    std::lock_guard lock(mutex_);
    outbox_.push_back(xml);
  }
  std::vector<std::string> presences() const {
    std::lock_guard lock(mutex_);
    return presences_;
  }
  size_t presence_count() const {
    std::lock_guard lock(mutex_);
    return presences_.size();
  }
  bool wait_connected(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return connected_; });
  }
  bool wait_for_presence(const std::function<bool(const std::string&)>& match,
                         std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    size_t checked = 0;
    return changed_.wait_for(lock, timeout, [&] {
      for (; checked < presences_.size(); ++checked) {
        if (match(presences_[checked])) return true;
      }
      return false;
    });
  }

 private:
  void run(const std::string& host, int port, const std::string& jid, const std::string& password) {
    xmpp_ctx_t* ctx = xmpp_ctx_new(nullptr, nullptr);
    xmpp_conn_t* conn = xmpp_conn_new(ctx);
    conn_ = conn;
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_TLS);
    xmpp_conn_set_jid(conn, jid.c_str());
    xmpp_conn_set_pass(conn, password.c_str());
    bool finished = xmpp_connect_client(conn, host.c_str(), static_cast<unsigned short>(port),
                                        &Impl::on_connection, this) != XMPP_EOK;
    finished_ = finished;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(300);
    bool disconnecting = false;
    std::chrono::steady_clock::time_point disconnect_deadline;
    while (!finished_ && std::chrono::steady_clock::now() < give_up) {
      xmpp_run_once(ctx, 20);
      if (stop_ && !disconnecting) {
        disconnecting = true;
        disconnect_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        xmpp_disconnect(conn);
      }
      if (disconnecting && std::chrono::steady_clock::now() > disconnect_deadline) break;
      std::deque<std::string> outbox;
      {
        std::lock_guard lock(mutex_);
        if (connected_) outbox.swap(outbox_);
      }
      for (const auto& xml : outbox) xmpp_send_raw(conn, xml.data(), xml.size());
    }
    xmpp_conn_release(conn);
    xmpp_ctx_free(ctx);
  }

  static void on_connection(xmpp_conn_t* conn, xmpp_conn_event_t status, int, xmpp_stream_error_t*,
                            void* userdata) noexcept {
    auto* self = static_cast<Impl*>(userdata);
    if (status == XMPP_CONN_CONNECT) {
      xmpp_handler_add(conn, &Impl::on_presence, nullptr, "presence", nullptr, self);
      std::lock_guard lock(self->mutex_);
      self->connected_ = true;
    } else {
      std::lock_guard lock(self->mutex_);
      self->connected_ = false;
      self->finished_ = true;
    }
    self->changed_.notify_all();
  }

  static int on_presence(xmpp_conn_t*, xmpp_stanza_t* stanza, void* userdata) noexcept {
    auto* self = static_cast<Impl*>(userdata);
    char* text = nullptr;
    size_t length = 0;
    if (xmpp_stanza_to_text(stanza, &text, &length) == XMPP_EOK) {
      try {
        std::lock_guard lock(self->mutex_);
        self->presences_.emplace_back(text, length);
      } catch (...) {
      }
      xmpp_free(xmpp_conn_get_context(self->conn_), text);
    }
    self->changed_.notify_all();
    return 1;
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool connected_ = false;
  std::atomic<bool> finished_{false};
  std::atomic<bool> stop_{false};
  std::deque<std::string> outbox_;
  std::vector<std::string> presences_;
  xmpp_conn_t* conn_ = nullptr;
  std::thread thread_;
};

RawXmppClient::RawXmppClient(const std::string& host, int port, const std::string& jid,
                             const std::string& password)
    : impl_(std::make_unique<Impl>(host, port, jid, password)) {}
RawXmppClient::~RawXmppClient() = default;
bool RawXmppClient::wait_connected(std::chrono::milliseconds timeout) {
  return impl_->wait_connected(timeout);
}
void RawXmppClient::send_raw(const std::string& xml) { impl_->send_raw(xml); }
void RawXmppClient::join(const std::string& room_jid, const std::string& nick,
                         const std::string& extra) {
  send_raw("<presence to='" + room_jid + "/" + nick +
           "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x>" + extra +
           "</presence>");
}
std::vector<std::string> RawXmppClient::presences() const { return impl_->presences(); }
size_t RawXmppClient::presence_count() const { return impl_->presence_count(); }
bool RawXmppClient::wait_for_presence(const std::function<bool(const std::string&)>& match,
                                      std::chrono::milliseconds timeout) const {
  return impl_->wait_for_presence(match, timeout);
}

}  // namespace test_support
