#pragma once
// Human output of `jvb-autoscaler ctl` (without --json), from the daemon's JSON replies.
//
// Reply keys the daemon's handler should send so that these sentences are precise (all
// optional; a missing key only makes the sentence shorter, a reply with a "message" string is
// printed as is):
//   status       DESIGN section 3 status object (+ "linode_ok", "blind_reason", "schedule",
//                "state_file_ok", "state_file_error", "creation_suspended",
//                "consecutive_failed_boots",
//                "last_decisions":[{"time","action","reason"}])
//   pause/resume {"ok":true,"paused":bool}
//   scale-to     {"ok":true,"override":N,"requested":R,"min":m,"max":M}
//   auto         {"ok":true,"override":null,"desired":D}
//   drain        {"ok":true,"bridge":"jvb-as-3"}
//   set          {"ok":true,"key":"min"|"max","n":N,"min":m,"max":M}
//   event-add    {"ok":true,"name":..,"start":..,"end":..,"min_bridges":N}
//   event-remove {"ok":true,"name":..}
//   schedule     schedule::Schedule::status_json + "ok" (also the "schedule" key of status):
//                {"timezone","prewarm_seconds","window":name|null,"min_bridges","max_bridges",
//                 "inhibit_scale_down","upcoming":[{"name","kind","start_local","end_local",
//                 "active","prewarming","overrides":{...}}]}
#include <nlohmann/json.hpp>
#include <string>

namespace agent {

// The `ctl status` table and summary (ends with a newline).
std::string format_status(const nlohmann::json& reply);

// One sentence (plus newline) for a successful reply to `request`; status and schedule get
// multi-line output.
std::string format_reply(const nlohmann::json& request, const nlohmann::json& reply);

}  // namespace agent
