// Seeded hostile-input tests of the control socket, through a real ControlServer on a Unix
// socket (see targets/control_target.h).
#include "agent/control_server.h"
#include "campaign.h"
#include "targets/control_target.h"

namespace jvb_fuzz {
namespace {

TEST(ControlFuzz, SeedCorpusKeepsProperties) {
  ControlTarget target;
  EXPECT_GT(replay_directory(target, corpus_dir("control")), 0u);
}

TEST(ControlFuzz, RegressionInputsKeepTheirProperties) {
  ControlTarget target;
  replay_directory(target, regressions_dir("control"));
}

TEST(ControlFuzz, TooLongRequestIsRefusedAndServerStaysUp) {
  ControlTarget target;
  const std::string huge(agent::ControlServer::kMaxRequestBytes + 10, '[');
  const auto reply = target.exchange(huge + "\n");
  ASSERT_TRUE(reply.has_value()) << "no reply within 5 s";
  const auto parsed = nlohmann::json::parse(*reply);
  EXPECT_EQ(parsed.at("ok"), false);
  EXPECT_FALSE(parsed.at("error").get<std::string>().empty());
  const Verdict next = target.check("{\"cmd\":\"status\"}");
  EXPECT_FALSE(next.failure) << next.failure.value_or("");
}

TEST(ControlFuzz, SeededMutations) {
  ControlTarget target;
  CampaignOptions options;
  options.max_input_size = ControlTarget::kMaxInput;
  run_campaign(target, "control", options);
}

}  // namespace
}  // namespace jvb_fuzz
