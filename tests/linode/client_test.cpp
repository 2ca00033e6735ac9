// linode::Client (libcurl) against fake-linode over real HTTP on 127.0.0.1.
#include "linode/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "fake_linode/launcher.h"

namespace {

using linode::ErrorKind;
using linode::Result;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kToken[] = "tok-9f8e7d6c5b4a-SECRET-do-not-leak";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Captures every log line of the process while a test runs.
class LogCapture {
 public:
  LogCapture() {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    sink_->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

fake_linode::LaunchOptions fake_with_args(std::vector<std::string> args) {
  fake_linode::LaunchOptions options;
  options.token = kToken;
  options.extra_args = std::move(args);
  return options;
}

fake_linode::LaunchOptions fake_with_token(const std::string& token) {
  fake_linode::LaunchOptions options;
  options.token = token;
  return options;
}

class LinodeClientTest : public ::testing::Test {
 protected:
  void start_fake(fake_linode::LaunchOptions options = {}) {
    if (options.token.empty()) options.token = kToken;
    fake_ = std::make_unique<fake_linode::FakeLinodeProcess>(options);
  }

  linode::ClientConfig config() {
    linode::ClientConfig config;
    config.api_url = fake_->api_url();
    config.token = kToken;
    config.connect_timeout_seconds = 2;
    config.total_timeout_seconds = 10;
    config.max_attempts = 5;
    config.backoff_initial_seconds = 0.01;
    config.backoff_max_seconds = 2;
    config.on_request = [this](const linode::RequestRecord& record) {
      std::lock_guard lock(records_mutex_);
      records_.push_back(record);
    };
    return config;
  }

  std::unique_ptr<linode::Client> client(linode::ClientConfig cfg) {
    return linode::make_curl_client(std::move(cfg));
  }
  std::unique_ptr<linode::Client> client() { return client(config()); }

  // Runs one asynchronous call and waits (bounded) for its callback.
  template <class T, class Start>
  Result<T> wait(Start start, double timeout_seconds = 30) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    start([promise](Result<T> result) { promise->set_value(std::move(result)); });
    if (future.wait_for(std::chrono::duration<double>(timeout_seconds)) !=
        std::future_status::ready) {
      ADD_FAILURE() << "no callback within " << timeout_seconds << " s";
      linode::Error error;
      error.reason = "test timeout";
      return error;
    }
    auto result = future.get();
    if (!result.ok()) errors_seen_.push_back(result.error().message());
    return result;
  }

  std::vector<linode::RequestRecord> records() {
    std::lock_guard lock(records_mutex_);
    return records_;
  }
  void clear_records() {
    std::lock_guard lock(records_mutex_);
    records_.clear();
  }

  linode::CreateRequest create_request(const std::string& label) {
    linode::CreateRequest request;
    request.region = "us-lax";
    request.type = "g6-dedicated-2";
    request.image = "linode/ubuntu22.04";
    request.label = label;
    request.tags = {"jitsi", "jvb-autoscaler"};
    return request;
  }

  json fake_instances() {
    return json::parse(fake_->control("GET", "/__fake/instances"))["instances"];
  }
  void faults(const json& body) { fake_->control("POST", "/__fake/faults", body.dump()); }

  LogCapture logs_;
  std::unique_ptr<fake_linode::FakeLinodeProcess> fake_;
  std::mutex records_mutex_;
  std::vector<linode::RequestRecord> records_;
  std::vector<std::string> errors_seen_;
  linode::CurlGlobal curl_global_;
};

TEST_F(LinodeClientTest, CreateSendsEveryFieldAndBase64UserData) {
  start_fake();
  auto api = client();
  auto request = create_request("jvb-as-1");
  request.authorized_keys = {"ssh-ed25519 AAAAC3Nza test@example"};
  request.firewall_id = 4242;
  request.user_data = "#cloud-config\nruncmd:\n  - echo 'bridge jvb-as-1' > /tmp/é\n";
  auto created =
      wait<linode::Instance>([&](auto done) { api->create_instance(request, std::move(done)); });
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_GT(created.value().id, 0);
  EXPECT_EQ(created.value().label, "jvb-as-1");
  EXPECT_EQ(created.value().status, "running");
  EXPECT_EQ(created.value().region, "us-lax");
  EXPECT_EQ(created.value().image, "linode/ubuntu22.04");
  ASSERT_TRUE(created.value().private_ipv4);
  ASSERT_TRUE(created.value().public_ipv4);
  EXPECT_EQ(created.value().private_ipv4->rfind("127.1.", 0), 0u);
  EXPECT_EQ(created.value().public_ipv4->rfind("127.2.", 0), 0u);

  const json seen = fake_instances();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["label"], "jvb-as-1");
  EXPECT_EQ(seen[0]["type"], "g6-dedicated-2");
  EXPECT_EQ(seen[0]["tags"], json({"jitsi", "jvb-autoscaler"}));
  EXPECT_EQ(seen[0]["authorized_keys"], json({"ssh-ed25519 AAAAC3Nza test@example"}));
  EXPECT_EQ(seen[0]["firewall_id"], 4242);
  EXPECT_EQ(seen[0]["private_ip"], true);
  EXPECT_EQ(seen[0]["has_root_pass"], true);  // generated: the API requires one with an image
  EXPECT_EQ(seen[0]["user_data"], *request.user_data);
  // Exactly what cloud-init would read: a #cloud-config document, encoded once (issue 16).
  const json user_data = json::parse(fake_->control(
      "GET", "/__fake/instances/" + std::to_string(created.value().id) + "/user_data"));
  EXPECT_EQ(user_data["cloud_config"], true);
  EXPECT_EQ(user_data["double_encoded"], false);
  EXPECT_EQ(user_data["reaches_cloud_init"], true);
  const auto recs = records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].method, "POST");
  EXPECT_EQ(recs[0].path_template, "/linode/instances");
  EXPECT_EQ(recs[0].status, 200);
}

TEST_F(LinodeClientTest, ListFollowsEveryPageOf1200Instances) {
  start_fake();
  fake_->control("POST", "/__fake/seed", R"({"count":1200,"tags":["jitsi","jvb-autoscaler"]})");
  fake_->control("POST", "/__fake/seed", R"({"count":30,"label_prefix":"static-","tags":["x"]})");
  auto api = client();
  const auto start = Clock::now();
  auto listed = wait<std::vector<linode::Instance>>([&](auto done) {
    api->list_instances({.label = std::nullopt, .tags = {"jitsi", "jvb-autoscaler"}},
                        std::move(done));
  });
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  EXPECT_EQ(listed.value().size(), 1200u);
  std::set<int64_t> ids;
  for (const auto& instance : listed.value()) ids.insert(instance.id);
  EXPECT_EQ(ids.size(), 1200u);
  const auto recs = records();
  EXPECT_EQ(recs.size(), 3u);  // 500 + 500 + 200
  for (const auto& record : recs) EXPECT_EQ(record.path_template, "/linode/instances");
  std::printf("[measure] list 1200 instances: %zu requests, %.0f ms\n", recs.size(),
              elapsed * 1000);
  const json stats = json::parse(fake_->control("GET", "/__fake/stats"));
  EXPECT_EQ(stats["by_route"]["GET /v4/linode/instances"], 3);
}

TEST_F(LinodeClientTest, XFilterSelectsByLabelAndByEveryTag) {
  start_fake();
  auto api = client();
  for (const auto& [label, tags] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"jvb-as-1", {"jitsi", "jvb-autoscaler"}},
           {"jvb-as-2", {"jitsi", "jvb-autoscaler"}},
           {"jvb1", {"jitsi"}},
           {"web1", {}}}) {
    auto request = create_request(label);
    request.tags = tags;
    ASSERT_TRUE(wait<linode::Instance>([&](auto done) {
                  api->create_instance(request, std::move(done));
                }).ok());
  }
  auto labels = [&](linode::ListFilter filter) {
    auto result = wait<std::vector<linode::Instance>>(
        [&](auto done) { api->list_instances(filter, std::move(done)); });
    std::set<std::string> out;
    if (result.ok()) {
      for (const auto& instance : result.value()) out.insert(instance.label);
    }
    return out;
  };
  EXPECT_EQ(labels({.label = "jvb-as-2", .tags = {}}), std::set<std::string>{"jvb-as-2"});
  EXPECT_EQ(labels({.label = std::nullopt, .tags = {"jitsi"}}),
            (std::set<std::string>{"jvb-as-1", "jvb-as-2", "jvb1"}));
  EXPECT_EQ(labels({.label = std::nullopt, .tags = {"jitsi", "jvb-autoscaler"}}),
            (std::set<std::string>{"jvb-as-1", "jvb-as-2"}));
  EXPECT_EQ(labels({.label = "jvb1", .tags = {"jvb-autoscaler"}}), std::set<std::string>{});
  EXPECT_EQ(labels({}).size(), 4u);
  // The fake rejects what the API rejects: an unknown filter key.
  auto unknown = fake_->request(
      "GET", "/v4/linode/instances", "",
      {{"Authorization", std::string("Bearer ") + kToken}, {"X-Filter", R"({"colour":"red"})"}});
  EXPECT_EQ(unknown.status, 400);
}

TEST_F(LinodeClientTest, GetDeleteAndDeleteOfAMissingInstanceSucceeds) {
  start_fake();
  auto api = client();
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-7"), std::move(done)); });
  ASSERT_TRUE(created.ok());
  const int64_t id = created.value().id;
  auto got = wait<linode::Instance>([&](auto done) { api->get_instance(id, std::move(done)); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value().label, "jvb-as-7");
  EXPECT_EQ(got.value().tags, (std::vector<std::string>{"jitsi", "jvb-autoscaler"}));
  EXPECT_TRUE(
      wait<linode::Done>([&](auto done) { api->delete_instance(id, std::move(done)); }).ok());
  EXPECT_TRUE(fake_instances().empty());
  clear_records();
  // Already gone: 404 on DELETE is success, and is not retried.
  EXPECT_TRUE(
      wait<linode::Done>([&](auto done) { api->delete_instance(id, std::move(done)); }).ok());
  auto missing = wait<linode::Instance>([&](auto done) { api->get_instance(id, std::move(done)); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().reason, "Not found");
  const auto recs = records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].path_template, "/linode/instances/{id}");
  EXPECT_EQ(recs[0].status, 404);
  EXPECT_EQ(recs[1].status, 404);
}

TEST_F(LinodeClientTest, GetIpsFillsPublicAndPrivateFromTheIpsEndpoint) {
  start_fake();
  auto api = client();
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-3"), std::move(done)); });
  ASSERT_TRUE(created.ok());
  clear_records();
  auto ips =
      wait<linode::Instance>([&](auto done) { api->get_ips(created.value().id, std::move(done)); });
  ASSERT_TRUE(ips.ok()) << ips.error().message();
  const json seen = fake_instances()[0];
  EXPECT_EQ(ips.value().private_ipv4, seen["private_ipv4"].get<std::string>());
  EXPECT_EQ(ips.value().public_ipv4, seen["public_ipv4"].get<std::string>());
  const auto recs = records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].path_template, "/linode/instances/{id}/ips");
}

TEST_F(LinodeClientTest, RateLimitStormHonoursRetryAfter) {
  start_fake();
  auto api = client();
  faults({{"rate_limit", 3}, {"retry_after_seconds", 1}});
  const auto start = Clock::now();
  auto listed = wait<std::vector<linode::Instance>>(
      [&](auto done) { api->list_instances({}, std::move(done)); });
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  const auto recs = records();
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].status, 429);
  EXPECT_EQ(recs[2].status, 429);
  EXPECT_EQ(recs[3].status, 200);
  EXPECT_EQ(recs[3].attempt, 4);
  // Backoff alone would be < 0.1 s here; Retry-After: 1 makes it >= 3 s.
  EXPECT_GE(elapsed, 2.9);
  EXPECT_LT(elapsed, 8.0);
  std::printf("[measure] 429 storm (3 x Retry-After 1 s): %zu attempts, %.2f s total\n",
              recs.size(), elapsed);
}

TEST_F(LinodeClientTest, RateLimitGivesUpAfterMaxAttempts) {
  start_fake();
  auto cfg = config();
  cfg.max_attempts = 3;
  auto api = client(cfg);
  faults({{"rate_limit", 10}, {"retry_after_seconds", 0}});
  auto got = wait<linode::Instance>([&](auto done) { api->get_instance(1, std::move(done)); });
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::kRateLimited);
  EXPECT_EQ(got.error().http_status, 429);
  EXPECT_EQ(records().size(), 3u);
}

TEST_F(LinodeClientTest, ServerErrorsThenSuccess) {
  start_fake();
  auto api = client();
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-5"), std::move(done)); });
  ASSERT_TRUE(created.ok());
  clear_records();
  faults({{"server_errors", 2}, {"server_error_status", 503}});
  auto got = wait<linode::Instance>(
      [&](auto done) { api->get_instance(created.value().id, std::move(done)); });
  ASSERT_TRUE(got.ok()) << got.error().message();
  const auto recs = records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].status, 503);
  EXPECT_EQ(recs[1].status, 503);
  EXPECT_EQ(recs[2].status, 200);
  // Failing DELETEs are retried too.
  clear_records();
  faults({{"fail_deletes", 1}, {"fail_delete_status", 502}});
  EXPECT_TRUE(wait<linode::Done>([&](auto done) {
                api->delete_instance(created.value().id, std::move(done));
              }).ok());
  EXPECT_EQ(records().size(), 2u);
  EXPECT_TRUE(fake_instances().empty());
}

TEST_F(LinodeClientTest, NoRetryOn400Or403Or404) {
  start_fake();
  auto api = client();
  auto bad = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("1-not-a-label"), std::move(done)); });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kBadRequest);
  EXPECT_EQ(bad.error().field, "label");
  EXPECT_NE(bad.error().message().find("(field label)"), std::string::npos);
  faults({{"server_errors", 1}, {"server_error_status", 403}});
  auto forbidden = wait<std::vector<linode::Instance>>(
      [&](auto done) { api->list_instances({}, std::move(done)); });
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().kind, ErrorKind::kForbidden);
  EXPECT_NE(forbidden.error().message().find("linodes:read_write"), std::string::npos);
  auto missing = wait<linode::Instance>([&](auto done) { api->get_instance(99, std::move(done)); });
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(records().size(), 3u);  // one attempt each
}

TEST_F(LinodeClientTest, RejectedTokenGivesOneClearSentenceWithoutRetry) {
  start_fake(fake_with_token("the-token-the-fake-expects"));
  auto api = client();  // sends kToken
  auto listed = wait<std::vector<linode::Instance>>(
      [&](auto done) { api->list_instances({}, std::move(done)); });
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().kind, ErrorKind::kUnauthorized);
  EXPECT_EQ(listed.error().message(),
            "Linode rejected the API token (401): check linode.token_file or LINODE_TOKEN");
  EXPECT_EQ(records().size(), 1u);
}

TEST_F(LinodeClientTest, UnansweredCreateIsAmbiguousAndListByLabelFindsExactlyOne) {
  start_fake();
  auto cfg = config();
  cfg.total_timeout_seconds = 1.5;
  auto api = client(cfg);
  faults({{"drop_creates", 1}, {"drop_mode", "hang"}});
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-9"), std::move(done)); });
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind, ErrorKind::kAmbiguous);
  EXPECT_EQ(records().size(), 1u);  // never re-POSTed
  // What the agent does next: list by label and adopt.
  auto adopted = wait<std::vector<linode::Instance>>(
      [&](auto done) { api->list_instances({.label = "jvb-as-9", .tags = {}}, std::move(done)); });
  ASSERT_TRUE(adopted.ok());
  ASSERT_EQ(adopted.value().size(), 1u);
  EXPECT_EQ(adopted.value()[0].label, "jvb-as-9");
  // A blind retry would not create a second one.
  auto again = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-9"), std::move(done)); });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "Label must be unique");
  EXPECT_EQ(fake_instances().size(), 1u);
}

TEST_F(LinodeClientTest, ConnectionClosedAfterCreateIsAmbiguous) {
  start_fake();
  auto api = client();
  faults({{"drop_creates", 1}, {"drop_mode", "close"}});
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-10"), std::move(done)); });
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind, ErrorKind::kAmbiguous);
  EXPECT_EQ(fake_instances().size(), 1u);
}

TEST_F(LinodeClientTest, RefusedConnectionIsRetriedThenTransportErrorEvenForPost) {
  // A port nobody listens on: bind, read the port, close.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  linode::ClientConfig cfg;
  cfg.api_url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/v4";
  cfg.token = kToken;
  cfg.max_attempts = 3;
  cfg.backoff_initial_seconds = 0.01;
  int attempts = 0;
  cfg.on_request = [&attempts](const linode::RequestRecord& record) {
    EXPECT_EQ(record.status, 0);
    ++attempts;
  };
  auto api = client(cfg);
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-11"), std::move(done)); });
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind, ErrorKind::kTransport);  // nothing was sent: not ambiguous
  api->shutdown();
  EXPECT_EQ(attempts, 3);
}

TEST_F(LinodeClientTest, ShutdownAbandonsPendingRequestsPromptly) {
  start_fake();
  auto api = client();
  faults({{"latency_ms", 5000}});
  std::atomic<int> called{0};
  api->list_instances({}, [&called](auto) { ++called; });
  api->get_instance(1, [&called](auto) { ++called; });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = Clock::now();
  api->shutdown();
  EXPECT_LT(seconds_since(start), 2.0);
  api->get_instance(2, [&called](auto) { ++called; });  // after shutdown: dropped
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(called.load(), 0);
}

TEST_F(LinodeClientTest, TokenNeverAppearsInLogsErrorsOrRecords) {
  start_fake(fake_with_token("another-token"));
  auto cfg = config();
  cfg.max_attempts = 2;
  auto api = client(cfg);
  wait<std::vector<linode::Instance>>([&](auto done) { api->list_instances({}, std::move(done)); });
  wait<linode::Instance>([&](auto done) { api->get_instance(5, std::move(done)); });
  fake_ = nullptr;  // now every request is a transport error
  wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-12"), std::move(done)); });
  wait<linode::Done>([&](auto done) { api->delete_instance(5, std::move(done)); });
  api->shutdown();
  ASSERT_GE(errors_seen_.size(), 4u);
  for (const auto& message : errors_seen_) {
    EXPECT_EQ(message.find(kToken), std::string::npos) << message;
  }
  for (const auto& record : records()) {
    EXPECT_EQ(record.path_template.find(kToken), std::string::npos);
  }
  const std::string logs = logs_.text();
  EXPECT_FALSE(logs.empty());
  EXPECT_EQ(logs.find(kToken), std::string::npos) << logs;
}

// Issue 16: a 400 on anything but "Label must be unique" is a plain error, even for a create
// whose earlier attempt got a 5xx (which makes a later "must be unique" ambiguous).
TEST_F(LinodeClientTest, RefusedLabelAfterA5xxIsAPlainErrorNotAmbiguous) {
  start_fake();
  auto api = client();
  faults({{"server_errors", 1}, {"server_error_status", 503}});
  auto refused = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb--as-1"), std::move(done)); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kBadRequest) << refused.error().message();
  EXPECT_EQ(refused.error().field, "label");
  EXPECT_FALSE(linode::is_label_taken(refused.error()));
  auto region = create_request("jvb-as-2");
  region.region = "";
  faults({{"server_errors", 1}, {"server_error_status", 502}});
  auto no_region =
      wait<linode::Instance>([&](auto done) { api->create_instance(region, std::move(done)); });
  ASSERT_FALSE(no_region.ok());
  EXPECT_EQ(no_region.error().kind, ErrorKind::kBadRequest);
  EXPECT_EQ(no_region.error().field, "region");
  EXPECT_TRUE(fake_instances().empty());
}

TEST_F(LinodeClientTest, LabelTakenIsRecognisedAndAmbiguousOnlyAfterAMaybeProcessedAttempt) {
  start_fake();
  auto api = client();
  ASSERT_TRUE(wait<linode::Instance>([&](auto done) {
                api->create_instance(create_request("jvb-as-7"), std::move(done));
              }).ok());
  auto again = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-7"), std::move(done)); });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kBadRequest);
  EXPECT_TRUE(linode::is_label_taken(again.error()));
  faults({{"server_errors", 1}, {"server_error_status", 504}});
  auto after_gateway = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-7"), std::move(done)); });
  ASSERT_FALSE(after_gateway.ok());
  EXPECT_EQ(after_gateway.error().kind, ErrorKind::kAmbiguous);
}

TEST_F(LinodeClientTest, PreflightLookupsReadRegionImageTypeFirewallProfileGrants) {
  start_fake();
  fake_->control("POST", "/__fake/account",
                 R"({"regions_without_metadata":["us-west"],"firewalls":[77],
                     "images_without_cloud_init":["linode/debian11"],
                     "token_scopes":"linodes:read_write firewall:read_only"})");
  auto api = client();
  auto region =
      wait<linode::Region>([&](auto done) { api->get_region("us-lax", std::move(done)); });
  ASSERT_TRUE(region.ok()) << region.error().message();
  EXPECT_EQ(region.value().id, "us-lax");
  EXPECT_TRUE(region.value().has_capability("metadata"));  // case-insensitive
  auto west = wait<linode::Region>([&](auto done) { api->get_region("us-west", std::move(done)); });
  ASSERT_TRUE(west.ok());
  EXPECT_FALSE(west.value().has_capability("Metadata"));
  auto nowhere =
      wait<linode::Region>([&](auto done) { api->get_region("xx-nope", std::move(done)); });
  EXPECT_EQ(nowhere.error().kind, ErrorKind::kNotFound);

  auto image = wait<linode::Image>(
      [&](auto done) { api->get_image("linode/ubuntu22.04", std::move(done)); });
  ASSERT_TRUE(image.ok()) << image.error().message();
  EXPECT_TRUE(image.value().has_capability("cloud-init"));
  auto old =
      wait<linode::Image>([&](auto done) { api->get_image("linode/debian11", std::move(done)); });
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old.value().has_capability("cloud-init"));
  EXPECT_EQ(wait<linode::Image>([&](auto done) { api->get_image("private/1", std::move(done)); })
                .error()
                .kind,
            ErrorKind::kNotFound);

  auto type = wait<linode::InstanceType>(
      [&](auto done) { api->get_type("g6-dedicated-2", std::move(done)); });
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(type.value().id, "g6-dedicated-2");
  EXPECT_EQ(
      wait<linode::InstanceType>([&](auto done) { api->get_type("g6-huge-99", std::move(done)); })
          .error()
          .kind,
      ErrorKind::kNotFound);

  auto firewall =
      wait<linode::Firewall>([&](auto done) { api->get_firewall(77, std::move(done)); });
  ASSERT_TRUE(firewall.ok());
  EXPECT_EQ(firewall.value().id, 77);
  EXPECT_EQ(wait<linode::Firewall>([&](auto done) { api->get_firewall(78, std::move(done)); })
                .error()
                .kind,
            ErrorKind::kNotFound);

  auto profile = wait<linode::Profile>([&](auto done) { api->get_profile(std::move(done)); });
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  EXPECT_FALSE(profile.value().restricted);
  EXPECT_EQ(profile.value().token_scopes, "linodes:read_write firewall:read_only");
  auto grants = wait<linode::Grants>([&](auto done) { api->get_grants(std::move(done)); });
  ASSERT_TRUE(grants.ok()) << grants.error().message();
  EXPECT_TRUE(grants.value().unrestricted);

  fake_->control("POST", "/__fake/account", R"({"restricted":true,"grant_add_linodes":false})");
  auto restricted = wait<linode::Grants>([&](auto done) { api->get_grants(std::move(done)); });
  ASSERT_TRUE(restricted.ok()) << restricted.error().message();
  EXPECT_FALSE(restricted.value().unrestricted);
  EXPECT_FALSE(restricted.value().add_linodes);
  const auto recs = records();
  EXPECT_TRUE(std::any_of(recs.begin(), recs.end(), [](const linode::RequestRecord& r) {
    return r.path_template == "/images/{id}";  // never the id itself
  }));
}

TEST_F(LinodeClientTest, ShutdownInstanceGoesShuttingDownThenOffline) {
  start_fake(fake_with_args({"--shutdown-seconds", "0.6"}));
  auto api = client();
  auto created = wait<linode::Instance>(
      [&](auto done) { api->create_instance(create_request("jvb-as-9"), std::move(done)); });
  ASSERT_TRUE(created.ok());
  const int64_t id = created.value().id;
  ASSERT_TRUE(
      wait<linode::Done>([&](auto done) { api->shutdown_instance(id, std::move(done)); }).ok());
  EXPECT_EQ(wait<linode::Instance>([&](auto done) { api->get_instance(id, std::move(done)); })
                .value()
                .status,
            "shutting_down");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(wait<linode::Instance>([&](auto done) { api->get_instance(id, std::move(done)); })
                .value()
                .status,
            "offline");
  auto gone = wait<linode::Done>([&](auto done) { api->shutdown_instance(99, std::move(done)); });
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
  const auto recs = records();
  EXPECT_TRUE(std::any_of(recs.begin(), recs.end(), [](const linode::RequestRecord& r) {
    return r.method == "POST" && r.path_template == "/linode/instances/{id}/shutdown";
  }));
}

// The fake enforces Linode's create limit with 429s; a client without its own limit meets
// them, a client with the limit spreads the same burst and meets none.
TEST_F(LinodeClientTest, CreatesAreSpreadUnderTheRateLimitInsteadOf429s) {
  start_fake(fake_with_args({"--create-rate-limit", "3", "--create-rate-window", "1"}));
  const auto burst = [&](linode::ClientConfig cfg, const std::string& prefix) {
    auto api = client(std::move(cfg));
    std::vector<std::future<Result<linode::Instance>>> futures;
    for (int i = 1; i <= 7; ++i) {
      auto promise = std::make_shared<std::promise<Result<linode::Instance>>>();
      futures.push_back(promise->get_future());
      api->create_instance(
          create_request(prefix + std::to_string(i)),
          [promise](Result<linode::Instance> r) { promise->set_value(std::move(r)); });
    }
    int ok = 0;
    for (auto& future : futures) {
      if (future.wait_for(std::chrono::seconds(30)) == std::future_status::ready &&
          future.get().ok()) {
        ++ok;
      }
    }
    return ok;
  };
  const auto count_429 = [&] {
    const json stats = json::parse(fake_->control("GET", "/__fake/stats"));
    return stats["by_status"].value("429", 0);
  };
  // Without a client-side limit: the fake answers 429 (the client retries them).
  auto unlimited = config();
  unlimited.create_rate_limit = 0;
  unlimited.backoff_initial_seconds = 0.5;
  EXPECT_EQ(burst(unlimited, "burst-a-"), 7);
  EXPECT_GT(count_429(), 0);

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // let the window empty
  const int before = count_429();
  auto limited = config();
  limited.create_rate_limit = 3;
  limited.create_rate_window_seconds = 1.05;
  const auto start = Clock::now();
  EXPECT_EQ(burst(limited, "burst-b-"), 7);
  const double elapsed = seconds_since(start);
  EXPECT_EQ(count_429(), before) << "the limited client met a 429";
  EXPECT_GE(elapsed, 2.0);  // 3 + 3 + 1: the 7th waits two windows
  EXPECT_LT(elapsed, 10.0);
  EXPECT_NE(logs_.text().find("queuing the next one"), std::string::npos);
}

TEST(FakeLinodeProcess, RefusesNonLoopbackAddresses) {
  const std::string command =
      std::string(FAKE_LINODE_BINARY) + " --listen 0.0.0.0:0 >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(FakeLinodeProcess, HookStartsAfterBootAndStopsOnDelete) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("fake-linode-hook-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  fake_linode::FakeLinodeProcess fake(
      {.token = "",
       .boot_seconds = 0,
       .on_create = "echo {label} {id} {private_ip} {public_ip} > " + dir.string() +
                    "/{label}.txt; exec sleep 60",
       .hook_delay_seconds = 0.3,
       .extra_args = {},
       .binary = "",
       .ready_timeout_seconds = 15});
  const json created = json::parse(fake.control(
      "POST", "/v4/linode/instances",
      R"({"region":"us-east","type":"g6-standard-1","label":"jvb-as-20","private_ip":true})"));
  const int64_t id = created["id"];
  pid_t hook = 0;
  for (int i = 0; i < 100 && hook == 0; ++i) {  // bounded: 5 s
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    hook = json::parse(fake.control("GET", "/__fake/instances"))["instances"][0]["hook_pid"];
  }
  ASSERT_GT(hook, 0);
  std::string line;
  for (int i = 0; i < 100 && line.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream file(dir / "jvb-as-20.txt");
    std::getline(file, line);
  }
  const json seen = json::parse(fake.control("GET", "/__fake/instances"))["instances"][0];
  EXPECT_EQ(line, "jvb-as-20 " + std::to_string(id) + " " +
                      seen["private_ipv4"].get<std::string>() + " " +
                      seen["public_ipv4"].get<std::string>());
  EXPECT_EQ(::kill(hook, 0), 0);
  fake.control("DELETE", "/v4/linode/instances/" + std::to_string(id));
  bool gone = false;
  for (int i = 0; i < 160 && !gone; ++i) {  // bounded: 8 s (SIGTERM, SIGKILL after 5 s)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gone = ::kill(hook, 0) != 0;
  }
  EXPECT_TRUE(gone);
  std::filesystem::remove_all(dir);
}

}  // namespace
