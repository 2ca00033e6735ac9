// `jvb-autoscaler check-config --online` against fake-linode: each preflight problem is one
// line "<file>: <key.path>: <sentence>", exit 2; a fitting configuration exits 0.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_linode/launcher.h"
#include "run_cli.h"
#include "scaling/keys.h"
#include "test_support/classic_profile.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kToken[] = "tok-check-config-SECRET-77aa";

using cli_test::Outcome;
using cli_test::run;

class CheckConfigOnline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fake_linode::LaunchOptions options;
    options.token = kToken;
    options.extra_args = {"--region-without-metadata", "eu-west",    "--image-without-cloud-init",
                          "linode/debian11",           "--firewall", "555"};
    fake_ = new fake_linode::FakeLinodeProcess(options);
  }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jvb-check-online-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    write(dir_ / "xmpp.pass", "secret\n");
    write(dir_ / "linode.token", std::string(kToken) + "\n");
    write(dir_ / "cloud-init.yaml", "#cloud-config\nhostname: {{label}}\n");
    fs::permissions(dir_ / "linode.token", fs::perms::owner_read | fs::perms::owner_write);
    fs::permissions(dir_ / "xmpp.pass", fs::perms::owner_read | fs::perms::owner_write);
    fake_->control("POST", "/__fake/account", R"({"restricted":false,"token_scopes":"*"})");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

  json config() const {
    return {{"xmpp",
             {{"host", "127.0.0.1"},
              {"domain", "auth.meet.example.com"},
              {"username", "autoscaler"},
              {"password_file", (dir_ / "xmpp.pass").string()},
              {"tls", "disabled"}}},
            {"linode",
             {{"api_url", fake_->api_url()},
              {"token_file", (dir_ / "linode.token").string()},
              {"region", "us-lax"},
              {"type", "g6-dedicated-2"},
              {"image", "linode/ubuntu22.04"},
              {"user_data_file", (dir_ / "cloud-init.yaml").string()}}},
            {"state_file", (dir_ / "state.json").string()}};
  }

  Outcome check(const json& configuration) {
    const fs::path path = dir_ / "config.json";
    write(path, configuration.dump(2));
    Outcome outcome = run("check-config --online --config " + path.string());
    EXPECT_EQ(outcome.output.find(kToken), std::string::npos) << "the token leaked";
    return outcome;
  }

  std::string file() const { return (dir_ / "config.json").string(); }

  static fake_linode::FakeLinodeProcess* fake_;
  fs::path dir_;
};

fake_linode::FakeLinodeProcess* CheckConfigOnline::fake_ = nullptr;

TEST_F(CheckConfigOnline, AFittingConfigurationExitsZero) {
  const Outcome outcome = check(config());
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("the Linode API accepts its token, region, image, type"),
            std::string::npos)
      << outcome.output;
}

TEST_F(CheckConfigOnline, RegionWithoutMetadataIsNamedWithItsKeyPath) {
  json configuration = config();
  configuration["linode"]["region"] = "eu-west";
  const Outcome outcome = check(configuration);
  EXPECT_EQ(outcome.exit_code, 2) << outcome.output;
  EXPECT_NE(outcome.output.find(file() + ": linode.region: region \"eu-west\" lacks the Metadata "
                                         "capability"),
            std::string::npos)
      << outcome.output;
  EXPECT_NE(outcome.output.find("1 problem found by asking the Linode API"), std::string::npos);
  // Without user data the region is fine.
  configuration["linode"]["user_data_file"] = nullptr;
  EXPECT_EQ(check(configuration).exit_code, 0);
}

TEST_F(CheckConfigOnline, EveryMisfitIsOneLine) {
  json configuration = config();
  configuration["linode"]["image"] = "linode/debian11";
  configuration["linode"]["type"] = "g6-nonexistent-3";
  configuration["linode"]["firewall_id"] = 556;
  const Outcome outcome = check(configuration);
  EXPECT_EQ(outcome.exit_code, 2) << outcome.output;
  for (const std::string& line :
       {file() + ": linode.image: image \"linode/debian11\" lacks the cloud-init capability",
        file() + ": linode.type: type \"g6-nonexistent-3\" does not exist",
        file() + ": linode.firewall_id: firewall 556 does not exist",
        std::string("3 problems found by asking the Linode API")}) {
    EXPECT_NE(outcome.output.find(line), std::string::npos) << line << "\n" << outcome.output;
  }
}

TEST_F(CheckConfigOnline, RejectedTokenAndRestrictedUser) {
  write(dir_ / "linode.token", "not-the-token\n");
  Outcome outcome = check(config());
  EXPECT_EQ(outcome.exit_code, 2) << outcome.output;
  EXPECT_NE(
      outcome.output.find(file() + ": linode.token_file: Linode rejected the API token (401)"),
      std::string::npos)
      << outcome.output;
  write(dir_ / "linode.token", std::string(kToken) + "\n");
  fake_->control("POST", "/__fake/account",
                 R"({"restricted":true,"token_scopes":"linodes:read_only"})");
  outcome = check(config());
  EXPECT_EQ(outcome.exit_code, 2) << outcome.output;
  EXPECT_NE(outcome.output.find(file() + ": linode.token_file: the API token's scopes "
                                         "(\"linodes:read_only\") lack linodes:read_write"),
            std::string::npos)
      << outcome.output;
  EXPECT_NE(outcome.output.find(file() + ": linode.tags: the token belongs to restricted user"),
            std::string::npos)
      << outcome.output;
}

TEST_F(CheckConfigOnline, WithoutOnlineNothingIsAsked) {
  json configuration = config();
  configuration["linode"]["region"] = "eu-west";
  const fs::path path = dir_ / "config.json";
  write(path, configuration.dump(2));
  const json before = json::parse(fake_->control("GET", "/__fake/stats"));
  const Outcome outcome = run("check-config --config " + path.string());
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("configuration is valid."), std::string::npos);
  const json after = json::parse(fake_->control("GET", "/__fake/stats"));
  EXPECT_EQ(after["requests"], before["requests"].get<int>() + 1);  // only the stats call itself
}

// Issue 17: thresholds that flap on a flat load are warned about (a flat 80-participant load with
// 0.7/0.45 flapped 58 times in 4 hours), and --profile prints the effective scaling profile.
TEST_F(CheckConfigOnline, FlappingThresholdsWarnAndProfileShowsTheEffectiveKeys) {
  json configuration = config();
  // Every other profile key pinned to the old contract's (levers off,
  // test_support/classic_profile.h): the measured defaults may move.
  configuration["scaling"] = test_support::classic_scaling_json(
      {{"scale_up_threshold", 0.7}, {"scale_down_threshold", 0.45}});
  const fs::path path = dir_ / "config.json";
  write(path, configuration.dump(2));
  const Outcome flapping = run("check-config --profile --config " + path.string());
  EXPECT_EQ(flapping.exit_code, 0) << flapping.output;  // a warning, not an error
  EXPECT_NE(flapping.output.find(file() + ": warning: scaling.scale_up_threshold "),
            std::string::npos)
      << flapping.output;
  EXPECT_NE(flapping.output.find("turn scaling.no_yoyo on to hold it"), std::string::npos)
      << flapping.output;  // the classic profile has the guard off
  EXPECT_NE(flapping.output.find("scaling.scale_down_threshold = 0.45\n"), std::string::npos)
      << flapping.output;
  EXPECT_NE(flapping.output.find("scaling.min_bridges = 1  (default)"), std::string::npos)
      << flapping.output;

  configuration["scaling"] =
      test_support::classic_scaling_json({{"min_bridges", 1}, {"max_bridges", 10}});
  write(path, configuration.dump(2));
  const Outcome calm = run("check-config --config " + path.string());
  EXPECT_EQ(calm.exit_code, 0) << calm.output;
  EXPECT_EQ(calm.output.find("warning"), std::string::npos) << calm.output;
  EXPECT_EQ(calm.output.find("scaling.min_bridges ="), std::string::npos) << calm.output;
}

// A config with only min/max gets the defaults: --profile prints every key of the table with its
// default (checked against the key table, not literal numbers, so it survives a new profile).
TEST_F(CheckConfigOnline, ProfileOfAMinMaxConfigIsTheKeyTableDefaults) {
  json configuration = config();
  const scaling::ScalingConfig defaults;
  configuration["scaling"] = {{"min_bridges", defaults.min_bridges},
                              {"max_bridges", defaults.max_bridges}};
  const fs::path path = dir_ / "config.json";
  write(path, configuration.dump(2));
  const Outcome outcome = run("check-config --profile --config " + path.string());
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  for (const auto& key : scaling::scaling_keys()) {
    // min/max are the file's own (same values as the defaults, but they will not follow them).
    const bool written = key.name == "min_bridges" || key.name == "max_bridges";
    const std::string line = "scaling." + std::string(key.name) + " = " +
                             scaling::default_text(key) + (written ? "" : "  (default)") + "\n";
    EXPECT_NE(outcome.output.find(line), std::string::npos) << line << outcome.output;
  }
}

}  // namespace
