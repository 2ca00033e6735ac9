// Seeded hostile-input tests of the Linode response decoding (see targets/linode_target.h).
#include "campaign.h"
#include "targets/linode_target.h"

namespace jvb_fuzz {
namespace {

TEST(LinodeFuzz, SeedCorpusIsAccepted) {
  LinodeTarget target;
  const auto seeds = load_corpus(corpus_dir("linode"));
  EXPECT_EQ(replay_directory(target, corpus_dir("linode")), seeds.size());
}

TEST(LinodeFuzz, RegressionInputsKeepTheirProperties) {
  LinodeTarget target;
  replay_directory(target, regressions_dir("linode"));
}

TEST(LinodeFuzz, SeededMutations) {
  LinodeTarget target;
  run_campaign(target, "linode");
}

// Found by the libFuzzer target (clang UBSan): a floating-point instance id.
TEST(LinodeFuzz, FloatingPointIdIsInvalidResponse) {
  LinodeTarget target;
  const Verdict verdict = target.check(R"({"id":1.5,"label":"jvb-as-1","ipv4":[]})");
  if (verdict.known_bug) GTEST_SKIP() << "known bug, reported: " << *verdict.known_bug;
  EXPECT_FALSE(verdict.failure) << verdict.failure.value_or("");
  EXPECT_FALSE(verdict.accepted);
}

}  // namespace
}  // namespace jvb_fuzz
