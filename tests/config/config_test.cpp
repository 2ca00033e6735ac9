// Configuration parsed once, with one table of scaling keys (issue 14) and the contract keys of
// issue 15 (DESIGN §4).
#include "agent/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/schedule_section.h"
#include "scaling/keys.h"
#include "schedule/schedule.h"
#include "test_support/classic_profile.h"

namespace agent {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// `simulate` needs only scaling/simulation/schedule: no secret file is read.
ConfigResult parse(const json& document) { return parse_config(document, ConfigUse::kSimulate); }

TEST(ConfigKeys, EveryScalingKeyIsReadWithItsDefault) {
  const ConfigResult result = parse(json::object());
  ASSERT_TRUE(result.config) << testing::PrintToString(result.errors);
  const scaling::ScalingConfig defaults;
  EXPECT_EQ(result.config->scaling.max_failed_boots, 3);
  EXPECT_EQ(result.config->scaling.unhealthy_timeout_seconds, 300);
  EXPECT_EQ(result.config->scaling.min_bridges, defaults.min_bridges);
  for (const auto& key : scaling::scaling_keys()) {
    EXPECT_FALSE(key.doc.empty()) << key.name;
    EXPECT_FALSE(scaling::default_text(key).empty()) << key.name;
    // Every key of the table is accepted by the config (no "unknown key"), over the old contract
    // profile (test_support/classic_profile.h) so that the threshold pair below does not depend
    // on the measured defaults.
    json document = {{"scaling", test_support::classic_scaling_json()}};
    if (key.type == scaling::KeyType::kPolicy) {
      document["scaling"][std::string(key.name)] = "target";
    } else if (key.type == scaling::KeyType::kBoolean) {
      document["scaling"][std::string(key.name)] = true;
    } else if (key.type == scaling::KeyType::kInteger) {
      document["scaling"][std::string(key.name)] = static_cast<int>(key.maximum);
      if (key.name == "min_bridges") document["scaling"]["max_bridges"] = 10'000;
    } else {
      // The largest allowed value (scale_down_threshold must stay below scale_up_threshold).
      document["scaling"][std::string(key.name)] =
          key.name == "scale_down_threshold" ? 0.5 : key.maximum;
    }
    const ConfigResult one = parse(document);
    EXPECT_TRUE(one.config) << key.name << ": " << testing::PrintToString(one.errors);
  }
}

// The JSON fragment that process-level tests write is the profile in-process tests pin, key for
// key, and every key of it is a key of the table.
TEST(ConfigKeys, ClassicProfileFragmentParsesToTheClassicProfile) {
  const ConfigResult result = parse({{"scaling", test_support::classic_scaling_json()}});
  ASSERT_TRUE(result.config) << testing::PrintToString(result.errors);
  const scaling::ScalingConfig classic = test_support::classic_scaling_profile();
  for (const auto& key : scaling::scaling_keys()) {
    EXPECT_EQ(scaling::value_text(key, result.config->scaling), scaling::value_text(key, classic))
        << key.name;
  }
  EXPECT_FALSE(classic.learn_drain_lead || classic.drain_by_age || classic.no_yoyo ||
               classic.steer_holds);
  EXPECT_EQ(classic.billing_period_seconds, 0);
  EXPECT_EQ(classic.lookahead_seconds, 0);
  EXPECT_EQ(classic.predictive_headroom_seconds, 0);
}

TEST(ConfigKeys, ShippedClassicConfigIsTheClassicProfile) {
  // traces/classic.config.json is what README offers for the old behaviour: it must not drift
  // from the profile the tests pin when the defaults move.
  std::ifstream in(std::string(JVB_TRACES_DIR) + "/classic.config.json");
  ASSERT_TRUE(in);
  const ConfigResult result = parse(json::parse(in));
  ASSERT_TRUE(result.config) << testing::PrintToString(result.errors);
  const scaling::ScalingConfig classic = test_support::classic_scaling_profile();
  for (const auto& key : scaling::scaling_keys()) {
    EXPECT_EQ(scaling::value_text(key, result.config->scaling), scaling::value_text(key, classic))
        << key.name;
  }
}

TEST(ConfigKeys, NewContractKeysAreParsedAndValidated) {
  const ConfigResult ok =
      parse({{"scaling", {{"max_failed_boots", 0}, {"unhealthy_timeout_seconds", 60}}}});
  ASSERT_TRUE(ok.config) << testing::PrintToString(ok.errors);
  EXPECT_EQ(ok.config->scaling.max_failed_boots, 0);
  EXPECT_EQ(ok.config->scaling.unhealthy_timeout_seconds, 60);
  const ConfigResult bad =
      parse({{"scaling", {{"max_failed_boots", -1}, {"unhealthy_timeout_seconds", 0}}}});
  EXPECT_FALSE(bad.config);
  EXPECT_THAT(bad.errors, Contains(StartsWith("scaling.max_failed_boots: -1 must be at least 0")));
  EXPECT_THAT(bad.errors,
              Contains(StartsWith("scaling.unhealthy_timeout_seconds: 0 must be above 0")));
}

TEST(ConfigSimulation, FailedBootsIsParsedAndValidated) {
  const ConfigResult none = parse(json::object());
  ASSERT_TRUE(none.config) << testing::PrintToString(none.errors);
  EXPECT_EQ(none.config->simulation.failed_boots, 0);  // every boot works by default
  const ConfigResult all = parse({{"simulation", {{"failed_boots", -1}}}});
  ASSERT_TRUE(all.config) << testing::PrintToString(all.errors);
  EXPECT_EQ(all.config->simulation.failed_boots, -1);
  const ConfigResult five = parse({{"simulation", {{"failed_boots", 5}}}});
  ASSERT_TRUE(five.config) << testing::PrintToString(five.errors);
  EXPECT_EQ(five.config->simulation.failed_boots, 5);
  const ConfigResult bad = parse({{"simulation", {{"failed_boots", -2}}}});
  EXPECT_FALSE(bad.config);
  EXPECT_THAT(bad.errors, Contains(HasSubstr("simulation.failed_boots")));
  const ConfigResult typed = parse({{"simulation", {{"failed_boots", 1.5}}}});
  EXPECT_FALSE(typed.config);
}

TEST(ConfigKeys, OneRangePerKeyForConfigAndSchedule) {
  // The same value is refused with the same sentence by the config and by a schedule window.
  const ConfigResult config = parse({{"scaling", {{"cooldown_seconds", -1}}}});
  EXPECT_THAT(config.errors,
              ElementsAre("scaling.cooldown_seconds: -1 must be at least 0 and at most 86400"));
  std::vector<std::string> errors;
  schedule::parse_schedule(json{{"events",
                                 {{{"name", "e"},
                                   {"start", "2026-01-05T10:00:00Z"},
                                   {"end", "2026-01-05T11:00:00Z"},
                                   {"cooldown_seconds", -1}}}}},
                           scaling::ScalingConfig{}, errors);
  EXPECT_THAT(errors, ElementsAre("schedule.events[0].cooldown_seconds: -1 must be at least 0 and "
                                  "at most 86400"));
  // min_bridges above the config's 10000 is refused in a window too (it used to allow 100000).
  errors.clear();
  schedule::parse_schedule(json{{"events",
                                 {{{"name", "e"},
                                   {"start", "2026-01-05T10:00:00Z"},
                                   {"end", "2026-01-05T11:00:00Z"},
                                   {"min_bridges", 20'000},
                                   {"max_bridges", 20'000}}}}},
                           scaling::ScalingConfig{}, errors);
  EXPECT_THAT(errors,
              Contains(HasSubstr("max_bridges: 20000 must be at least 1 and at most 10000")));
}

TEST(ConfigKeys, TyposGetOneSuggestionEverywhere) {
  const ConfigResult result = parse({{"scaling", {{"scale_up_treshold", 0.5}}}});
  EXPECT_THAT(result.errors, ElementsAre("scaling.scale_up_treshold: unknown key (did you mean "
                                         "\"scale_up_threshold\"?)"));
  EXPECT_EQ(
      scaling::closest("min_bridge", std::vector<std::string_view>{"max_bridges", "min_bridges"}),
      "min_bridges");
  EXPECT_EQ(scaling::closest("colour", std::vector<std::string_view>{"min_bridges"}), std::nullopt);
}

// Issue 16: the label prefix and tags are checked as the Linode API checks them, so that a
// config the API would refuse never reaches the daemon (which would POST a refused create every
// period). The inputs are the ones the issue names.
TEST(ConfigLinode, LabelPrefixesAndTagsTheApiRefusesAreErrors) {
  const auto errors_for = [](const json& linode) { return parse({{"linode", linode}}).errors; };
  for (const std::string prefix : {"jvb--as-", "jvb__as-", "jvb..as-", "j", "1jvb-", "-jvb"}) {
    EXPECT_THAT(errors_for({{"label_prefix", prefix}}), Contains(HasSubstr("linode.label_prefix")))
        << prefix;
  }
  for (const std::string prefix : {"jvb-as-", "jvb_as.", "JVB-"}) {
    EXPECT_THAT(errors_for({{"label_prefix", prefix}}),
                Not(Contains(HasSubstr("linode.label_prefix"))))
        << prefix;
  }
  EXPECT_THAT(errors_for({{"tags", {"jitsi", "ab"}}}), Contains(HasSubstr("linode.tags[1]")));
  EXPECT_THAT(errors_for({{"tags", {std::string(51, 't')}}}),
              Contains(HasSubstr("linode.tags[0]")));
  EXPECT_THAT(errors_for({{"tags", {std::string(50, 't'), "abc"}}}),
              Not(Contains(HasSubstr("linode.tags"))));
}

TEST(ConfigDrain, DisableAndShutdownUrlsHaveDefaultsAndShutdownMayBeNull) {
  const ConfigResult defaults = parse(json::object());
  ASSERT_TRUE(defaults.config);
  EXPECT_EQ(defaults.config->drain.disable_url, "http://{private_ip}:8080/colibri/drain/disable");
  EXPECT_EQ(defaults.config->drain.shutdown_url, "http://{private_ip}:8080/colibri/shutdown");
  const ConfigResult null_shutdown = parse({{"drain", {{"shutdown_url", nullptr}}}});
  ASSERT_TRUE(null_shutdown.config) << testing::PrintToString(null_shutdown.errors);
  EXPECT_EQ(null_shutdown.config->drain.shutdown_url, std::nullopt);
  const ConfigResult bad =
      parse({{"drain", {{"disable_url", "ftp://x"}, {"shutdown_url", 3}, {"url", nullptr}}}});
  EXPECT_THAT(bad.errors, Contains("drain.disable_url: must be an http:// or https:// URL"));
  EXPECT_THAT(bad.errors, Contains("drain.shutdown_url: expected a URL or null, got an integer"));
  EXPECT_THAT(bad.errors, Contains("drain.url: expected an http:// or https:// URL, got null"));
}

TEST(ConfigXmpp, PingKeysHaveDefaultsAndTheTimeoutFitsTheInterval) {
  const json base = {{"xmpp", {{"domain", "auth.example.com"}, {"username", "autoscaler"}}}};
  const ConfigResult defaults = parse(base);
  ASSERT_TRUE(defaults.config) << testing::PrintToString(defaults.errors);
  EXPECT_EQ(defaults.config->xmpp.ping_interval_seconds, 15);
  EXPECT_EQ(defaults.config->xmpp.ping_timeout_seconds, 10);
  json crossed = base;
  crossed["xmpp"]["ping_interval_seconds"] = 5;
  crossed["xmpp"]["ping_timeout_seconds"] = 8;
  EXPECT_THAT(parse(crossed).errors, ElementsAre("xmpp.ping_timeout_seconds: (8) must not exceed "
                                                 "xmpp.ping_interval_seconds (5)"));
  json zero = base;
  zero["xmpp"]["ping_interval_seconds"] = 0;
  EXPECT_THAT(parse(zero).errors, Contains(StartsWith("xmpp.ping_interval_seconds: must be")));
}

TEST(ConfigSchedule, TheScheduleIsParsedOnceIntoTypes) {
  const ConfigResult none = parse(json::object());
  ASSERT_TRUE(none.config);
  EXPECT_EQ(none.config->schedule_config, nullptr);
  const ConfigResult result = parse({{"schedule",
                                      {{"timezone", "Europe/Berlin"},
                                       {"periods",
                                        {{{"name", "office"},
                                          {"days", {"mon"}},
                                          {"from", "08:00"},
                                          {"to", "18:00"},
                                          {"min_bridges", 3}}}}}}});
  ASSERT_TRUE(result.config) << testing::PrintToString(result.errors);
  ASSERT_TRUE(result.config->schedule_config);
  EXPECT_EQ(result.config->schedule_config->config.timezone, "Europe/Berlin");
  ASSERT_EQ(result.config->schedule_config->config.periods.size(), 1u);
  EXPECT_EQ(result.config->schedule_config->config.periods[0].overrides.min_bridges, 3);
  EXPECT_THAT(parse({{"schedule", {{"timezon", "UTC"}}}}).errors,
              ElementsAre(StartsWith("schedule.timezon: unknown key")));
}

}  // namespace
}  // namespace agent
