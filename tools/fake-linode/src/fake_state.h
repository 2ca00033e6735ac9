#pragma once
// The fake Linode API's model: instances, validation, X-Filter, pagination, faults and
// counters. No sockets here: the server turns HTTP requests into calls on FakeApi.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fake_linode {

struct FakeInstance {
  int64_t id = 0;
  std::string label, region, type;
  std::optional<std::string> image;
  std::vector<std::string> tags;
  std::vector<std::string> authorized_keys;
  bool has_root_pass = false;
  bool private_ip_enabled = false;
  std::optional<int64_t> firewall_id;
  std::optional<std::string> user_data;  // decoded
  std::string created;                   // "2026-01-05T10:00:00" (UTC)
  std::chrono::steady_clock::time_point created_at;
  std::string public_ip, private_ip;
  pid_t hook_pid = 0;
};

struct Faults {
  int rate_limit = 0;  // next N API requests get 429
  double retry_after_seconds = 1;
  int server_errors = 0;  // next N API requests get server_error_status
  int server_error_status = 503;
  int latency_ms = 0;              // added to every API request
  int drop_creates = 0;            // next N POSTs create the instance but never answer
  std::string drop_mode = "hang";  // "hang" (keep the connection open) or "close"
  int fail_deletes = 0;            // next N DELETEs fail with fail_delete_status
  int fail_delete_status = 500;
};

struct Reply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers;
  enum class Action { kRespond, kHang, kClose } action = Action::kRespond;
};

struct Options {
  std::string token;  // empty = any token accepted
  double boot_seconds = 0;
  // Instances get 127.1.<block>.<n> (private) and 127.2.<block>.<n> (public). Several fakes on
  // one machine (parallel test runs) pick different blocks so their bridges' drain endpoints
  // (<private_ip>:8080) never collide.
  int ip_block = 0;
};

class FakeApi {
 public:
  explicit FakeApi(Options options) : options_(std::move(options)) {
    next_ip_index_ = options_.ip_block * 250;
  }

  // method "GET"/"POST"/"DELETE", target "/v4/linode/instances?page=2" (path + query).
  Reply handle(const std::string& method, const std::string& target,
               const std::string& authorization, const std::string& x_filter,
               const std::string& body);

  Faults& faults() { return faults_; }
  std::map<int64_t, FakeInstance>& instances() { return instances_; }
  // Instances created since the last call (the server schedules their hooks).
  std::vector<int64_t> take_created() { return std::exchange(created_, {}); }
  // Hook pids of instances deleted since the last call (the server stops them).
  std::vector<pid_t> take_deleted_hooks() { return std::exchange(deleted_hooks_, {}); }

  static bool valid_label(const std::string& label);
  static std::optional<std::string> base64_decode(const std::string& text);

 private:
  Reply handle_api(const std::string& method, const std::string& path,
                   const std::map<std::string, std::string>& query, const std::string& x_filter,
                   const std::string& body);
  Reply handle_control(const std::string& method, const std::string& path, const std::string& body);
  Reply list(const std::map<std::string, std::string>& query, const std::string& x_filter);
  Reply create(const std::string& body, bool from_api);
  nlohmann::json linode_json(const FakeInstance& instance) const;
  nlohmann::json ips_json(const FakeInstance& instance) const;
  std::string status_of(const FakeInstance& instance) const;
  nlohmann::json fake_view(const FakeInstance& instance) const;

  Options options_;
  Faults faults_;
  std::map<int64_t, FakeInstance> instances_;
  int64_t next_id_ = 40000001;
  int next_ip_index_ = 0;
  std::vector<int64_t> created_;
  std::vector<pid_t> deleted_hooks_;
  uint64_t total_requests_ = 0;
  std::map<std::string, uint64_t> requests_by_route_;
  std::map<std::string, uint64_t> responses_by_status_;
};

Reply error_reply(int status, const std::string& reason, const std::string& field = "");

}  // namespace fake_linode
