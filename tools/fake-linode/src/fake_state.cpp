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

bool iequal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool value_matches(const json& field, const json& wanted) {
  if (field.is_array()) {  // tags: the filter matches when the list contains the value
    // Linode compares tags without regard to case (DESIGN.md section 5, Identity).
    return std::any_of(field.begin(), field.end(), [&](const json& item) {
      if (item.is_string() && wanted.is_string()) {
        return iequal(item.get<std::string>(), wanted.get<std::string>());
      }
      return value_matches(item, wanted);
    });
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

// The catalogue: real ids (Linode API v4 "List regions" / "List images" / "List types").
struct RegionEntry {
  const char* id;
  const char* country;
};
constexpr RegionEntry kRegions[] = {
    {"us-east", "us"}, {"us-central", "us"}, {"us-west", "us"},      {"us-southeast", "us"},
    {"us-iad", "us"},  {"us-ord", "us"},     {"us-lax", "us"},       {"us-mia", "us"},
    {"us-sea", "us"},  {"ca-central", "ca"}, {"eu-west", "gb"},      {"eu-central", "de"},
    {"fr-par", "fr"},  {"nl-ams", "nl"},     {"se-sto", "se"},       {"it-mil", "it"},
    {"ap-west", "in"}, {"ap-south", "sg"},   {"ap-northeast", "jp"}, {"ap-southeast", "au"},
    {"jp-osa", "jp"},  {"br-gru", "br"},     {"id-cgk", "id"},       {"in-maa", "in"},
};
constexpr const char* kImages[] = {"linode/ubuntu24.04", "linode/ubuntu22.04", "linode/ubuntu20.04",
                                   "linode/debian12",    "linode/debian11",    "linode/almalinux9",
                                   "linode/rocky9",      "linode/fedora40"};
constexpr const char* kTypes[] = {"g6-nanode-1",     "g6-standard-1",  "g6-standard-2",
                                  "g6-standard-4",   "g6-standard-6",  "g6-standard-8",
                                  "g6-dedicated-2",  "g6-dedicated-4", "g6-dedicated-8",
                                  "g6-dedicated-16", "g7-highmem-1",   "g7-highmem-2"};

json region_json(const std::string& id, const char* country, const Account& account) {
  json capabilities = {"Linodes",        "Backups", "NodeBalancers", "Block Storage",
                       "Cloud Firewall", "Vlans",   "VPCs",          "Managed Databases"};
  if (!account.regions_without_metadata.count(id)) capabilities.push_back("Metadata");
  return {{"id", id},
          {"label", id},
          {"country", country},
          {"capabilities", capabilities},
          {"status", "ok"},
          {"site_type", "core"},
          {"resolvers", {{"ipv4", "192.0.2.1,192.0.2.2"}, {"ipv6", "2001:db8::1"}}}};
}

json image_json(const std::string& id, const Account& account) {
  json capabilities = json::array();
  if (!account.images_without_cloud_init.count(id)) capabilities.push_back("cloud-init");
  return {{"id", id},
          {"label", id.substr(id.find('/') + 1)},
          {"vendor", "Linode"},
          {"type", "manual"},
          {"is_public", true},
          {"deprecated", false},
          {"status", "available"},
          {"size", 2500},
          {"created_by", "linode"},
          {"capabilities", capabilities},
          {"eol", nullptr},
          {"expiry", nullptr}};
}

json type_json(const std::string& id) {
  return {{"id", id},
          {"label", id},
          {"class", id.find("dedicated") != std::string::npos ? "dedicated" : "standard"},
          {"vcpus", 2},
          {"memory", 4096},
          {"disk", 81920},
          {"transfer", 4000},
          {"price", {{"hourly", 0.036}, {"monthly", 24.0}}}};
}

// "linodes:read_write firewall:read_only" or "*": may the token do this on `area`?
bool scope_allows(const std::string& scopes, const std::string& area, bool write) {
  std::string token;
  std::vector<std::string> list;
  for (char c : scopes + " ") {
    if (c == ' ' || c == ',') {
      if (!token.empty()) list.push_back(std::exchange(token, {}));
    } else {
      token += c;
    }
  }
  return std::any_of(list.begin(), list.end(), [&](const std::string& scope) {
    return scope == "*" || scope == area + ":read_write" ||
           (!write && scope == area + ":read_only");
  });
}

bool looks_like_cloud_config(const std::string& text) {
  return text.rfind("#cloud-config", 0) == 0;
}

}  // namespace

bool FakeApi::user_data_reaches(const FakeInstance& instance) const {
  if (!instance.user_data) return true;
  if (options_.account.regions_without_metadata.count(instance.region)) return false;
  return !(instance.image && options_.account.images_without_cloud_init.count(*instance.image));
}

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
  const auto now = std::chrono::steady_clock::now();
  if (instance.deleted_at) return "deleting";
  if (instance.shutdown_at) {
    const double since = std::chrono::duration<double>(now - *instance.shutdown_at).count();
    return since < options_.shutdown_seconds ? "shutting_down" : "offline";
  }
  const double age = std::chrono::duration<double>(now - instance.created_at).count();
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
  purge_deleted();
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
    } else if (auto refused = refuse_by_scope(method, path.substr(3))) {
      reply = std::move(*refused);
    } else {
      reply = handle_api(method, path.substr(3), query, x_filter, body);
    }
  }
  std::string route = method + " " + path;
  // Route keys use templates so counters stay small: /v4/linode/instances/{id}[/ips].
  if (path.rfind("/v4/linode/instances/", 0) == 0) {
    const size_t slash = path.find('/', std::string("/v4/linode/instances/").size());
    route = method + " /v4/linode/instances/{id}" +
            (slash == std::string::npos ? std::string() : path.substr(slash));
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
    if (method == "POST") {
      if (auto refused = refuse_by_create_rate()) return std::move(*refused);
      return create(body, /*from_api=*/true);
    }
    return error_reply(405, "Method not allowed");
  }
  const std::string prefix = "/linode/instances/";
  if (path.rfind(prefix, 0) != 0) return catalogue(method, path);
  std::string rest = path.substr(prefix.size());
  std::string action;
  if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    action = rest.substr(slash + 1);
    rest.resize(slash);
  }
  const auto id = parse_int(rest);
  if (!id) return error_reply(404, "Not found");
  auto it = instances_.find(*id);
  if (it == instances_.end()) return error_reply(404, "Not found");
  if (!action.empty()) return instance_action(method, it->second, action);
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
    if (it->second.hook_pid > 0) deleted_hooks_.push_back(std::exchange(it->second.hook_pid, 0));
    if (options_.delete_seconds > 0) {
      if (!it->second.deleted_at) it->second.deleted_at = std::chrono::steady_clock::now();
    } else {
      instances_.erase(it);
    }
    return Reply{};  // {} as the spec says
  }
  return error_reply(405, "Method not allowed");
}

void FakeApi::purge_deleted() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = instances_.begin(); it != instances_.end();) {
    const bool gone = it->second.deleted_at &&
                      std::chrono::duration<double>(now - *it->second.deleted_at).count() >=
                          options_.delete_seconds;
    it = gone ? instances_.erase(it) : std::next(it);
  }
}

std::optional<Reply> FakeApi::refuse_by_scope(const std::string& method,
                                              const std::string& path) const {
  const bool write = method != "GET";
  std::string area;
  if (path.rfind("/linode/instances", 0) == 0) area = "linodes";
  if (path.rfind("/networking/firewalls", 0) == 0) area = "firewall";
  if (area.empty() || scope_allows(options_.account.token_scopes, area, write)) return std::nullopt;
  // The API's answer to a token without the scope an operation needs.
  return error_reply(403, "Your OAuth token is not authorized to use this endpoint.");
}

std::optional<Reply> FakeApi::refuse_by_create_rate() {
  if (options_.create_rate_limit <= 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  const auto window = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.create_rate_window_seconds));
  while (!create_arrivals_.empty() && create_arrivals_.front() + window <= now) {
    create_arrivals_.pop_front();
  }
  if (create_arrivals_.size() < static_cast<size_t>(options_.create_rate_limit)) {
    create_arrivals_.push_back(now);
    return std::nullopt;
  }
  const double wait =
      std::chrono::duration<double>(create_arrivals_.front() + window - now).count();
  const auto seconds = static_cast<long>(std::ceil(wait));
  Reply reply = error_reply(429, "Too many requests");
  reply.headers = {{"Retry-After", std::to_string(seconds)},
                   {"X-RateLimit-Limit", std::to_string(options_.create_rate_limit)},
                   {"X-RateLimit-Remaining", "0"},
                   {"X-RateLimit-Reset", std::to_string(std::time(nullptr) + seconds)}};
  return reply;
}

Reply FakeApi::instance_action(const std::string& method, FakeInstance& instance,
                               const std::string& action) {
  if (action == "ips") {
    if (method != "GET") return error_reply(405, "Method not allowed");
    Reply reply;
    reply.body = ips_json(instance);
    return reply;
  }
  if (action == "shutdown") {
    if (method != "POST") return error_reply(405, "Method not allowed");
    const std::string status = status_of(instance);
    // An instance with an action under way refuses another one ("Linode busy.", the API's
    // answer seen in linode/linode-cli issue 17).
    if (status == "provisioning" || status == "booting" || status == "deleting") {
      return error_reply(400, "Linode busy.");
    }
    if (!instance.shutdown_at) {
      instance.shutdown_at = std::chrono::steady_clock::now();
      // The ACPI shutdown stops the bridge's processes gracefully (SIGTERM, then SIGKILL after
      // a grace period, as systemd would).
      if (instance.hook_pid > 0) deleted_hooks_.push_back(std::exchange(instance.hook_pid, 0));
    }
    return Reply{};
  }
  return error_reply(404, "Not found");
}

Reply FakeApi::catalogue(const std::string& method, const std::string& path) {
  if (method != "GET") return error_reply(405, "Method not allowed");
  const auto& account = options_.account;
  Reply reply;
  if (path == "/regions") {
    json data = json::array();
    for (const auto& region : kRegions)
      data.push_back(region_json(region.id, region.country, account));
    reply.body = {{"data", data}, {"page", 1}, {"pages", 1}, {"results", data.size()}};
    return reply;
  }
  if (path.rfind("/regions/", 0) == 0) {
    const std::string id = path.substr(9);
    for (const auto& region : kRegions) {
      if (id == region.id) {
        reply.body = region_json(region.id, region.country, account);
        return reply;
      }
    }
    return error_reply(404, "Not found");
  }
  if (path.rfind("/images/", 0) == 0) {
    const std::string id = path.substr(8);
    if (std::find(std::begin(kImages), std::end(kImages), id) == std::end(kImages)) {
      return error_reply(404, "Not found");
    }
    reply.body = image_json(id, account);
    return reply;
  }
  if (path.rfind("/linode/types/", 0) == 0) {
    const std::string id = path.substr(14);
    if (std::find(std::begin(kTypes), std::end(kTypes), id) == std::end(kTypes)) {
      return error_reply(404, "Not found");
    }
    reply.body = type_json(id);
    return reply;
  }
  if (path.rfind("/networking/firewalls/", 0) == 0) {
    const auto id = parse_int(path.substr(22));
    if (!id || !account.firewalls.count(*id)) return error_reply(404, "Not found");
    reply.body = {{"id", *id},
                  {"label", "firewall" + std::to_string(*id)},
                  {"status", "enabled"},
                  {"tags", json::array()},
                  {"rules",
                   {{"inbound", json::array()},
                    {"outbound", json::array()},
                    {"inbound_policy", "DROP"},
                    {"outbound_policy", "ACCEPT"}}}};
    return reply;
  }
  if (path == "/profile") {
    reply.body = {{"username", "fake-user"},          {"email", "fake-user@example.invalid"},
                  {"restricted", account.restricted}, {"timezone", "UTC"},
                  {"two_factor_auth", false},         {"uid", 1234}};
    reply.headers = {{"X-OAuth-Scopes", account.token_scopes}};
    return reply;
  }
  if (path == "/profile/grants") {
    if (!account.restricted) {
      reply.status = 204;  // "This is an unrestricted User, and therefore has no grants"
      reply.body = nullptr;
      return reply;
    }
    reply.body = {{"global",
                   {{"add_linodes", account.grant_add_linodes},
                    {"add_firewalls", false},
                    {"add_images", false},
                    {"account_access", nullptr}}},
                  {"linode", json::array()},
                  {"firewall", json::array()}};
    return reply;
  }
  return error_reply(404, "Not found");
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
  if (from_api && options_.account.restricted) {
    if (!options_.account.grant_add_linodes) return error_reply(403, "Unauthorized");
    // "You must be an unrestricted User in order to add or modify Tags" (Linode API v4, Tags).
    if (body.contains("tags") && body.at("tags").is_array() && !body.at("tags").empty()) {
      return error_reply(403, "You must be an unrestricted User in order to add or modify Tags",
                         "tags");
    }
  }
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

// GET /__fake/instances/{id}/user_data: exactly what cloud-init on that instance would read,
// so a test can check that whoever sent it encoded it once (the real API accepts any base64,
// a double-encoded document included, and the bridge then never installs anything).
Reply FakeApi::user_data_view(const std::string& path) {
  std::string rest = path.substr(std::string("/__fake/instances/").size());
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || rest.substr(slash) != "/user_data") {
    return error_reply(404, "Not found");
  }
  const auto id = parse_int(rest.substr(0, slash));
  auto it = id ? instances_.find(*id) : instances_.end();
  if (it == instances_.end()) return error_reply(404, "Not found");
  const FakeInstance& instance = it->second;
  Reply reply;
  reply.body = {
      {"id", instance.id},
      {"label", instance.label},
      {"user_data", instance.user_data ? json(*instance.user_data) : json()},
      {"cloud_config", instance.user_data && looks_like_cloud_config(*instance.user_data)},
      {"double_encoded", false},
      {"reaches_cloud_init", user_data_reaches(instance)}};
  if (instance.user_data) {
    std::string compact;
    for (char c : *instance.user_data) {
      if (c != '\n' && c != '\r') compact += c;
    }
    if (auto twice = base64_decode(compact); twice && looks_like_cloud_config(*twice)) {
      reply.body["double_encoded"] = true;
    }
  }
  return reply;
}

Reply FakeApi::update_account(const json& body) {
  Account& account = options_.account;
  try {
    if (body.contains("regions_without_metadata")) {
      account.regions_without_metadata =
          body.at("regions_without_metadata").get<std::set<std::string>>();
    }
    if (body.contains("images_without_cloud_init")) {
      account.images_without_cloud_init =
          body.at("images_without_cloud_init").get<std::set<std::string>>();
    }
    account.restricted = body.value("restricted", account.restricted);
    account.grant_add_linodes = body.value("grant_add_linodes", account.grant_add_linodes);
    account.token_scopes = body.value("token_scopes", account.token_scopes);
    if (body.contains("firewalls"))
      account.firewalls = body.at("firewalls").get<std::set<int64_t>>();
  } catch (const json::exception& e) {
    return error_reply(400, std::string("bad account value: ") + e.what());
  }
  Reply reply;
  reply.body = {{"regions_without_metadata", account.regions_without_metadata},
                {"images_without_cloud_init", account.images_without_cloud_init},
                {"restricted", account.restricted},
                {"grant_add_linodes", account.grant_add_linodes},
                {"token_scopes", account.token_scopes},
                {"firewalls", account.firewalls}};
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
  if (path.rfind("/__fake/instances/", 0) == 0 && method == "GET") return user_data_view(path);
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
  if (path == "/__fake/account" && method == "POST") return update_account(body);
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
