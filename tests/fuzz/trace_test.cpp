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

}  // namespace
}  // namespace jvb_fuzz
