// linode::preflight against fake-linode over real HTTP: one problem per misfit, with its key.
#include "linode/preflight.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_linode/launcher.h"

namespace {

using linode::PreflightProblem;
using linode::PreflightRequest;

constexpr char kToken[] = "tok-preflight-SECRET-3c1a";

class PreflightTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fake_linode::LaunchOptions options;
    options.token = kToken;
    options.extra_args = {"--firewall", "31337"};
    fake_ = new fake_linode::FakeLinodeProcess(options);
  }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }
  void SetUp() override {
    account(R"({"regions_without_metadata":[],"images_without_cloud_init":[],
      "restricted":false,"grant_add_linodes":true,"token_scopes":"*","firewalls":[31337]})");
  }

  static void account(const std::string& body) { fake_->control("POST", "/__fake/account", body); }

  static PreflightRequest good() {
    PreflightRequest request;
    request.region = "us-lax";
    request.type = "g6-dedicated-2";
    request.image = "linode/ubuntu22.04";
    request.tags = {"jitsi", "jvb-autoscaler"};
    request.user_data = true;
    return request;
  }

  std::vector<PreflightProblem> run(PreflightRequest request, std::string token = kToken,
                                    std::string api_url = "") {
    linode::ClientConfig config;
    config.api_url = api_url.empty() ? fake_->api_url() : api_url;
    config.token = std::move(token);
    config.connect_timeout_seconds = 2;
    config.total_timeout_seconds = 5;
    config.max_attempts = 2;
    config.backoff_initial_seconds = 0.01;
    auto client = linode::make_curl_client(config);
    auto problems = linode::preflight_blocking(*client, std::move(request), 20);
    client->shutdown();
    for (const auto& problem : problems) {
      EXPECT_EQ(problem.sentence.find(kToken), std::string::npos) << problem.sentence;
    }
    return problems;
  }

  static std::string keys(const std::vector<PreflightProblem>& problems) {
    std::string out;
    for (const auto& problem : problems) out += problem.key_path + ": " + problem.sentence + "\n";
    return out;
  }

  static fake_linode::FakeLinodeProcess* fake_;
  linode::CurlGlobal curl_;
};

fake_linode::FakeLinodeProcess* PreflightTest::fake_ = nullptr;

TEST_F(PreflightTest, AGoodConfigurationHasNoProblem) {
  EXPECT_TRUE(run(good()).empty()) << keys(run(good()));
  auto with_firewall = good();
  with_firewall.firewall_id = 31337;
  EXPECT_TRUE(run(with_firewall).empty());
}

TEST_F(PreflightTest, RejectedTokenIsTheOnlyProblemReported) {
  auto request = good();
  request.region = "nowhere";  // would be a problem too, but every answer is a 401
  const auto problems = run(request, "wrong-token");
  ASSERT_EQ(problems.size(), 1u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.token_file");
  EXPECT_NE(problems[0].sentence.find("rejected the API token (401)"), std::string::npos);
}

TEST_F(PreflightTest, ReadOnlyTokenLacksTheWriteScope) {
  account(R"({"token_scopes":"linodes:read_only"})");
  const auto problems = run(good());
  ASSERT_EQ(problems.size(), 1u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.token_file");
  EXPECT_NE(problems[0].sentence.find("lack linodes:read_write"), std::string::npos);
  EXPECT_TRUE(linode::scopes_grant("linodes:read_write", "linodes:read_only"));
  EXPECT_TRUE(linode::scopes_grant("domains:read_only,linodes:read_write", "linodes:read_write"));
  EXPECT_FALSE(linode::scopes_grant("linodes:read_only", "linodes:read_write"));
}

TEST_F(PreflightTest, RestrictedUserMayNotTagNorCreateWithoutTheGrant) {
  account(R"({"restricted":true,"grant_add_linodes":true})");
  auto problems = run(good());
  ASSERT_EQ(problems.size(), 1u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.tags");
  EXPECT_NE(problems[0].sentence.find("only an unrestricted user may tag"), std::string::npos);
  account(R"({"grant_add_linodes":false})");
  problems = run(good());
  ASSERT_EQ(problems.size(), 2u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.token_file");
  EXPECT_NE(problems[0].sentence.find("add_linodes"), std::string::npos);
}

TEST_F(PreflightTest, RegionWithoutMetadataMattersOnlyWithUserData) {
  account(R"({"regions_without_metadata":["us-lax"]})");
  const auto problems = run(good());
  ASSERT_EQ(problems.size(), 1u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.region");
  EXPECT_NE(problems[0].sentence.find("lacks the Metadata capability"), std::string::npos);
  auto no_user_data = good();
  no_user_data.user_data = false;
  EXPECT_TRUE(run(no_user_data).empty());
}

TEST_F(PreflightTest, UnknownRegionImageTypeAndFirewallAreEachNamed) {
  auto request = good();
  request.region = "us-nowhere";
  request.image = "private/12345";
  request.type = "g6-enormous-99";
  request.firewall_id = 404;
  const auto problems = run(request);
  ASSERT_EQ(problems.size(), 4u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.region");
  EXPECT_NE(problems[0].sentence.find("\"us-nowhere\" does not exist"), std::string::npos);
  EXPECT_EQ(problems[1].key_path, "linode.image");
  EXPECT_EQ(problems[2].key_path, "linode.type");
  EXPECT_EQ(problems[3].key_path, "linode.firewall_id");
  EXPECT_NE(problems[3].sentence.find("firewall 404 does not exist"), std::string::npos);
}

TEST_F(PreflightTest, ImageWithoutCloudInitIsNamed) {
  account(R"({"images_without_cloud_init":["linode/ubuntu22.04"]})");
  const auto problems = run(good());
  ASSERT_EQ(problems.size(), 1u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.image");
  EXPECT_NE(problems[0].sentence.find("lacks the cloud-init capability"), std::string::npos);
}

TEST_F(PreflightTest, UnreachableApiIsOneSentenceUnderApiUrl) {
  // A port nothing listens on (the fake's own port + nothing: use port 9 on loopback).
  const auto problems = run(good(), kToken, "http://127.0.0.1:9/v4");
  ASSERT_EQ(problems.size(), 1u) << keys(problems);
  EXPECT_EQ(problems[0].key_path, "linode.api_url");
  EXPECT_NE(problems[0].sentence.find("could not ask the Linode API"), std::string::npos);
}

}  // namespace
