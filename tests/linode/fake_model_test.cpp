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
  FakeApi api({.token = "right", .boot_seconds = 0});
  auto reply = api.handle("GET", "/v4/linode/instances", "Bearer wrong", "", "");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.body["errors"][0]["reason"], "Invalid Token");
  EXPECT_EQ(api.handle("GET", "/v4/linode/instances", "Bearer right", "", "").status, 200);
}

TEST(FakeModel, StatusGoesProvisioningBootingRunning) {
  FakeApi api({.token = "", .boot_seconds = 0.9});
  auto created = api.handle("POST", "/v4/linode/instances", "", "", with_label("boot-me"));
  const std::string path =
      "/v4/linode/instances/" + std::to_string(created.body["id"].get<int64_t>());
  EXPECT_EQ(created.body["status"], "provisioning");
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "booting");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(api.handle("GET", path, "", "", "").body["status"], "running");
}

}  // namespace
