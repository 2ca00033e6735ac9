// The fake's model in-process: label rules, pagination bounds, X-Filter validation, statuses.
#include <gtest/gtest.h>

#include <thread>

#include "fake_state.h"

namespace {

using fake_linode::FakeApi;
using nlohmann::json;

const std::string kCreate =
    R"({"region":"us-east","type":"g6-standard-1","label":"LABEL","private_ip":true})";

std::string with_label(const std::string& label) {
  std::string body = kCreate;
  body.replace(body.find("LABEL"), 5, label);
  return body;
}

TEST(FakeModel, LabelRulesFollowTheSpec) {
  for (const std::string& good :
       std::vector<std::string>{"jvb", "jvb-as-1", "a_b.c-d", std::string(64, 'a')}) {
    EXPECT_TRUE(FakeApi::valid_label(good)) << good;
  }
  for (const std::string& bad : std::vector<std::string>{
           "ab", "1abc", "jvb-", "jv--b", "jv__b", "jv..b", "jv b", "jvb!", std::string(65, 'a')}) {
    EXPECT_FALSE(FakeApi::valid_label(bad)) << bad;
  }
  FakeApi api({});
  EXPECT_EQ(api.handle("POST", "/v4/linode/instances", "", "", with_label("jvb-as-1")).status, 200);
  auto duplicate = api.handle("POST", "/v4/linode/instances", "", "", with_label("jvb-as-1"));
  EXPECT_EQ(duplicate.status, 400);
  EXPECT_EQ(duplicate.body["errors"][0]["field"], "label");
  EXPECT_EQ(duplicate.body["errors"][0]["reason"], "Label must be unique");
  auto bad = api.handle("POST", "/v4/linode/instances", "", "", with_label("x"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["errors"][0]["field"], "label");
  auto no_root_pass = api.handle("POST", "/v4/linode/instances", "", "",
                                 R"({"region":"r","type":"t","image":"linode/debian12"})");
  EXPECT_EQ(no_root_pass.body["errors"][0]["field"], "root_pass");
}

TEST(FakeModel, PaginationAndFilterValidation) {
  FakeApi api({});
  api.handle("POST", "/__fake/seed", "", "", R"({"count":60,"tags":["jitsi"]})");
  auto page = api.handle("GET", "/v4/linode/instances?page=3&page_size=25", "", "", "");
  EXPECT_EQ(page.body["page"], 3);
  EXPECT_EQ(page.body["pages"], 3);
  EXPECT_EQ(page.body["results"], 60);
  EXPECT_EQ(page.body["data"].size(), 10u);
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances?page_size=501", "", "", "").status, 400);
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances?page_size=24", "", "", "").status, 400);
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances?page=0", "", "", "").status, 400);
  auto unknown = api.handle("GET", "/v4/linode/instances", "", R"({"colour":"red"})", "");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body["errors"][0]["field"], "X-Filter");
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances", "", "{not json", "").status, 400);
  auto none = api.handle("GET", "/v4/linode/instances", "", R"({"tags":"other"})", "");
  EXPECT_EQ(none.body["results"], 0);
  auto missing = api.handle("GET", "/v4/linode/instances/1", "", "", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["errors"][0]["reason"], "Not found");
}

TEST(FakeModel, TokenIsChecked) {
  fake_linode::Options options;
  options.token = "right";
  FakeApi api(options);
  auto reply = api.handle("GET", "/v4/linode/instances", "Bearer wrong", "", "");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.body["errors"][0]["reason"], "Invalid Token");
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances", "Bearer right", "", "").status, 200);
}

TEST(FakeModel, StatusGoesProvisioningBootingRunning) {
  fake_linode::Options options;
  options.boot_seconds = 0.9;
  FakeApi api(options);
  auto created = api.handle("POST", "/v4/linode/instances", "", "", with_label("boot-me"));
  const std::string path =
      "/v4/linode/instances/" + std::to_string(created.body["id"].get<int64_t>());
  EXPECT_EQ(created.body["status"], "provisioning");
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "booting");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "running");
}

TEST(FakeModel, ShutdownAndDeletingStatusesAndBusy) {
  fake_linode::Options options;
  options.boot_seconds = 0.6;
  options.shutdown_seconds = 0.3;
  options.delete_seconds = 0.3;
  FakeApi api(options);
  auto created = api.handle("POST", "/v4/linode/instances", "", "", with_label("shut-me"));
  const std::string path =
      "/v4/linode/instances/" + std::to_string(created.body["id"].get<int64_t>());
  auto busy = api.handle("POST", path + "/shutdown", "", "", "{}");
  EXPECT_EQ(busy.status, 400);
  EXPECT_EQ(busy.body["errors"][0]["reason"], "Linode busy.");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "running");
  EXPECT_EQ(api.handle("POST", path + "/shutdown", "", "", "{}").status, 200);
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "shutting_down");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "offline");
  EXPECT_EQ(api.handle("DELETE", path, "", "", "").status, 200);
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "deleting");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(api.handle("GET", path, "", "", "").status, 404);
}

TEST(FakeModel, CreateRateLimitAnswers429WithRetryAfter) {
  fake_linode::Options options;
  options.create_rate_limit = 2;
  options.create_rate_window_seconds = 60;
  FakeApi api(options);
  EXPECT_EQ(api.handle("POST", "/v4/linode/instances", "", "", with_label("rate-1")).status, 200);
  EXPECT_EQ(api.handle("POST", "/v4/linode/instances", "", "", with_label("rate-2")).status, 200);
  auto third = api.handle("POST", "/v4/linode/instances", "", "", with_label("rate-3"));
  EXPECT_EQ(third.status, 429);
  bool retry_after = false;
  for (const auto& [name, value] : third.headers) retry_after |= name == "Retry-After";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(api.instances().size(), 2u);
  // Reads are not limited by the create limit.
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances", "", "", "").status, 200);
}

TEST(FakeModel, TagFiltersIgnoreCase) {
  FakeApi api({});
  api.handle("POST", "/__fake/seed", "", "", R"({"count":2,"tags":["Jitsi"]})");
  auto found = api.handle("GET", "/v4/linode/instances", "", R"({"tags":"jitsi"})", "");
  EXPECT_EQ(found.body["results"], 2);
}

TEST(FakeModel, CatalogueCapabilitiesProfileGrantsAndScopes) {
  fake_linode::Options options;
  options.account.regions_without_metadata = {"us-west"};
  options.account.images_without_cloud_init = {"linode/debian11"};
  options.account.token_scopes = "linodes:read_only";
  FakeApi api(options);
  const auto capabilities = [&](const std::string& path) {
    return api.handle("GET", path, "", "", "").body["capabilities"];
  };
  const auto has = [](const json& list, const char* name) {
    return std::find(list.begin(), list.end(), json(name)) != list.end();
  };
  EXPECT_TRUE(has(capabilities("/v4/regions/us-lax"), "Metadata"));
  EXPECT_FALSE(has(capabilities("/v4/regions/us-west"), "Metadata"));
  EXPECT_TRUE(has(capabilities("/v4/images/linode/ubuntu22.04"), "cloud-init"));
  EXPECT_FALSE(has(capabilities("/v4/images/linode/debian11"), "cloud-init"));
  EXPECT_EQ(api.handle("GET", "/v4/regions/mars-1", "", "", "").status, 404);
  EXPECT_EQ(api.handle("GET", "/v4/linode/types/g6-dedicated-2", "", "", "").status, 200);
  EXPECT_EQ(api.handle("GET", "/v4/linode/types/g1-nope", "", "", "").status, 404);
  EXPECT_EQ(api.handle("GET", "/v4/profile/grants", "", "", "").status, 204);
  auto profile = api.handle("GET", "/v4/profile", "", "", "");
  EXPECT_EQ(profile.body["restricted"], false);
  ASSERT_EQ(profile.headers.size(), 1u);
  EXPECT_EQ(profile.headers[0].second, "linodes:read_only");
  // A read-only token lists but cannot create.
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances", "", "", "").status, 200);
  EXPECT_EQ(api.handle("POST", "/v4/linode/instances", "", "", with_label("scoped")).status, 403);
  // A restricted user may not tag, nor create at all without add_linodes.
  api.handle("POST", "/__fake/account", "", "",
             R"({"token_scopes":"*","restricted":true,"grant_add_linodes":true})");
  std::string tagged = with_label("tagged");
  tagged.insert(tagged.size() - 1, R"(,"tags":["jitsi"])");
  auto refused = api.handle("POST", "/v4/linode/instances", "", "", tagged);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body["errors"][0]["field"], "tags");
  EXPECT_EQ(api.handle("POST", "/v4/linode/instances", "", "", with_label("untagged")).status, 200);
  api.handle("POST", "/__fake/account", "", "", R"({"grant_add_linodes":false})");
  EXPECT_EQ(api.handle("POST", "/v4/linode/instances", "", "", with_label("nogrant")).status, 403);
  EXPECT_EQ(api.handle("GET", "/v4/profile/grants", "", "", "").body["global"]["add_linodes"],
            false);
}

TEST(FakeModel, UserDataViewShowsWhatCloudInitWouldReadAndSpotsDoubleEncoding) {
  fake_linode::Options options;
  options.account.regions_without_metadata = {"us-west"};
  FakeApi api(options);
  const std::string once = "I2Nsb3VkLWNvbmZpZwpydW5jbWQ6IFtlY2hvXQo=";  // "#cloud-config\n..."
  const auto make = [&](const std::string& label, const std::string& region,
                        const std::string& user_data) {
    json body = {{"region", region},
                 {"type", "g6-standard-1"},
                 {"label", label},
                 {"metadata", {{"user_data", user_data}}}};
    return api.handle("POST", "/v4/linode/instances", "", "", body.dump())
        .body["id"]
        .get<int64_t>();
  };
  const auto view = [&](int64_t id) {
    return api.handle("GET", "/__fake/instances/" + std::to_string(id) + "/user_data", "", "", "")
        .body;
  };
  const json good = view(make("ud-once", "us-east", once));
  EXPECT_EQ(good["user_data"], "#cloud-config\nruncmd: [echo]\n");
  EXPECT_EQ(good["cloud_config"], true);
  EXPECT_EQ(good["double_encoded"], false);
  EXPECT_EQ(good["reaches_cloud_init"], true);
  // Encoded twice (what the Ansible module does without user_data_encoded): the API accepts it.
  std::string twice;
  {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < once.size(); i += 3) {
      const unsigned n = (unsigned(uint8_t(once[i])) << 16) |
                         (unsigned(uint8_t(once[i + 1])) << 8) | unsigned(uint8_t(once[i + 2]));
      twice += {k[(n >> 18) & 63], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
    }
    ASSERT_EQ(i, once.size() - 1);  // 40 characters: one left over
    const unsigned n = unsigned(uint8_t(once[i])) << 16;
    twice += {k[(n >> 18) & 63], k[(n >> 12) & 63], '=', '='};
  }
  const json bad = view(make("ud-twice", "us-east", twice));
  EXPECT_EQ(bad["cloud_config"], false);
  EXPECT_EQ(bad["double_encoded"], true);
  EXPECT_FALSE(api.user_data_reaches(api.instances().at(make("ud-west", "us-west", once))));
}

}  // namespace
