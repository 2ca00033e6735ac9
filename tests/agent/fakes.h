#pragma once
// In-process stand-ins for the agent's outside world (the idea of cluster-autoscaler's
// in-memory test cloud provider, cluster-autoscaler/cloudprovider/test/test_cloud_provider.go):
// a linode::Client that keeps instances in memory and can be told how to answer, and a
// DrainClient that records requests. Both answer synchronously; the agent posts the answers
// onto its io_context, which the test runs with poll().
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/http_post.h"
#include "linode/client.h"

namespace agent_test {

class FakeLinode final : public linode::Client {
 public:
  // How the next create answers. kCreateAndAnswer: the instance exists and the answer says so.
  // kCreateButFail: the instance exists but the answer is `error` (a POST whose answer was lost,
  // or a retried POST that found its label taken). kFail: nothing created, `error` answered.
  // kHold: the POST leaves but no answer ever comes (the agent crashed or hangs); `created`
  // says whether it reached the API.
  enum class CreateMode { kCreateAndAnswer, kCreateButFail, kFail, kHold };
  struct CreateScript {
    CreateMode mode = CreateMode::kCreateAndAnswer;
    linode::Error error;
    bool created = false;  // kHold only
  };
  std::deque<CreateScript> create_script;   // consumed one per create; empty: answer normally
  std::optional<linode::Error> list_error;  // every list fails with it while set
  std::optional<linode::Error> delete_error;

  int creates_sent = 0;
  int lists_sent = 0;
  std::vector<int64_t> deleted;
  std::vector<std::string> labels_requested;

  std::map<int64_t, linode::Instance> instances;

  linode::Instance& add_instance(const std::string& label, std::vector<std::string> tags) {
    linode::Instance instance;
    instance.id = next_id_++;
    instance.label = label;
    instance.status = "running";
    instance.tags = std::move(tags);
    instance.created = "2026-01-01T00:00:00";
    instance.private_ipv4 = "192.168.1." + std::to_string(instance.id % 250);
    return instances[instance.id] = instance;
  }
  std::optional<linode::Instance> find(const std::string& label) const {
    for (const auto& [id, instance] : instances) {
      if (instance.label == label) return instance;
    }
    return std::nullopt;
  }

  void create_instance(linode::CreateRequest request, Callback<linode::Instance> done) override {
    ++creates_sent;
    labels_requested.push_back(request.label);
    CreateScript script;
    if (!create_script.empty()) {
      script = create_script.front();
      create_script.pop_front();
    }
    if (script.mode == CreateMode::kHold) {
      if (script.created) add_instance(request.label, request.tags);
      return;  // never answered
    }
    if (script.mode == CreateMode::kFail) {
      done(script.error);
      return;
    }
    if (find(request.label)) {  // the API's label uniqueness
      done(label_taken());
      return;
    }
    linode::Instance& instance = add_instance(request.label, request.tags);
    if (script.mode == CreateMode::kCreateButFail) {
      done(script.error);
    } else {
      done(instance);
    }
  }

  void list_instances(linode::ListFilter filter,
                      Callback<std::vector<linode::Instance>> done) override {
    ++lists_sent;
    if (list_error) {
      done(*list_error);
      return;
    }
    std::vector<linode::Instance> result;
    for (const auto& [id, instance] : instances) {
      if (filter.label && instance.label != *filter.label) continue;
      result.push_back(instance);
    }
    done(result);
  }

  void get_instance(int64_t id, Callback<linode::Instance> done) override {
    auto it = instances.find(id);
    if (it == instances.end()) {
      done(not_found());
    } else {
      done(it->second);
    }
  }

  void delete_instance(int64_t id, Callback<linode::Done> done) override {
    if (delete_error) {
      done(*delete_error);
      return;
    }
    deleted.push_back(id);
    instances.erase(id);
    done(linode::Done{});
  }

  void get_ips(int64_t id, Callback<linode::Instance> done) override { get_instance(id, done); }
  std::vector<int64_t> shut_down;  // ids asked to shut down
  void shutdown_instance(int64_t id, Callback<linode::Done> done) override {
    shut_down.push_back(id);
    auto it = instances.find(id);
    if (it == instances.end()) {
      done(not_found());
      return;
    }
    it->second.status = "shutting_down";
    done(linode::Done{});
  }
  void shutdown() override {}

  static linode::Error ambiguous() {
    linode::Error error;
    error.kind = linode::ErrorKind::kAmbiguous;
    error.reason = "no answer within the timeout";
    error.operation = "POST /linode/instances";
    return error;
  }
  static linode::Error label_taken() {
    linode::Error error;
    error.kind = linode::ErrorKind::kBadRequest;
    error.http_status = 400;
    error.reason = "Label must be unique among your linodes";
    error.field = "label";
    error.operation = "POST /linode/instances";
    return error;
  }
  static linode::Error server_error() {
    linode::Error error;
    error.kind = linode::ErrorKind::kServer;
    error.http_status = 502;
    error.reason = "Bad Gateway";
    error.operation = "GET /linode/instances";
    return error;
  }
  static linode::Error not_found() {
    linode::Error error;
    error.kind = linode::ErrorKind::kNotFound;
    error.http_status = 404;
    error.reason = "Not found";
    return error;
  }

 private:
  int64_t next_id_ = 1001;
};

class FakeDrains final : public agent::DrainClient {
 public:
  int status = 200;                    // what every drain request answers
  int shutdown_status = 200;           // what /colibri/shutdown answers
  std::vector<std::string> urls;       // drain requests
  std::vector<std::string> shutdowns;  // graceful-shutdown requests (their bodies checked)
  void post(const std::string& url, std::string body, std::chrono::milliseconds,
            std::function<void(agent::HttpOutcome)> done) override {
    const bool shutdown = url.find("/colibri/shutdown") != std::string::npos;
    if (shutdown) {
      shutdowns.push_back(body);
    } else {
      urls.push_back(url);
    }
    agent::HttpOutcome outcome;
    outcome.status = shutdown ? shutdown_status : status;
    if (status == 0) outcome.error = "connection refused";
    done(outcome);
  }
};

}  // namespace agent_test
