// Seeded hostile-input tests of schedule parsing (see targets/schedule_target.h).
#include "campaign.h"
#include "targets/schedule_target.h"

namespace jvb_fuzz {
namespace {

TEST(ScheduleFuzz, SeedCorpusIsAccepted) {
  ScheduleTarget target;
  const auto seeds = load_corpus(corpus_dir("schedule"));
  EXPECT_EQ(replay_directory(target, corpus_dir("schedule")), seeds.size());
}

TEST(ScheduleFuzz, RegressionInputsKeepTheirProperties) {
  ScheduleTarget target;
  replay_directory(target, regressions_dir("schedule"));
}

TEST(ScheduleFuzz, SeededMutations) {
  ScheduleTarget target;
  run_campaign(target, "schedule");
}

}  // namespace
}  // namespace jvb_fuzz
