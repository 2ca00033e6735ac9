#pragma once
// The fake Linode API's model: instances, validation, X-Filter, pagination, faults and
// counters. No sockets here: the server turns HTTP requests into calls on FakeApi.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
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
  // POST .../shutdown: shutting_down, then offline after Options::shutdown_seconds.
  std::optional<std::chrono::steady_clock::time_point> shutdown_at;
  // DELETE with Options::delete_seconds > 0: listed as "deleting" until then.
  std::optional<std::chrono::steady_clock::time_point> deleted_at;
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

// What the account and its token may do, and what the catalogue offers (changeable at run time
// through POST /__fake/account).
struct Account {
  // Regions (ids as the real API names them) whose capabilities lack "Metadata": an instance
  // created there with user data never gets it (the hook does not start: the bridge never joins).
  std::set<std::string> regions_without_metadata;
  // Images whose capabilities lack "cloud-init": same effect.
  std::set<std::string> images_without_cloud_init;
  bool restricted = false;         // GET /profile "restricted"; a restricted user cannot tag
  bool grant_add_linodes = true;   // restricted users only: global grant add_linodes
  std::string token_scopes = "*";  // the X-OAuth-Scopes header; "*" = all scopes
  std::set<int64_t> firewalls;     // ids that GET /networking/firewalls/{id} knows
};

struct Options {
  std::string token;  // empty = any token accepted
  // Statuses an instance passes through (the real ones, linodego's InstanceStatus): provisioning
  // for the first third of boot_seconds, booting for the rest, then running.
  double boot_seconds = 0;
  double shutdown_seconds = 0.5;  // shutting_down -> offline after POST .../shutdown
  double delete_seconds = 0;      // > 0: a deleted instance lists as "deleting" that long
  // Linode's dedicated limit on POST /linode/instances: 20 per 15 s per user ("Rate limits",
  // Linode API v4 reference). Past it: 429 with Retry-After. 0 = unlimited.
  int create_rate_limit = 20;
  double create_rate_window_seconds = 15;
  Account account = {};
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

  // False when the instance has user data that cloud-init will never read (its region lacks
  // Metadata or its image lacks cloud-init): the server then starts no hook for it.
  bool user_data_reaches(const FakeInstance& instance) const;
  Account& account() { return options_.account; }

  static bool valid_label(const std::string& label);
  static std::optional<std::string> base64_decode(const std::string& text);

 private:
  Reply handle_api(const std::string& method, const std::string& path,
                   const std::map<std::string, std::string>& query, const std::string& x_filter,
                   const std::string& body);
  Reply handle_control(const std::string& method, const std::string& path, const std::string& body);
  Reply list(const std::map<std::string, std::string>& query, const std::string& x_filter);
  Reply create(const std::string& body, bool from_api);
  Reply catalogue(const std::string& method, const std::string& path);
  Reply instance_action(const std::string& method, FakeInstance& instance,
                        const std::string& action);
  std::optional<Reply> refuse_by_scope(const std::string& method, const std::string& path) const;
  std::optional<Reply> refuse_by_create_rate();
  void purge_deleted();
  Reply user_data_view(const std::string& path);
  Reply update_account(const nlohmann::json& body);
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
  std::deque<std::chrono::steady_clock::time_point> create_arrivals_;
  uint64_t total_requests_ = 0;
  std::map<std::string, uint64_t> requests_by_route_;
  std::map<std::string, uint64_t> responses_by_status_;
};

Reply error_reply(int status, const std::string& reason, const std::string& field = "");

}  // namespace fake_linode
