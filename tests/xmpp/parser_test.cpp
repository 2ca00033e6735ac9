// The colibri stats parser: pure, and hostile input never crashes it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>

#include "xmpp/brewery_client.h"

namespace xmpp {
namespace {

std::string presence_with(const std::string& stats_children,
                          const std::string& ns = "http://jitsi.org/protocol/colibri") {
  return "<presence xmlns='jabber:client' from='jvbbrewery@internal.auth.meet.test/jvb-1'>"
         "<x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x>"
         "<stats xmlns='" +
         ns + "'>" + stats_children + "</stats></presence>";
}

std::string stat(const std::string& name, const std::string& value) {
  return "<stat name='" + name + "' value='" + value + "'/>";
}

TEST(ParsePresence, ReadsEveryModelledStatAndKeepsTheRest) {
  const auto stats = parse_presence(presence_with(
      stat("stress_level", "0.42") + stat("participants", "42") + stat("conferences", "9") +
      stat("drain", "false") + stat("graceful_shutdown", "true") + stat("region", "us-lax") +
      stat("version", "2.3.92") + stat("relay_id", "jvb-1")));
  ASSERT_TRUE(stats);
  EXPECT_DOUBLE_EQ(*stats->stress_level, 0.42);
  EXPECT_EQ(stats->participants, 42);
  EXPECT_EQ(stats->conferences, 9);
  EXPECT_EQ(stats->drain, false);
  EXPECT_EQ(stats->graceful_shutdown, true);
  EXPECT_EQ(stats->region, "us-lax");
  EXPECT_EQ(stats->version, "2.3.92");
  EXPECT_EQ(stats->other.at("relay_id"), "jvb-1");
}

TEST(ParsePresence, NoColibriStatsMeansNotABridge) {
  EXPECT_FALSE(parse_presence(
      "<presence from='r@m/agent'><x xmlns='http://jabber.org/protocol/muc'/></presence>"));
  EXPECT_FALSE(parse_presence(presence_with(stat("participants", "1"), "urn:other")));
  EXPECT_FALSE(
      parse_presence("<message><stats xmlns='http://jitsi.org/protocol/colibri'/></message>"));
}

TEST(ParsePresence, EmptyStatsElementGivesAllUnknown) {
  const auto stats = parse_presence(presence_with(""));
  ASSERT_TRUE(stats);
  EXPECT_EQ(*stats, BridgeStats{});
}

TEST(ParsePresence, MalformedXmlIsNotACrash) {
  for (const char* bad :
       {"", "<", "<presence", "<presence><stats xmlns='http://jitsi.org/protocol/colibri'>",
        "not xml at all", "<presence></presenc>", "\0\0\0"}) {
    EXPECT_FALSE(parse_presence(bad)) << bad;
  }
}

TEST(ParsePresence, RefusesDoctypeAndEntityExpansion) {
  const std::string bomb =
      "<?xml version='1.0'?><!DOCTYPE p [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]>"
      "<presence><stats xmlns='http://jitsi.org/protocol/colibri'><stat name='region' value='&b;'/>"
      "</stats></presence>";
  EXPECT_FALSE(parse_presence(bomb));
}

TEST(ParsePresence, NonUtf8InputIsRejected) {
  EXPECT_FALSE(parse_presence(presence_with(stat("region", "\xff\xfe\xc3"))));
  EXPECT_FALSE(parse_presence(presence_with(stat("region", "\xc0\xaf"))));  // overlong '/'
}

TEST(ParsePresence, MissingAttributes) {
  const auto stats = parse_presence(presence_with(
      "<stat value='3'/><stat name='participants'/><stat name='conferences' value='2'/><stat/>"));
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->participants);  // no value: unknown
  EXPECT_EQ(stats->conferences, 2);
  EXPECT_TRUE(stats->other.empty());  // nameless stats are dropped
}

TEST(ParsePresence, TenThousandStatChildrenAreBoundedAndQuick) {
  std::string children;
  for (int i = 0; i < 10000; ++i) children += stat("s" + std::to_string(i), std::to_string(i));
  children += stat("participants", "7");
  const auto start = std::chrono::steady_clock::now();
  const auto stats = parse_presence(presence_with(children));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->participants, 7);
  EXPECT_EQ(stats->other.size(), 256u);  // memory per bridge stays bounded
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(ParseStats, HostileNumbersBecomeUnknownNeverNan) {
  for (const char* value : {"NaN", "nan", "inf", "-inf", "Infinity", "-0.5", "1e309", "1e6", "0x10",
                            " 0.5", "0.5 ", "", "0.5.1", "abc"}) {
    const BridgeStats stats = parse_stats({{"stress_level", value}});
    EXPECT_FALSE(stats.stress_level) << "'" << value << "'";
  }
  EXPECT_DOUBLE_EQ(*parse_stats({{"stress_level", "1.75"}}).stress_level, 1.75);  // overloaded
  EXPECT_DOUBLE_EQ(*parse_stats({{"stress_level", "0"}}).stress_level, 0.0);
  for (const char* value :
       {"-1", "99999999999999999999999", "1.5", "1.0E300", "NaN", "", "+-3", "12abc", "+3"}) {
    const BridgeStats stats = parse_stats({{"participants", value}, {"conferences", value}});
    EXPECT_FALSE(stats.participants) << "'" << value << "'";
    EXPECT_FALSE(stats.conferences) << "'" << value << "'";
  }
  EXPECT_EQ(parse_stats({{"participants", "9223372036854775807"}}).participants, INT64_MAX);
}

TEST(ParseStats, BooleansAcceptTrueFalseOneZeroOnly) {
  EXPECT_EQ(parse_stats({{"drain", "TRUE"}}).drain, true);
  EXPECT_EQ(parse_stats({{"drain", "0"}}).drain, false);
  EXPECT_FALSE(parse_stats({{"drain", "yes"}}).drain);
  EXPECT_FALSE(parse_stats({{"drain", "truetruetrue"}}).drain);
}

TEST(ParseStats, ShutdownPhasesAreSeparateWithACombinedAccessor) {
  // JVB's ShutdownManager: GRACEFUL_SHUTDOWN ("graceful_shutdown") then SHUTTING_DOWN
  // ("shutting_down"); Jicofo reads both (Bridge.kt), and so do we, separately.
  const BridgeStats shutting =
      parse_stats({{"graceful_shutdown", "false"}, {"shutting_down", "true"}});
  EXPECT_EQ(shutting.graceful_shutdown, false);
  EXPECT_EQ(shutting.shutting_down, true);
  EXPECT_EQ(shutting.shutdown_in_progress(), true);
  EXPECT_TRUE(shutting.refuses_new_conferences());
  const BridgeStats graceful = parse_stats({{"graceful_shutdown", "true"}});
  EXPECT_EQ(graceful.shutting_down, std::nullopt);
  EXPECT_EQ(graceful.shutdown_in_progress(), true);
  EXPECT_EQ(parse_stats({{"shutting_down", "false"}}).shutdown_in_progress(), false);
  EXPECT_EQ(parse_stats({{"shutting_down", "false"}}).graceful_shutdown, std::nullopt);
  EXPECT_EQ(parse_stats({}).shutdown_in_progress(), std::nullopt);
  EXPECT_TRUE(parse_stats({{"shutting_down", "true"}}).other.empty());  // modelled, not "other"
}

TEST(ParseStats, JavaNumberFormats) {
  // What Java's Double.toString and Long.toString print (JVB's VideobridgeStatisticsShim.kt
  // puts Double and Long values; the colibri extension carries their text).
  EXPECT_DOUBLE_EQ(*parse_stats({{"stress_level", "1.0E-4"}}).stress_level, 1.0e-4);
  EXPECT_DOUBLE_EQ(*parse_stats({{"stress_level", "0.0"}}).stress_level, 0.0);
  EXPECT_DOUBLE_EQ(*parse_stats({{"stress_level", "-0.0"}}).stress_level, 0.0);
  EXPECT_DOUBLE_EQ(*parse_stats({{"stress_level", "2.5E-2"}}).stress_level, 0.025);
  EXPECT_FALSE(parse_stats({{"stress_level", "NaN"}}).stress_level);
  EXPECT_FALSE(parse_stats({{"stress_level", "Infinity"}}).stress_level);
  EXPECT_EQ(parse_stats({{"participants", "0.0"}}).participants, 0);
  EXPECT_EQ(parse_stats({{"participants", "12.0"}}).participants, 12);
  EXPECT_EQ(parse_stats({{"participants", "1.0E7"}}).participants, 10'000'000);
  EXPECT_EQ(parse_stats({{"conferences", "1e3"}}).conferences, 1000);
  EXPECT_FALSE(parse_stats({{"participants", "NaN"}}).participants);
  EXPECT_FALSE(parse_stats({{"local_endpoints", "2.5"}}).local_endpoints);
  EXPECT_FALSE(parse_stats({{"octo_endpoints", "-1"}}).relayed_endpoints);
}

TEST(ParseStats, LargestConferenceIsACountInJavaFormats) {
  // jitsi-videobridge doc/statistics.md: "largest_conference - The number of participants in
  // the largest conference currently hosted on the bridge" (a Long in VideobridgeStatistics).
  EXPECT_EQ(parse_stats({{"largest_conference", "7"}}).largest_conference, 7);
  EXPECT_EQ(parse_stats({{"largest_conference", "0"}}).largest_conference, 0);
  EXPECT_EQ(parse_stats({{"largest_conference", "12.0"}}).largest_conference, 12);
  EXPECT_EQ(parse_stats({{"largest_conference", "1.5E1"}}).largest_conference, 15);
  for (const char* bad : {"", "-1", "2.5", "NaN", "Infinity", "+3", "x", "1e400"}) {
    EXPECT_EQ(parse_stats({{"largest_conference", bad}}).largest_conference, std::nullopt)
        << "'" << bad << "'";
  }
  // Modelled, so not kept in `other`; a later malformed value makes it unknown.
  EXPECT_TRUE(parse_stats({{"largest_conference", "4"}}).other.empty());
  EXPECT_EQ(
      parse_stats({{"largest_conference", "4"}, {"largest_conference", "bad"}}).largest_conference,
      std::nullopt);
  EXPECT_EQ(parse_stats({}).largest_conference, std::nullopt);
}

TEST(ParseStats, HealthAndLocalParticipants) {
  const BridgeStats unhealthy = parse_stats({{"healthy", "false"}, {"participants", "10"}});
  EXPECT_EQ(unhealthy.healthy, false);
  EXPECT_TRUE(unhealthy.refuses_new_conferences());
  EXPECT_FALSE(parse_stats({{"healthy", "true"}}).refuses_new_conferences());
  EXPECT_FALSE(parse_stats({}).refuses_new_conferences());  // unknown is not "refuses"
  EXPECT_TRUE(parse_stats({{"drain", "true"}}).refuses_new_conferences());
  // participants counts relayed endpoints too; local = participants - relayed.
  EXPECT_EQ(parse_stats({{"participants", "30"}, {"octo_endpoints", "8"}}).local_participants(),
            22);
  EXPECT_EQ(
      parse_stats({{"participants", "30"}, {"octo_endpoints", "8"}, {"local_endpoints", "21"}})
          .local_participants(),
      21);
  EXPECT_EQ(parse_stats({{"participants", "30"}}).local_participants(), 30);
  EXPECT_EQ(parse_stats({{"participants", "3"}, {"octo_endpoints", "8"}}).local_participants(), 0);
  EXPECT_EQ(parse_stats({{"stress_level", "0.1"}}).local_participants(), std::nullopt);
}

TEST(ParsePresence, RealJvbPresenceWithoutTheStatsFilter) {
  // Shaped like JVB 2.3's MUC presence (MucPublisher.kt + VideobridgeStatisticsShim.kt): many
  // stats, Java number formats, relayed endpoints.
  const auto stats = parse_presence(presence_with(
      stat("stress_level", "0.034") + stat("average_participant_stress", "0.01") +
      stat("conferences", "3") + stat("participants", "17") + stat("endpoints", "17") +
      stat("local_endpoints", "14") + stat("octo_endpoints", "3") + stat("octo_conferences", "1") +
      stat("bit_rate_download", "1.2345E3") + stat("rtt_aggregate", "NaN") +
      stat("healthy", "true") + stat("drain", "false") + stat("graceful_shutdown", "false") +
      stat("shutting_down", "false") + stat("current_timestamp", "2026-01-05 10:00:00.123") +
      stat("region", "us-lax") + stat("version", "2.3.105-ge155b81e") +
      stat("relay_id", "jvb-as-1") + stat("largest_conference", "9")));
  ASSERT_TRUE(stats);
  EXPECT_DOUBLE_EQ(*stats->stress_level, 0.034);
  EXPECT_EQ(stats->largest_conference, 9);
  EXPECT_EQ(stats->participants, 17);
  EXPECT_EQ(stats->local_endpoints, 14);
  EXPECT_EQ(stats->relayed_endpoints, 3);
  EXPECT_EQ(stats->local_participants(), 14);
  EXPECT_EQ(stats->healthy, true);
  EXPECT_EQ(stats->shutting_down, false);
  EXPECT_EQ(stats->shutdown_in_progress(), false);
  EXPECT_EQ(stats->other.at("rtt_aggregate"), "NaN");  // kept verbatim, never parsed as NaN
}

TEST(ParsePresence, RealJvbPresenceWithTheStatsFilterOn) {
  // videobridge.apis.xmpp-client.stats-filter.enabled = true publishes only the whitelist of
  // jitsi-videobridge's reference.conf: no participants, no conferences.
  const auto stats = parse_presence(presence_with(
      stat("average_participant_stress", "0.01") + stat("current_timestamp", "2026-01-05") +
      stat("drain", "false") + stat("graceful_shutdown", "false") + stat("healthy", "true") +
      stat("region", "us-lax") + stat("relay_id", "jvb-as-1") + stat("shutting_down", "false") +
      stat("stress_level", "1.0E-4") + stat("version", "2.3.105")));
  ASSERT_TRUE(stats);
  EXPECT_DOUBLE_EQ(*stats->stress_level, 1.0e-4);
  EXPECT_EQ(stats->participants, std::nullopt);
  EXPECT_EQ(stats->conferences, std::nullopt);
  EXPECT_EQ(stats->local_participants(), std::nullopt);
  EXPECT_EQ(stats->healthy, true);
}

TEST(ParseStats, DuplicateStatLastOneWins) {
  const BridgeStats stats = parse_stats({{"participants", "5"},
                                         {"participants", "8"},
                                         {"region", "a"},
                                         {"region", "b"},
                                         {"x", "1"},
                                         {"x", "2"},
                                         {"conferences", "3"},
                                         {"conferences", "bad"}});
  EXPECT_EQ(stats.participants, 8);
  EXPECT_EQ(stats.region, "b");
  EXPECT_EQ(stats.other.at("x"), "2");
  EXPECT_FALSE(stats.conferences);  // the last one was malformed: unknown, not the older value
}

TEST(ParseStats, StringsMustBeUtf8AndBounded) {
  EXPECT_FALSE(parse_stats({{"region", "\xff"}}).region);
  EXPECT_FALSE(parse_stats({{"version", std::string(5000, 'v')}}).version);
  EXPECT_EQ(parse_stats({{"region", "r\xc3\xa9gion"}}).region, "r\xc3\xa9gion");
  EXPECT_TRUE(parse_stats({{"\xff", "1"}, {"k", "\xed\xa0\x80"}}).other.empty());  // surrogate
}

}  // namespace
}  // namespace xmpp
