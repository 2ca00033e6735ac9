// Seeded hostile-input tests of the colibri stats parser (see targets/stats_target.h).
#include "campaign.h"
#include "targets/stats_target.h"
#include "xmpp/brewery_client.h"

namespace jvb_fuzz {
namespace {

TEST(PresenceFuzz, SeedCorpusIsAccepted) {
  PresenceTarget target;
  const auto seeds = load_corpus(corpus_dir("presence"));
  EXPECT_EQ(replay_directory(target, corpus_dir("presence")), seeds.size());
}

TEST(PresenceFuzz, RegressionInputsKeepTheirProperties) {
  PresenceTarget target;
  replay_directory(target, regressions_dir("presence"));
}

TEST(PresenceFuzz, SeededMutations) {
  PresenceTarget target;
  run_campaign(target, "presence");
}

TEST(StatsFuzz, SeedCorpusIsAccepted) {
  StatsTarget target;
  const auto seeds = load_corpus(corpus_dir("stats"));
  EXPECT_EQ(replay_directory(target, corpus_dir("stats")), seeds.size());
}

TEST(StatsFuzz, RegressionInputsKeepTheirProperties) {
  StatsTarget target;
  replay_directory(target, regressions_dir("stats"));
}

TEST(StatsFuzz, SeededMutations) {
  StatsTarget target;
  run_campaign(target, "stats");
}

// Found by StatsFuzz.SeededMutations; reachable from the network through a presence stanza.
// Skips (naming the reported bug) while the stale value is kept; asserts once fixed.
TEST(StatsFuzz, LastOversizedValueMakesOtherStatUnknown) {
  const std::string oversized(2'000, 'x');
  StatsTarget target;
  const Verdict verdict = target.check("relay_id=jvb-as-1\nrelay_id=" + oversized + "\n");
  if (verdict.known_bug) GTEST_SKIP() << "known bug, reported: " << *verdict.known_bug;
  EXPECT_FALSE(verdict.failure) << verdict.failure.value_or("");
  const auto stats = xmpp::parse_presence(
      "<presence xmlns='jabber:client'><stats xmlns='http://jitsi.org/protocol/colibri'>"
      "<stat name='relay_id' value='jvb-as-1'/><stat name='relay_id' value='" +
      oversized + "'/></stats></presence>");
  ASSERT_TRUE(stats.has_value());
  EXPECT_FALSE(stats->other.contains("relay_id"));
}

}  // namespace
}  // namespace jvb_fuzz
