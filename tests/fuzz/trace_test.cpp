// Seeded hostile-input tests of the trace reader (see targets/trace_target.h for properties).
#include "campaign.h"
#include "targets/trace_target.h"

namespace jvb_fuzz {
namespace {

TEST(TraceFuzz, SeedCorpusIsAccepted) {
  TraceTarget target;
  const auto seeds = load_corpus(corpus_dir("trace"));
  EXPECT_EQ(replay_directory(target, corpus_dir("trace")), seeds.size());
}

TEST(TraceFuzz, RegressionInputsKeepTheirProperties) {
  TraceTarget target;
  replay_directory(target, regressions_dir("trace"));
}

TEST(TraceFuzz, SeededMutations) {
  TraceTarget target;
  run_campaign(target, "trace");
}

// Found by the libFuzzer target: an accepted tiny duration does not survive write_trace.
TEST(TraceFuzz, TinyValueSurvivesWriteTrace) {
  TraceTarget target;
  const Verdict verdict = target.check("start_s,duration_s,participants\n0,1e-70,2\n");
  if (verdict.known_bug) GTEST_SKIP() << "known bug, reported: " << *verdict.known_bug;
  EXPECT_FALSE(verdict.failure) << verdict.failure.value_or("");
}

}  // namespace
}  // namespace jvb_fuzz
