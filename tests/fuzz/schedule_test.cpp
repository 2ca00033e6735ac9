// Seeded hostile-input tests of schedule parsing (see targets/schedule_target.h).
#include "schedule/schedule.h"

#include <sys/wait.h>
#include <unistd.h>

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

// Found by the libFuzzer target: parse_instant("...-:0530") used to abort under UBSan (signed
// overflow inside date::parse); the shape check in parse_instant now refuses it first.
TEST(ScheduleFuzz, NegativeOffsetWithoutDigitIsAnError) {
  for (const char* text :
       {"2026-03-29T03:00:00-:0530", "2026-03-29T03:00:00-ab", "2026-03-29T10:0D:00Z"}) {
    std::string error;
    EXPECT_FALSE(schedule::parse_instant(text, &error).has_value()) << text;
    EXPECT_EQ(error.rfind(std::string("\"") + text + "\"", 0), 0u) << error;
  }
}

}  // namespace
}  // namespace jvb_fuzz
