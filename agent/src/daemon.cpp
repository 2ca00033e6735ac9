// The daemon's process lifecycle only: the state-file lock, the wiring of the real clock, the
// Linode client, the drain client, the brewery client, the metrics and the control socket
// around one Reconciler, the period timer, signals (SIGHUP reload, SIGTERM/SIGINT stop),
// readiness (sd_notify) and a clean shutdown. What happens in a period is in reconciler.cpp
// (docs/architecture.md).
#include "agent/daemon.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "agent/brewery_settings.h"
#include "agent/control_handler.h"
#include "agent/control_server.h"
#include "agent/http_post.h"
#include "agent/metrics.h"
#include "agent/reconciler.h"
#include "agent/state_store.h"
#include "agent/time_source.h"
#include "jvb/version.h"
#include "linode/client.h"
#include "xmpp/brewery_client.h"

namespace agent {

class Daemon::Impl {
 public:
  Impl(Config config, RunOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        tick_timer_(io_),
        drains_(io_) {}

  int run() {
    const bool dry_run = options_.dry_run || config_.dry_run;
    try {
      lock_.emplace(config_.state_file);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }

    MetricsOptions metrics_options;
    metrics_options.listen = config_.metrics_listen;
    metrics_options.secrets = {config_.xmpp.password, config_.linode.token};
    try {
      metrics_ = std::make_unique<Metrics>(metrics_options);
    } catch (const std::exception& e) {
      spdlog::error("cannot start: {}", e.what());
      return 1;
    }

    linode::ClientConfig api;
    api.api_url = config_.linode.api_url;
    api.token = config_.linode.token;
    api.on_request = [metrics = metrics_.get()](const linode::RequestRecord& record) {
      metrics->observe_linode_request(record.method, record.status, record.seconds);
    };
    linode_ = linode::make_curl_client(std::move(api));

    reconciler_ = std::make_unique<Reconciler>(
        config_, dry_run, Reconciler::Deps{io_, clock_, *linode_, drains_, metrics_.get(), [this] {
                                             return brewery_ ? brewery_->current_nickname()
                                                             : config_.xmpp.nickname;
                                           }});
    if (!reconciler_->start()) return 2;
    reconciler_->set_tick_request([this] { boost::asio::post(io_, [this] { tick(); }); });

    try {
      control_ = std::make_unique<ControlServer>(
          io_, config_.control_socket,
          [this](const nlohmann::json& request) { return handle_control(*reconciler_, request); });
    } catch (const std::exception& e) {
      spdlog::error("cannot start: {}", e.what());
      return 1;
    }

    brewery_ = std::make_unique<xmpp::BreweryClient>(
        brewery_client_config(config_.xmpp, config_.xmpp.nickname),
        [this](const xmpp::Event& event) {
          // Called on the XMPP thread: hand the event to the event loop.
          boost::asio::post(io_, [this, event] { reconciler_->on_brewery_event(event); });
        });
    brewery_->start();

    wait_for_signal();
    boost::asio::post(io_, [this] { tick(); });
    spdlog::info("jvb-autoscaler {} started: brewery {}, Linode {} (tags {}), {}{}", JVB_VERSION,
                 config_.xmpp.brewery, config_.linode.api_url, fmt::join(config_.linode.tags, ","),
                 reconciler_->describe_bounds(),
                 dry_run ? ", DRY RUN (no instance will be created or deleted)" : "");
    sd_notify(0, "READY=1");
    io_.run();

    // Clean shutdown: stop the producers before the loop state goes away, persist.
    brewery_->stop();
    linode_->shutdown();
    reconciler_->save();
    spdlog::info("jvb-autoscaler stopped cleanly; state saved to {}", config_.state_file);
    return 0;
  }

 private:
  // A period now, and the next one a period later (a ctl command's period resets the timer).
  void tick() {
    if (stopping_) return;
    reconciler_->tick();
    tick_timer_.expires_after(reconciler_->period_length());
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
        wait_for_signal();
        return;
      }
      spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      sd_notify(0, "STOPPING=1");
      stopping_ = true;
      reconciler_->stop();
      tick_timer_.cancel();
      if (control_) control_->close();
      io_.stop();
    });
  }

  void reload() {
    ConfigResult result = load_config(config_.path, ConfigUse::kDaemon);
    if (!result.config) {
      for (const auto& error : result.errors) spdlog::error("reload: {}", error);
      spdlog::error("SIGHUP: {} has errors; keeping the running configuration", config_.path);
      return;
    }
    const Config& fresh = *result.config;
    if (fresh.xmpp.host != config_.xmpp.host || fresh.xmpp.username != config_.xmpp.username ||
        fresh.linode.api_url != config_.linode.api_url || fresh.state_file != config_.state_file ||
        fresh.control_socket != config_.control_socket ||
        fresh.metrics_listen != config_.metrics_listen) {
      spdlog::warn("SIGHUP: connection, state, socket and metrics settings change only on restart");
    }
    reconciler_->reload(fresh);
  }

  Config config_;  // as started: connection, state, socket and metrics settings
  RunOptions options_;
  boost::asio::io_context io_;
  RealTimeSource clock_;
  std::optional<StateLock> lock_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tick_timer_;
  HttpDrainClient drains_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<linode::Client> linode_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<xmpp::BreweryClient> brewery_;
  bool stopping_ = false;
};

Daemon::Daemon(Config config, RunOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}
Daemon::~Daemon() = default;
int Daemon::run() { return impl_->run(); }

}  // namespace agent
