#include "fake_state.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <utility>

namespace fake_linode {

using nlohmann::json;

Reply error_reply(int status, const std::string& reason, const std::string& field) {
  json error = {{"reason", reason}};
  if (!field.empty()) error["field"] = field;
  Reply reply;
  reply.status = status;
  reply.body = {{"errors", json::array({error})}};
  return reply;
}

namespace {

std::string utc_now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return text;
}

std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (eq == std::string::npos) {
      out[pair] = "";
    } else {
      out[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    start = end + 1;
  }
  return out;
}

std::optional<long> parse_int(const std::string& text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return std::stol(text);
}

const char* const kFilterableKeys[] = {"label", "tags",   "region", "type",
                                       "image", "status", "id",     "group"};

bool is_filterable(const std::string& key) {
  return std::any_of(std::begin(kFilterableKeys), std::end(kFilterableKeys),
                     [&](const char* known) { return key == known; });
}

// Returns an error reason when the filter is not something the API accepts.
std::optional<std::string> validate_filter(const json& filter) {
  if (!filter.is_object()) return "The filter must be a JSON object";
  for (const auto& [key, value] : filter.items()) {
    if (key == "+and" || key == "+or") {
      if (!value.is_array()) return "The value of " + key + " must be an array";
      for (const json& part : value) {
        if (auto error = validate_filter(part)) return error;
      }
    } else if (key == "+order_by" || key == "+order") {
      if (!value.is_string()) return "The value of " + key + " must be a string";
    } else if (!is_filterable(key)) {
      return "Cannot filter on " + key;
    } else if (value.is_object()) {
      for (const auto& [op, operand] : value.items()) {
        if (op != "+contains" && op != "+neq") return "Unknown filter operator " + op;
        if (!operand.is_string()) return "The value of " + op + " must be a string";
      }
    } else if (!value.is_string() && !value.is_number_integer() && !value.is_null()) {
      return "Cannot filter " + key + " on this value";
    }
  }
  return std::nullopt;
}

bool value_matches(const json& field, const json& wanted) {
  if (field.is_array()) {  // tags: the filter matches when the list contains the value
    return std::any_of(field.begin(), field.end(),
                       [&](const json& item) { return value_matches(item, wanted); });
  }
  if (wanted.is_object()) {
    if (!field.is_string()) return false;
    const std::string text = field.get<std::string>();
    if (auto it = wanted.find("+contains"); it != wanted.end()) {
      return text.find(it->get<std::string>()) != std::string::npos;
    }
    if (auto it = wanted.find("+neq"); it != wanted.end()) return text != it->get<std::string>();
    return false;
  }
  return field == wanted;
}

bool filter_matches(const json& filter, const json& linode) {
  for (const auto& [key, value] : filter.items()) {
    if (key == "+and") {
      for (const json& part : value) {
        if (!filter_matches(part, linode)) return false;
      }
    } else if (key == "+or") {
      bool any = false;
      for (const json& part : value) any = any || filter_matches(part, linode);
      if (!any) return false;
    } else if (key[0] == '+') {
      continue;  // ordering
    } else if (!value_matches(linode.value(key, json()), value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool FakeApi::valid_label(const std::string& label) {
  if (label.size() < 3 || label.size() > 64) return false;
  if (!std::isalpha(static_cast<unsigned char>(label.front()))) return false;
  if (!std::isalnum(static_cast<unsigned char>(label.back()))) return false;
  for (size_t i = 0; i < label.size(); ++i) {
    const char c = label[i];
    const bool allowed =
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    if (!allowed) return false;
    if (i > 0 && (c == '-' || c == '_' || c == '.') && label[i - 1] == c) return false;
  }
  return true;
}

std::optional<std::string> FakeApi::base64_decode(const std::string& text) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++padding;
      } else if (padding > 0 || (v[k] = value_of(c)) < 0) {
        return std::nullopt;
      }
    }
    const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xFF);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (padding < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

std::string FakeApi::status_of(const FakeInstance& instance) const {
  const double age =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - instance.created_at).count();
  if (age >= options_.boot_seconds) return "running";
  return age < options_.boot_seconds / 3 ? "provisioning" : "booting";
}

json FakeApi::linode_json(const FakeInstance& instance) const {
  std::vector<std::string> ipv4 = {instance.public_ip};
  if (instance.private_ip_enabled) ipv4.push_back(instance.private_ip);
  char ipv6[64];
  std::snprintf(ipv6, sizeof(ipv6), "2600:3c00::f03c:93ff:fe%02x:%04x/128",
                static_cast<unsigned>((instance.id >> 16) & 0xFF),
                static_cast<unsigned>(instance.id & 0xFFFF));
  return {
      {"id", instance.id},
      {"label", instance.label},
      {"group", ""},
      {"status", status_of(instance)},
      {"created", instance.created},
      {"updated", instance.created},
      {"type", instance.type},
      {"region", instance.region},
      {"image", instance.image ? json(*instance.image) : json()},
      {"ipv4", ipv4},
      {"ipv6", ipv6},
      {"hypervisor", "kvm"},
      {"watchdog_enabled", true},
      {"tags", instance.tags},
      {"host_uuid", "3a3ddd59d9a78bb8de041391075df44de62bfec8"},
      {"has_user_data", instance.user_data.has_value()},
      {"placement_group", nullptr},
      {"lke_cluster_id", nullptr},
      {"capabilities", json::array()},
      {"specs", {{"disk", 81920}, {"memory", 4096}, {"vcpus", 2}, {"gpus", 0}, {"transfer", 4000}}},
      {"alerts",
       {{"cpu", 180},
        {"io", 10000},
        {"network_in", 10},
        {"network_out", 10},
        {"transfer_quota", 80}}},
      {"backups",
       {{"enabled", false},
        {"available", false},
        {"schedule", {{"day", nullptr}, {"window", nullptr}}},
        {"last_successful", nullptr}}},
  };
}

json FakeApi::ips_json(const FakeInstance& instance) const {
  auto address = [&](const std::string& ip, bool is_public) {
    return json{{"address", ip},
                {"gateway", is_public ? json(ip.substr(0, ip.rfind('.')) + ".1") : json()},
                {"subnet_mask", is_public ? "255.255.255.0" : "255.255.128.0"},
                {"prefix", is_public ? 24 : 17},
                {"type", "ipv4"},
                {"public", is_public},
                {"rdns", nullptr},
                {"linode_id", instance.id},
                {"region", instance.region}};
  };
  json private_list = json::array();
  if (instance.private_ip_enabled) private_list.push_back(address(instance.private_ip, false));
  return {{"ipv4",
           {{"public", json::array({address(instance.public_ip, true)})},
            {"private", private_list},
            {"shared", json::array()},
            {"reserved", json::array()},
            {"vpc", json::array()}}},
          {"ipv6", {{"global", json::array()}, {"link_local", nullptr}, {"slaac", nullptr}}}};
}

json FakeApi::fake_view(const FakeInstance& instance) const {
  json view = linode_json(instance);
  view["authorized_keys"] = instance.authorized_keys;
  view["has_root_pass"] = instance.has_root_pass;
  view["private_ip"] = instance.private_ip_enabled;
  view["firewall_id"] = instance.firewall_id ? json(*instance.firewall_id) : json();
  view["user_data"] = instance.user_data ? json(*instance.user_data) : json();
  view["hook_pid"] = instance.hook_pid;
  view["private_ipv4"] = instance.private_ip;
  view["public_ipv4"] = instance.public_ip;
  return view;
}

Reply FakeApi::handle(const std::string& method, const std::string& target,
                      const std::string& authorization, const std::string& x_filter,
                      const std::string& body) {
  const size_t question = target.find('?');
  const std::string path = target.substr(0, question);
  const auto query =
      parse_query(question == std::string::npos ? std::string() : target.substr(question + 1));
  ++total_requests_;
  Reply reply;
  if (path.rfind("/__fake/", 0) == 0) {
    reply = handle_control(method, path, body);
  } else if (path.rfind("/v4/", 0) != 0) {
    reply = error_reply(404, "Not found");
  } else {
    if (!options_.token.empty() && authorization != "Bearer " + options_.token) {
      reply = error_reply(401, "Invalid Token");
    } else if (faults_.rate_limit > 0) {
      --faults_.rate_limit;
      reply = error_reply(429, "Too many requests");
      const auto wait = static_cast<long>(std::ceil(faults_.retry_after_seconds));
      reply.headers = {{"Retry-After", std::to_string(wait)},
                       {"X-RateLimit-Limit", "800"},
                       {"X-RateLimit-Remaining", "0"},
                       {"X-RateLimit-Reset", std::to_string(std::time(nullptr) + wait)}};
    } else if (faults_.server_errors > 0) {
      --faults_.server_errors;
      reply = error_reply(faults_.server_error_status, "Please try again later");
    } else {
      reply = handle_api(method, path.substr(3), query, x_filter, body);
    }
  }
  std::string route = method + " " + path;
  // Route keys use templates so counters stay small: /v4/linode/instances/{id}[/ips].
  if (path.rfind("/v4/linode/instances/", 0) == 0) {
    route = method + " /v4/linode/instances/{id}" +
            (path.size() > 4 && path.substr(path.size() - 4) == "/ips" ? "/ips" : "");
  }
  ++requests_by_route_[route];
  ++responses_by_status_[reply.action == Reply::Action::kRespond ? std::to_string(reply.status)
                                                                 : "dropped"];
  return reply;
}

Reply FakeApi::handle_api(const std::string& method, const std::string& path,
                          const std::map<std::string, std::string>& query,
                          const std::string& x_filter, const std::string& body) {
  if (path == "/linode/instances") {
    if (method == "GET") return list(query, x_filter);
    if (method == "POST") return create(body, /*from_api=*/true);
    return error_reply(405, "Method not allowed");
  }
  const std::string prefix = "/linode/instances/";
  if (path.rfind(prefix, 0) != 0) return error_reply(404, "Not found");
  std::string rest = path.substr(prefix.size());
  bool ips = false;
  if (rest.size() > 4 && rest.substr(rest.size() - 4) == "/ips") {
    ips = true;
    rest.resize(rest.size() - 4);
  }
  const auto id = parse_int(rest);
  if (!id) return error_reply(404, "Not found");
  auto it = instances_.find(*id);
  if (it == instances_.end()) return error_reply(404, "Not found");
  if (ips) {
    if (method != "GET") return error_reply(405, "Method not allowed");
    Reply reply;
    reply.body = ips_json(it->second);
    return reply;
  }
  if (method == "GET") {
    Reply reply;
    reply.body = linode_json(it->second);
    return reply;
  }
  if (method == "DELETE") {
    if (faults_.fail_deletes > 0) {
      --faults_.fail_deletes;
      return error_reply(faults_.fail_delete_status, "Please try again later");
    }
    if (it->second.hook_pid > 0) deleted_hooks_.push_back(it->second.hook_pid);
    instances_.erase(it);
    return Reply{};  // {} as the spec says
  }
  return error_reply(405, "Method not allowed");
}

Reply FakeApi::list(const std::map<std::string, std::string>& query, const std::string& x_filter) {
  long page = 1;
  long page_size = 100;
  if (auto it = query.find("page"); it != query.end()) {
    auto parsed = parse_int(it->second);
    if (!parsed || *parsed < 1) return error_reply(400, "Must be an integer >= 1", "page");
    page = *parsed;
  }
  if (auto it = query.find("page_size"); it != query.end()) {
    auto parsed = parse_int(it->second);
    if (!parsed || *parsed < 25 || *parsed > 500) {
      return error_reply(400, "Must be an integer between 25 and 500", "page_size");
    }
    page_size = *parsed;
  }
  json filter = json::object();
  if (!x_filter.empty()) {
    filter = json::parse(x_filter, nullptr, /*allow_exceptions=*/false);
    if (filter.is_discarded()) return error_reply(400, "The filter is not valid JSON", "X-Filter");
    if (auto error = validate_filter(filter)) return error_reply(400, *error, "X-Filter");
  }
  json matching = json::array();
  for (const auto& [id, instance] : instances_) {
    json linode = linode_json(instance);
    if (filter_matches(filter, linode)) matching.push_back(std::move(linode));
  }
  const long results = static_cast<long>(matching.size());
  const long pages = std::max(1L, (results + page_size - 1) / page_size);
  page = std::min(page, pages);  // like the API: past the end gives the last page
  json data = json::array();
  for (long i = (page - 1) * page_size; i < std::min(results, page * page_size); ++i) {
    data.push_back(std::move(matching[i]));
  }
  Reply reply;
  reply.body = {{"data", data}, {"page", page}, {"pages", pages}, {"results", results}};
  return reply;
}

Reply FakeApi::create(const std::string& body_text, bool from_api) {
  const json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return error_reply(400, "Invalid JSON");
  auto string_field = [&](const char* key) -> std::optional<std::string> {
    auto it = body.find(key);
    if (it == body.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  FakeInstance instance;
  auto region = string_field("region");
  if (!region || region->empty()) return error_reply(400, "region is required", "region");
  auto type = string_field("type");
  if (!type || type->empty()) return error_reply(400, "type is required", "type");
  instance.region = *region;
  instance.type = *type;
  if (body.contains("image")) {
    auto image = string_field("image");
    if (!image || image->empty()) return error_reply(400, "image is not valid", "image");
    instance.image = *image;
  }
  if (body.contains("root_pass")) {
    auto pass = string_field("root_pass");
    if (!pass || pass->size() < 7 || pass->size() > 128) {
      return error_reply(400, "Length must be 7-128 characters", "root_pass");
    }
    instance.has_root_pass = true;
  }
  if (instance.image && !instance.has_root_pass) {
    return error_reply(400, "root_pass is required when deploying an image", "root_pass");
  }
  const int64_t id = next_id_;
  if (body.contains("label")) {
    auto label = string_field("label");
    if (!label || !valid_label(*label)) {
      return error_reply(400,
                         "Label must begin with a letter, end with a letter or number, be 3-64 "
                         "characters of letters, numbers, '-', '_' or '.', without two of those "
                         "in a row",
                         "label");
    }
    instance.label = *label;
  } else {
    instance.label = "linode" + std::to_string(id);
  }
  for (const auto& [other_id, other] : instances_) {
    if (other.label == instance.label) return error_reply(400, "Label must be unique", "label");
  }
  for (const char* key : {"tags", "authorized_keys"}) {
    if (!body.contains(key)) continue;
    const json& list = body.at(key);
    if (!list.is_array() ||
        !std::all_of(list.begin(), list.end(), [](const json& v) { return v.is_string(); })) {
      return error_reply(400, std::string(key) + " must be a list of strings", key);
    }
    (std::string(key) == "tags" ? instance.tags : instance.authorized_keys) =
        list.get<std::vector<std::string>>();
  }
  if (body.contains("private_ip")) {
    if (!body.at("private_ip").is_boolean()) {
      return error_reply(400, "private_ip must be a boolean", "private_ip");
    }
    instance.private_ip_enabled = body.at("private_ip").get<bool>();
  }
  if (body.contains("firewall_id") && !body.at("firewall_id").is_null()) {
    if (!body.at("firewall_id").is_number_integer()) {
      return error_reply(400, "firewall_id must be an integer", "firewall_id");
    }
    instance.firewall_id = body.at("firewall_id").get<int64_t>();
  }
  if (body.contains("metadata")) {
    const json& metadata = body.at("metadata");
    if (!metadata.is_object()) return error_reply(400, "metadata must be an object", "metadata");
    if (metadata.contains("user_data")) {
      const json& encoded = metadata.at("user_data");
      std::optional<std::string> decoded;
      if (encoded.is_string()) decoded = base64_decode(encoded.get<std::string>());
      if (!decoded) {
        return error_reply(400, "user_data must be valid base64", "metadata.user_data");
      }
      if (decoded->size() > 65535) {
        return error_reply(400, "user_data must not exceed 65535 bytes", "metadata.user_data");
      }
      instance.user_data = std::move(*decoded);
    }
  }
  ++next_id_;
  ++next_ip_index_;
  const int x = next_ip_index_ / 250;
  const int y = next_ip_index_ % 250 + 1;
  instance.id = id;
  instance.public_ip = "127.2." + std::to_string(x) + "." + std::to_string(y);
  instance.private_ip = "127.1." + std::to_string(x) + "." + std::to_string(y);
  instance.created = utc_now_iso();
  instance.created_at = std::chrono::steady_clock::now();
  Reply reply;
  reply.body = linode_json(instance);
  instances_.emplace(id, std::move(instance));
  if (from_api) created_.push_back(id);  // seeded instances get no hook
  if (from_api && faults_.drop_creates > 0) {
    --faults_.drop_creates;
    reply.action = faults_.drop_mode == "close" ? Reply::Action::kClose : Reply::Action::kHang;
  }
  return reply;
}

Reply FakeApi::handle_control(const std::string& method, const std::string& path,
                              const std::string& body_text) {
  Reply reply;
  if (path == "/__fake/instances" && method == "GET") {
    json list = json::array();
    for (const auto& [id, instance] : instances_) list.push_back(fake_view(instance));
    reply.body = {{"instances", list}};
    return reply;
  }
  if (path == "/__fake/stats" && method == "GET") {
    reply.body = {{"requests", total_requests_},
                  {"by_route", requests_by_route_},
                  {"by_status", responses_by_status_},
                  {"instances", instances_.size()}};
    return reply;
  }
  const json body = json::parse(body_text.empty() ? "{}" : body_text, nullptr, false);
  if (!body.is_object()) return error_reply(400, "Invalid JSON");
  if (path == "/__fake/faults" && method == "POST") {
    try {
      faults_.rate_limit = body.value("rate_limit", faults_.rate_limit);
      faults_.retry_after_seconds = body.value("retry_after_seconds", faults_.retry_after_seconds);
      faults_.server_errors = body.value("server_errors", faults_.server_errors);
      faults_.server_error_status = body.value("server_error_status", faults_.server_error_status);
      faults_.latency_ms = body.value("latency_ms", faults_.latency_ms);
      faults_.drop_creates = body.value("drop_creates", faults_.drop_creates);
      faults_.drop_mode = body.value("drop_mode", faults_.drop_mode);
      faults_.fail_deletes = body.value("fail_deletes", faults_.fail_deletes);
      faults_.fail_delete_status = body.value("fail_delete_status", faults_.fail_delete_status);
    } catch (const json::exception& e) {
      return error_reply(400, std::string("bad fault value: ") + e.what());
    }
    if (faults_.drop_mode != "hang" && faults_.drop_mode != "close") {
      return error_reply(400, "drop_mode must be hang or close", "drop_mode");
    }
    reply.body = {{"rate_limit", faults_.rate_limit},
                  {"retry_after_seconds", faults_.retry_after_seconds},
                  {"server_errors", faults_.server_errors},
                  {"server_error_status", faults_.server_error_status},
                  {"latency_ms", faults_.latency_ms},
                  {"drop_creates", faults_.drop_creates},
                  {"drop_mode", faults_.drop_mode},
                  {"fail_deletes", faults_.fail_deletes},
                  {"fail_delete_status", faults_.fail_delete_status}};
    return reply;
  }
  if (path == "/__fake/seed" && method == "POST") {
    // Bulk-create instances without going through faults (e.g. 1,200 for pagination tests).
    const int count = body.value("count", 0);
    const std::string prefix = body.value("label_prefix", std::string("seed-"));
    if (count < 0 || count > 20000) return error_reply(400, "count must be 0..20000", "count");
    json template_body = {{"region", body.value("region", std::string("us-east"))},
                          {"type", body.value("type", std::string("g6-standard-1"))},
                          {"tags", body.value("tags", std::vector<std::string>{})},
                          {"private_ip", true}};
    int created = 0;
    for (int i = 0; i < count; ++i) {
      template_body["label"] = prefix + std::to_string(next_id_);
      Reply one = create(template_body.dump(), /*from_api=*/false);
      if (one.status != 200) return one;
      ++created;
    }
    reply.body = {{"created", created}};
    return reply;
  }
  return error_reply(404, "Not found");
}

}  // namespace fake_linode
