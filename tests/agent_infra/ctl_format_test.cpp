// Human output of `ctl`, from replies shaped as DESIGN section 3 describes.
#include "agent/ctl_format.h"

#include <gtest/gtest.h>

namespace agent {
namespace {

using nlohmann::json;

const char* kStatusReply = R"({"ok":true,"paused":false,"override":null,"min":1,"max":10,
  "desired":3,"cluster_stress":0.41,"xmpp_connected":true,"linode_ok":true,"blind_reason":null,
  "schedule":null,
  "last_decisions":[{"time":"2026-11-24T10:00:05Z","action":"scale_up",
                     "reason":"stress 0.82 above 0.70 for 2 periods"}],
  "bridges":[{"name":"jvb-as-3","state":"ready","stress":0.52,"participants":31,
              "conferences":4,"managed":true,"linode_id":1234},
             {"name":"jvb1","state":"unmanaged","stress":null,"participants":null,
              "conferences":null,"managed":false,"linode_id":null}]})";

TEST(CtlFormat, StatusIsATableThenTheSummary) {
  EXPECT_EQ(format_status(json::parse(kStatusReply)),
            "BRIDGE    STATE      STRESS  PARTICIPANTS  CONFERENCES  MANAGED  LINODE_ID\n"
            "jvb-as-3  ready        0.52            31            4  yes           1234\n"
            "jvb1      unmanaged       -             -            -  no               -\n"
            "\n"
            "desired 3 (min 1, max 10), override none (automatic), paused no\n"
            "cluster stress 0.41, xmpp connected yes, linode ok yes\n"
            "last decisions:\n"
            "  2026-11-24T10:00:05Z  scale_up  stress 0.82 above 0.70 for 2 periods\n");
}

TEST(CtlFormat, StatusShowsPinBlindnessScheduleAndNoBridges) {
  json reply = json::parse(kStatusReply);
  reply["bridges"] = json::array();
  reply["override"] = 4;
  reply["paused"] = true;
  reply["xmpp_connected"] = false;
  reply["cluster_stress"] = nullptr;
  reply["blind_reason"] = "brewery connection down since 10:02:11";
  reply["dry_run"] = true;
  reply["schedule"] = {
      {"timezone", "Europe/Berlin"}, {"window", "office-hours"},   {"min_bridges", 4},
      {"max_bridges", 10},           {"inhibit_scale_down", true}, {"active", {"office-hours"}},
      {"upcoming", json::array()}};
  reply["last_decisions"] = json::array();
  EXPECT_EQ(format_status(reply),
            "no bridges\n"
            "\n"
            "desired 3 (min 1, max 10), override pinned to 4, paused yes\n"
            "cluster stress -, xmpp connected no, linode ok yes\n"
            "dry run: decisions are logged, no instance is created or deleted\n"
            "holding (blind): brewery connection down since 10:02:11\n"
            "schedule: window \"office-hours\" in force (min_bridges 4, max_bridges 10, "
            "scale-down inhibited)\n");
}

TEST(CtlFormat, StatusSaysWhenTheStateFileCannotBeSaved) {
  json reply = json::parse(kStatusReply);
  reply["bridges"] = json::array();
  reply["last_decisions"] = json::array();
  reply["state_file_ok"] = false;
  reply["state_file_error"] = "cannot write state file /var/lib/s.json: No space left on device";
  EXPECT_NE(format_status(reply).find("state file error: cannot write state file "
                                      "/var/lib/s.json: No space left on device (no bridge is "
                                      "created or drained until it can be saved)\n"),
            std::string::npos);
  reply["state_file_error"] = nullptr;
  EXPECT_EQ(format_status(reply).find("state file"), std::string::npos);
  reply["creation_suspended"] = true;
  reply["consecutive_failed_boots"] = 3;
  EXPECT_NE(format_status(reply).find("creation suspended: 3 boots in a row never joined the "
                                      "brewery (ctl resume resumes it)\n"),
            std::string::npos);
}

TEST(CtlFormat, OneSentencePerCommand) {
  auto say = [](const json& request, const json& reply) { return format_reply(request, reply); };
  EXPECT_EQ(say({{"cmd", "scale-to"}, {"n", 12}},
                {{"ok", true}, {"override", 10}, {"requested", 12}, {"min", 1}, {"max", 10}}),
            "desired count pinned to 10 (clamped from 12 to max 10)\n");
  EXPECT_EQ(say({{"cmd", "scale-to"}, {"n", 0}}, {{"ok", true}, {"override", 2}}),
            "desired count pinned to 2 (clamped from 0 to min 2)\n");
  EXPECT_EQ(say({{"cmd", "scale-to"}, {"n", 3}}, {{"ok", true}, {"override", 3}}),
            "desired count pinned to 3\n");
  EXPECT_EQ(say({{"cmd", "auto"}}, {{"ok", true}, {"override", nullptr}, {"desired", 2}}),
            "override removed: back to automatic scaling (desired now 2)\n");
  EXPECT_EQ(say({{"cmd", "drain"}, {"bridge", "jvb-as-3"}}, {{"ok", true}}),
            "draining jvb-as-3: it will be deleted once empty\n");
  EXPECT_EQ(say({{"cmd", "set"}, {"key", "min"}, {"n", 2}},
                {{"ok", true}, {"key", "min"}, {"n", 2}, {"min", 2}, {"max", 10}}),
            "min_bridges set to 2 (bounds now 2..10)\n");
  EXPECT_EQ(say({{"cmd", "pause"}}, {{"ok", true}, {"paused", true}}),
            "scaling paused: no new create or drain until `ctl resume` (observation continues, "
            "drains under way complete)\n");
  EXPECT_EQ(say({{"cmd", "resume"}}, {{"ok", true}}), "scaling resumed\n");
  EXPECT_EQ(say({{"cmd", "event-remove"}, {"name", "town-hall"}}, {{"ok", true}}),
            "event \"town-hall\" removed\n");
  EXPECT_EQ(say({{"cmd", "event-add"},
                 {"name", "town-hall"},
                 {"start", "2026-02-01T09:00:00+01:00"},
                 {"end", "2026-02-01T11:00:00+01:00"},
                 {"min_bridges", 6}},
                {{"ok", true}}),
            "event \"town-hall\" added: min_bridges 6 from 2026-02-01T09:00:00+01:00 to "
            "2026-02-01T11:00:00+01:00\n");
  // A daemon-provided message wins over the built-in sentence.
  EXPECT_EQ(say({{"cmd", "pause"}}, {{"ok", true}, {"message", "already paused"}}),
            "already paused\n");
}

TEST(CtlFormat, ScheduleShowsTheWindowInForceAndTheUpcomingOnes) {
  const json reply = json::parse(R"({"ok":true,"timezone":"Europe/Berlin","prewarm_seconds":300,
    "window":null,"min_bridges":1,"max_bridges":10,"inhibit_scale_down":false,"active":[],
    "upcoming":[
      {"name":"town-hall","kind":"event","start_local":"2026-02-01T09:00:00+01:00",
       "end_local":"2026-02-01T11:00:00+01:00","active":true,"prewarming":true,
       "overrides":{"min_bridges":6}},
      {"name":"office-hours","kind":"period","start_local":"2026-02-02T08:00:00+01:00",
       "end_local":"2026-02-02T18:00:00+01:00","active":false,"prewarming":false,
       "overrides":{"min_bridges":3,"policy":"target"}}]})");
  EXPECT_EQ(format_reply({{"cmd", "schedule"}}, reply),
            "schedule: no window in force (min_bridges 1, max_bridges 10), timezone "
            "Europe/Berlin, prewarm 300 s\n"
            "upcoming:\n"
            "  town-hall (event) 2026-02-01T09:00:00+01:00 .. 2026-02-01T11:00:00+01:00: "
            "min_bridges 6 [prewarming]\n"
            "  office-hours (period) 2026-02-02T08:00:00+01:00 .. 2026-02-02T18:00:00+01:00: "
            "min_bridges 3, policy target\n");
}

TEST(CtlFormat, OddRepliesNeverThrow) {
  for (const char* reply : {R"({"ok":true})", R"({"ok":true,"bridges":[1,"x",null]})",
                            R"({"ok":true,"override":"x","requested":[1],"schedule":[1]})",
                            R"({"ok":true,"last_decisions":{"a":1},"min":"one"})",
                            R"({"ok":true,"upcoming":[1,{"overrides":[2]}],"window":3})"}) {
    for (const char* cmd : {"status", "scale-to", "set", "schedule", "auto", "drain"}) {
      EXPECT_NO_THROW(format_reply({{"cmd", cmd}}, json::parse(reply))) << cmd << " " << reply;
    }
  }
}

}  // namespace
}  // namespace agent
