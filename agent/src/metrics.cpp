// Prometheus metrics (see metrics.h).
#include "agent/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <map>
#include <mutex>
#include <set>
#include <utility>

namespace agent {

std::string_view to_string(ScalingAction action) noexcept {
  switch (action) {
    case ScalingAction::kCreate:
      return "create";
    case ScalingAction::kDrain:
      return "drain";
    case ScalingAction::kUndrain:
      return "undrain";
    case ScalingAction::kShutdown:
      return "shutdown";
    case ScalingAction::kDelete:
      return "delete";
    case ScalingAction::kAdopt:
      return "adopt";
  }
  return "unknown";
}

std::string_view to_string(AdoptReason reason) noexcept {
  switch (reason) {
    case AdoptReason::kAmbiguousCreate:
      return "ambiguous_create";
    case AdoptReason::kFoundByTag:
      return "found_by_tag";
  }
  return "unknown";
}

namespace {

constexpr const char* kPrefix = "jvb_autoscaler_";

// Pairs exported at 0 from the start, so that rate() and alerts work before the first action.
using scaling::Reason;
const std::pair<ScalingAction, Reason> kExpectedActions[] = {
    {ScalingAction::kCreate, Reason::kStressHigh},
    {ScalingAction::kCreate, Reason::kBelowMin},
    {ScalingAction::kCreate, Reason::kPinned},
    {ScalingAction::kCreate, Reason::kReplacement},
    {ScalingAction::kDrain, Reason::kStressLow},
    {ScalingAction::kDrain, Reason::kAboveMax},
    {ScalingAction::kDrain, Reason::kPinned},
    {ScalingAction::kDrain, Reason::kOperator},
    {ScalingAction::kShutdown, Reason::kDrainTimeout},
    {ScalingAction::kDelete, Reason::kDrainedEmpty},
    {ScalingAction::kDelete, Reason::kDrainTimeout},
    {ScalingAction::kDelete, Reason::kLeftBrewery},
    {ScalingAction::kDelete, Reason::kBootTimeout},
};
const AdoptReason kExpectedAdoptions[] = {AdoptReason::kAmbiguousCreate, AdoptReason::kFoundByTag};

std::string name(const char* suffix) { return std::string(kPrefix) + suffix; }

// Validates "host:port" (host may be "[v6]"); civetweb accepts this form as is.
void check_listen_address(const std::string& listen) {
  auto colon = listen.rfind(':');
  bool valid = colon != std::string::npos && colon > 0 && colon + 1 < listen.size();
  if (valid) {
    unsigned port = 0;
    const char* begin = listen.data() + colon + 1;
    const char* end = listen.data() + listen.size();
    auto [rest, error] = std::from_chars(begin, end, port);
    valid = error == std::errc() && rest == end && port <= 65535;
  }
  if (!valid) {
    throw MetricsError("metrics.listen \"" + listen + "\" is not host:port (e.g. 127.0.0.1:9464)");
  }
}

std::string normalised_method(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PUT", "DELETE"}) {
    if (method == known) return std::string(known);
  }
  return "OTHER";
}

}  // namespace

struct Metrics::Impl {
  explicit Impl(const MetricsOptions& options);

  // A label value safe to export: never contains a configured secret.
  std::string safe_label(const std::string& value) const {
    for (const auto& secret : secrets) {
      if (!secret.empty() && value.find(secret) != std::string::npos) return "redacted";
    }
    return value;
  }

  // Sets or removes the single series of an unlabelled-but-optional gauge family.
  void set_optional(prometheus::Family<prometheus::Gauge>& family, prometheus::Gauge*& series,
                    std::optional<double> value) {
    if (value) {
      if (!series) series = &family.Add({});
      series->Set(*value);
    } else if (series) {
      family.Remove(series);
      series = nullptr;
    }
  }

  // Makes `series` (bridge -> gauge) hold exactly `values`.
  static void replace_series(prometheus::Family<prometheus::Gauge>& family,
                             std::map<std::string, prometheus::Gauge*>& series,
                             const std::map<std::string, double>& values) {
    for (auto it = series.begin(); it != series.end();) {
      if (!values.contains(it->first)) {
        family.Remove(it->second);
        it = series.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [bridge, value] : values) {
      auto& gauge = series[bridge];
      if (!gauge) gauge = &family.Add({{"bridge", bridge}});
      gauge->Set(value);
    }
  }

  std::vector<std::string> secrets;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  prometheus::Family<prometheus::Gauge>& bridges;
  prometheus::Family<prometheus::Gauge>& bridge_stress;
  prometheus::Family<prometheus::Gauge>& bridge_participants;
  prometheus::Family<prometheus::Gauge>& cluster_stress;
  prometheus::Gauge& desired;
  prometheus::Gauge& min_bridges;
  prometheus::Gauge& max_bridges;
  prometheus::Gauge& paused;
  prometheus::Gauge& override_active;
  prometheus::Gauge& blind;
  prometheus::Family<prometheus::Counter>& scaling_actions;
  prometheus::Family<prometheus::Counter>& linode_requests;
  prometheus::Histogram& linode_duration;
  prometheus::Gauge& xmpp_connected;
  prometheus::Counter& xmpp_reconnects;
  prometheus::Histogram& decision_duration;
  prometheus::Family<prometheus::Gauge>& build_info;
  prometheus::Family<prometheus::Gauge>& schedule_min;
  prometheus::Family<prometheus::Gauge>& schedule_active;
  prometheus::Gauge& state_file_ok;
  prometheus::Counter& state_file_write_failures;
  prometheus::Counter& drain_timeouts;
  prometheus::Gauge& consecutive_failed_boots;
  prometheus::Gauge& creation_suspended;

  std::mutex mutex;  // guards the maps and optional series below
  std::map<std::string, prometheus::Gauge*> state_series;
  std::map<std::string, prometheus::Gauge*> stress_series;
  std::map<std::string, prometheus::Gauge*> participants_series;
  prometheus::Gauge* cluster_stress_series = nullptr;
  prometheus::Gauge* schedule_min_series = nullptr;
  prometheus::Gauge* schedule_active_series = nullptr;
  std::set<std::string> warned_states;

  std::unique_ptr<prometheus::Exposer> exposer;  // last: serves only a complete registry
};

namespace {

prometheus::Family<prometheus::Gauge>& gauge_family(prometheus::Registry& registry,
                                                    const char* suffix, const char* help) {
  return prometheus::BuildGauge().Name(name(suffix)).Help(help).Register(registry);
}

prometheus::Gauge& gauge(prometheus::Registry& registry, const char* suffix, const char* help) {
  return gauge_family(registry, suffix, help).Add({});
}

}  // namespace

Metrics::Impl::Impl(const MetricsOptions& options)
    : secrets(options.secrets),
      bridges(gauge_family(*registry, "bridges",
                           "Bridges known to the agent, by state (provisioning, ready, draining, "
                           "deleting, unmanaged, failed).")),
      bridge_stress(gauge_family(*registry, "bridge_stress",
                                 "Last stress_level a bridge published in the brewery "
                                 "(absent while unknown).")),
      bridge_participants(gauge_family(*registry, "bridge_participants",
                                       "Last participant count a bridge published in the "
                                       "brewery (absent while unknown).")),
      cluster_stress(gauge_family(*registry, "cluster_stress",
                                  "Mean stress over ready bridges, provisioning ones counted "
                                  "at zero (absent while unknown).")),
      desired(gauge(*registry, "desired_bridges",
                    "Desired count of non-draining bridges after clamping.")),
      min_bridges(gauge(*registry, "min_bridges",
                        "Effective min_bridges (config, ctl set min or schedule).")),
      max_bridges(
          gauge(*registry, "max_bridges", "Effective max_bridges (config or ctl set max).")),
      paused(gauge(*registry, "paused", "1 while scaling actions are paused by ctl pause.")),
      override_active(gauge(*registry, "override_active",
                            "1 while the desired count is pinned by ctl scale-to.")),
      blind(gauge(*registry, "blind",
                  "1 while the agent holds (no drain, no delete) because it cannot see the "
                  "brewery or the Linode API.")),
      scaling_actions(prometheus::BuildCounter()
                          .Name(name("scaling_actions_total"))
                          .Help("Scaling actions taken, by action and short reason code.")
                          .Register(*registry)),
      linode_requests(prometheus::BuildCounter()
                          .Name(name("linode_requests_total"))
                          .Help("Linode API requests, by HTTP method and status code (status "
                                "\"error\" for a transport failure).")
                          .Register(*registry)),
      linode_duration(prometheus::BuildHistogram()
                          .Name(name("linode_request_duration_seconds"))
                          .Help("Duration of Linode API requests, retries counted separately.")
                          .Register(*registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 1,
                                                                           2.5, 5, 10, 30, 60})),
      xmpp_connected(
          gauge(*registry, "xmpp_connected", "1 while the agent is in the brewery MUC.")),
      xmpp_reconnects(prometheus::BuildCounter()
                          .Name(name("xmpp_reconnects_total"))
                          .Help("Reconnections to Prosody after a lost connection.")
                          .Register(*registry)
                          .Add({})),
      decision_duration(
          prometheus::BuildHistogram()
              .Name(name("decision_duration_seconds"))
              .Help("Duration of one reconcile decision (observe to decide).")
              .Register(*registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                               0.05, 0.1, 0.5, 1})),
      build_info(gauge_family(*registry, "build_info",
                              "Always 1; the version label names the running build.")),
      schedule_min(gauge_family(*registry, "schedule_min_bridges",
                                "min_bridges imposed by the active schedule window (absent "
                                "when no window is active).")),
      schedule_active(gauge_family(*registry, "schedule_active",
                                   "1 for the schedule window in effect now (absent when "
                                   "none).")),
      state_file_ok(gauge(*registry, "state_file_ok",
                          "1 while the last write of the state file succeeded; 0 while it "
                          "fails (no bridge is created or drained until it can be saved).")),
      state_file_write_failures(prometheus::BuildCounter()
                                    .Name(name("state_file_write_failures_total"))
                                    .Help("Failed writes of the state file.")
                                    .Register(*registry)
                                    .Add({})),
      drain_timeouts(prometheus::BuildCounter()
                         .Name(name("drain_timeouts_total"))
                         .Help("Drains that reached drain_timeout_seconds with participants "
                               "still on the bridge and forced its shutdown.")
                         .Register(*registry)
                         .Add({})),
      consecutive_failed_boots(gauge(*registry, "consecutive_failed_boots",
                                     "Boots in a row that never joined the brewery (reset when "
                                     "a bridge joins, on reload and on ctl resume).")),
      creation_suspended(gauge(*registry, "creation_suspended",
                               "1 while creation is suspended after scaling.max_failed_boots "
                               "failed boots in a row.")) {
  state_file_ok.Set(1);
  build_info.Add({{"version", safe_label(options.version)}}).Set(1);
  for (std::string_view state : kBridgeStates) {
    state_series[std::string(state)] = &bridges.Add({{"state", std::string(state)}});
  }
  for (const auto& [action, reason] : kExpectedActions) {
    scaling_actions.Add({{"action", std::string(to_string(action))},
                         {"reason", std::string(scaling::to_string(reason))}});
  }
  for (const auto reason : kExpectedAdoptions) {
    scaling_actions.Add({{"action", "adopt"}, {"reason", std::string(to_string(reason))}});
  }
  if (options.listen.empty()) return;  // no HTTP exposer (in-process tests): text() only
  check_listen_address(options.listen);
  try {
    exposer = std::make_unique<prometheus::Exposer>(options.listen, 1);
  } catch (const std::exception& e) {
    throw MetricsError("cannot serve metrics on " + options.listen + ": " + e.what());
  }
  exposer->RegisterCollectable(registry);
}

Metrics::Metrics(const MetricsOptions& options) : impl_(std::make_unique<Impl>(options)) {}

Metrics::~Metrics() = default;

uint16_t Metrics::port() const {
  if (!impl_->exposer) return 0;
  auto ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<uint16_t>(ports.front());
}

std::string Metrics::text() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

void Metrics::set_bridges(const std::vector<BridgeSample>& bridges) {
  std::map<std::string, int> counts;
  std::map<std::string, double> stress, participants;
  std::lock_guard lock(impl_->mutex);
  for (const auto& bridge : bridges) {
    if (impl_->state_series.contains(bridge.state)) {
      ++counts[bridge.state];
    } else if (impl_->warned_states.insert(bridge.state).second) {
      spdlog::warn("metrics: bridge {} has state \"{}\", which is not exported", bridge.name,
                   bridge.state);
    }
    const std::string label = impl_->safe_label(bridge.name);
    if (bridge.stress) stress[label] = *bridge.stress;
    if (bridge.participants) participants[label] = *bridge.participants;
  }
  for (auto& [state, gauge] : impl_->state_series) gauge->Set(counts[state]);
  Impl::replace_series(impl_->bridge_stress, impl_->stress_series, stress);
  Impl::replace_series(impl_->bridge_participants, impl_->participants_series, participants);
}

void Metrics::set_cluster_stress(std::optional<double> stress) {
  std::lock_guard lock(impl_->mutex);
  impl_->set_optional(impl_->cluster_stress, impl_->cluster_stress_series, stress);
}

void Metrics::set_desired(int desired) { impl_->desired.Set(desired); }

void Metrics::set_bounds(int min_bridges, int max_bridges) {
  impl_->min_bridges.Set(min_bridges);
  impl_->max_bridges.Set(max_bridges);
}

void Metrics::set_paused(bool paused) { impl_->paused.Set(paused ? 1 : 0); }

void Metrics::set_override(std::optional<int> pinned) {
  impl_->override_active.Set(pinned ? 1 : 0);
}

void Metrics::set_blind(bool blind) { impl_->blind.Set(blind ? 1 : 0); }

void Metrics::set_xmpp_connected(bool connected) { impl_->xmpp_connected.Set(connected ? 1 : 0); }

void Metrics::count_xmpp_reconnect() { impl_->xmpp_reconnects.Increment(); }

void Metrics::count_scaling_action(ScalingAction action, scaling::Reason reason) {
  // Family::Add returns the existing series for known labels and is itself thread-safe.
  impl_->scaling_actions
      .Add({{"action", std::string(to_string(action))},
            {"reason", std::string(scaling::to_string(reason))}})
      .Increment();
}

void Metrics::count_adoption(AdoptReason reason) {
  impl_->scaling_actions.Add({{"action", "adopt"}, {"reason", std::string(to_string(reason))}})
      .Increment();
}

void Metrics::observe_linode_request(std::string_view method, int status, double seconds) {
  const std::string status_label =
      status >= 100 && status <= 599 ? std::to_string(status) : std::string("error");
  impl_->linode_requests.Add({{"method", normalised_method(method)}, {"status", status_label}})
      .Increment();
  impl_->linode_duration.Observe(seconds);
}

void Metrics::observe_decision_duration(double seconds) {
  impl_->decision_duration.Observe(seconds);
}

void Metrics::set_schedule(std::optional<int> schedule_min_bridges, const std::string& window) {
  std::lock_guard lock(impl_->mutex);
  impl_->set_optional(
      impl_->schedule_min, impl_->schedule_min_series,
      schedule_min_bridges ? std::optional<double>(*schedule_min_bridges) : std::nullopt);
  if (impl_->schedule_active_series) {
    impl_->schedule_active.Remove(impl_->schedule_active_series);
    impl_->schedule_active_series = nullptr;
  }
  if (!window.empty()) {
    impl_->schedule_active_series =
        &impl_->schedule_active.Add({{"window", impl_->safe_label(window)}});
    impl_->schedule_active_series->Set(1);
  }
}

void Metrics::set_state_file_ok(bool ok) { impl_->state_file_ok.Set(ok ? 1 : 0); }

void Metrics::count_state_file_write_failure() { impl_->state_file_write_failures.Increment(); }

void Metrics::count_drain_timeout() { impl_->drain_timeouts.Increment(); }

void Metrics::set_failed_boots(int consecutive, bool suspended) {
  impl_->consecutive_failed_boots.Set(consecutive);
  impl_->creation_suspended.Set(suspended ? 1 : 0);
}

}  // namespace agent
