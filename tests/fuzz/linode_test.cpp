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

}  // namespace
}  // namespace jvb_fuzz
