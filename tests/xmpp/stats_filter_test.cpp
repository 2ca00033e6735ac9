// One warning per bridge that publishes no `participants` (JVB's stats filter).
#include "xmpp/stats_filter.h"

#include <gtest/gtest.h>

namespace xmpp {
namespace {

Event presence(const std::string& bridge, BridgeStats stats,
               Event::Type type = Event::Type::kStats) {
  return Event{type, bridge, std::move(stats), "", {}};
}

TEST(MissingParticipants, OneWarningPerFilteredBridge) {
  MissingParticipantsDetector detector;
  const BridgeStats filtered = parse_stats({{"stress_level", "1.0E-4"}, {"healthy", "true"}});
  EXPECT_FALSE(detector.observe(presence("jvb-a", filtered, Event::Type::kJoined)));
  const auto warning = detector.observe(presence("jvb-a", filtered));
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("bridge jvb-a publishes no 'participants'"), std::string::npos);
  EXPECT_NE(warning->find("videobridge.apis.xmpp-client.stats-filter"), std::string::npos);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(detector.observe(presence("jvb-a", filtered)));
  // Leaving and coming back does not repeat it.
  EXPECT_FALSE(detector.observe(presence("jvb-a", {}, Event::Type::kLeft)));
  EXPECT_FALSE(detector.observe(presence("jvb-a", filtered, Event::Type::kJoined)));
  EXPECT_FALSE(detector.observe(presence("jvb-a", filtered)));
  // Another bridge gets its own.
  EXPECT_FALSE(detector.observe(presence("jvb-b", filtered)));
  EXPECT_TRUE(detector.observe(presence("jvb-b", filtered)));
}

TEST(MissingParticipants, NoWarningForBridgesThatPublishItOrNoStatsAtAll) {
  MissingParticipantsDetector detector;
  const BridgeStats full = parse_stats({{"stress_level", "0.1"}, {"participants", "10"}});
  const BridgeStats one_bad = parse_stats({{"stress_level", "0.1"}, {"participants", "x"}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(detector.observe(presence("jvb-full", full)));
    EXPECT_FALSE(detector.observe(presence("jvb-full", one_bad)));  // once published: never
    EXPECT_FALSE(detector.observe(presence("jvb-silent", {})));     // no colibri stats
  }
}

}  // namespace
}  // namespace xmpp
