#include "agent/status_view.h"

#include "schedule/schedule.h"

namespace agent {

namespace {

using nlohmann::json;

template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

json status_json(const StatusView& view) {
  json bridges = json::array();
  for (const auto& row : view.bridges) {
    bridges.push_back({{"name", row.name},
                       {"state", row.state},
                       {"stress", or_null(row.stress)},
                       {"participants", or_null(row.participants)},
                       {"conferences", or_null(row.conferences)},
                       {"managed", row.managed},
                       {"private_ip", or_null(row.private_ip)},
                       {"linode_id", or_null(row.linode_id)}});
  }
  json decisions = json::array();
  for (const auto& record : view.decisions) {
    decisions.push_back({{"time", schedule::format_utc(record.time)},
                         {"action", record.action},
                         {"reason", record.reason}});
  }
  return {{"ok", true},
          {"paused", view.paused},
          {"override", or_null(view.override_count)},
          {"min", view.min},
          {"max", view.max},
          {"desired", view.desired},
          {"cluster_stress", or_null(view.cluster_stress)},
          {"xmpp_connected", view.xmpp_connected},
          {"linode_ok", view.linode_ok},
          {"blind_reason", or_null(view.blind_reason)},
          {"dry_run", view.dry_run},
          {"state_file_ok", view.state_file_ok},
          {"state_file_error", or_null(view.state_file_error)},
          {"consecutive_failed_boots", view.consecutive_failed_boots},
          {"creation_suspended", view.creation_suspended},
          {"schedule", view.schedule},
          {"last_decisions", decisions},
          {"bridges", bridges}};
}

void publish(const StatusView& view, Metrics& metrics) {
  std::vector<BridgeSample> samples;
  samples.reserve(view.bridges.size());
  for (const auto& row : view.bridges) {
    BridgeSample sample;
    sample.name = row.name;
    sample.state = row.state;
    sample.stress = row.stress;
    if (row.participants) sample.participants = static_cast<int>(*row.participants);
    samples.push_back(std::move(sample));
  }
  metrics.set_bridges(samples);
  metrics.set_cluster_stress(view.cluster_stress);
  metrics.set_desired(view.desired);
  metrics.set_bounds(view.min, view.max);
  metrics.set_paused(view.paused);
  metrics.set_override(view.override_count);
  metrics.set_blind(view.blind_reason.has_value());
  metrics.set_schedule(view.schedule_min, view.window);
  metrics.set_state_file_ok(view.state_file_ok);
  metrics.set_failed_boots(view.consecutive_failed_boots, view.creation_suspended);
}

}  // namespace agent
