#include "codec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "linode/validation.h"

namespace linode::codec {

using nlohmann::json;

std::string base64_encode(std::string_view raw) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(raw[i])) << 16) | (uint32_t(uint8_t(raw[i + 1])) << 8) |
                       uint32_t(uint8_t(raw[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == raw.size()) {
    const uint32_t n = uint32_t(uint8_t(raw[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == raw.size()) {
    const uint32_t n = (uint32_t(uint8_t(raw[i])) << 16) | (uint32_t(uint8_t(raw[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

json create_body(const CreateRequest& request) {
  json body = {{"region", request.region},
               {"type", request.type},
               {"label", request.label},
               {"tags", request.tags},
               {"private_ip", request.private_ip}};
  if (!request.image.empty()) body["image"] = request.image;
  if (!request.authorized_keys.empty()) body["authorized_keys"] = request.authorized_keys;
  if (request.root_pass) body["root_pass"] = *request.root_pass;
  if (request.firewall_id) body["firewall_id"] = *request.firewall_id;
  if (request.user_data) body["metadata"] = {{"user_data", base64_encode(*request.user_data)}};
  return body;
}

std::string x_filter(const ListFilter& filter) {
  json conditions = json::array();
  if (filter.label) conditions.push_back({{"label", *filter.label}});
  for (const auto& tag : filter.tags) conditions.push_back({{"tags", tag}});
  if (conditions.empty()) return {};
  if (conditions.size() == 1) return conditions[0].dump();
  return json{{"+and", conditions}}.dump();
}

bool matches(const Instance& instance, const ListFilter& filter) {
  // Linode compares tags without regard to case (DESIGN.md section 5, Identity), so a re-check of
  // what the API returned must not be stricter than the API's own filter. The label filter is
  // an equality the API applies; we re-check it case-insensitively for the same reason.
  if (filter.label && !iequals(instance.label, *filter.label)) return false;
  return std::all_of(filter.tags.begin(), filter.tags.end(), [&](const std::string& tag) {
    return std::any_of(instance.tags.begin(), instance.tags.end(),
                       [&](const std::string& have) { return iequals(have, tag); });
  });
}

bool is_private_ipv4(std::string_view address) {
  in_addr parsed{};
  const std::string text(address);
  if (inet_pton(AF_INET, text.c_str(), &parsed) != 1) return false;
  const uint32_t ip = ntohl(parsed.s_addr);
  const auto in = [ip](uint32_t net, int bits) {
    return (ip >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x7F010000, 16);
}

namespace {
std::string string_or_empty(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->get<std::string>();
}
}  // namespace

Instance parse_instance(const json& object) {
  Instance instance;
  const json& id = object.at("id");
  if (!id.is_number_integer() && !id.is_number_unsigned()) {
    // 1.5 or 3.3e23 would silently truncate (or overflow): not an id.
    throw json::type_error::create(302, "instance id is not an integer", &id);
  }
  instance.id = id.get<int64_t>();
  instance.label = object.at("label").get<std::string>();
  instance.status = string_or_empty(object, "status");
  instance.region = string_or_empty(object, "region");
  instance.type = string_or_empty(object, "type");
  instance.image = string_or_empty(object, "image");
  instance.created = string_or_empty(object, "created");
  if (auto it = object.find("tags"); it != object.end() && !it->is_null()) {
    instance.tags = it->get<std::vector<std::string>>();
  }
  if (auto it = object.find("ipv4"); it != object.end() && !it->is_null()) {
    instance.ipv4 = it->get<std::vector<std::string>>();
  }
  for (const auto& address : instance.ipv4) {
    auto& slot = is_private_ipv4(address) ? instance.private_ipv4 : instance.public_ipv4;
    if (!slot) slot = address;
  }
  return instance;
}

namespace {
std::vector<std::string> string_list(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->get<std::vector<std::string>>();
}
}  // namespace

Region parse_region(const json& object) {
  return Region{object.at("id").get<std::string>(), string_or_empty(object, "status"),
                string_list(object, "capabilities")};
}

Image parse_image(const json& object) {
  Image image;
  image.id = object.at("id").get<std::string>();
  image.status = string_or_empty(object, "status");
  if (auto it = object.find("deprecated"); it != object.end() && it->is_boolean()) {
    image.deprecated = it->get<bool>();
  }
  image.capabilities = string_list(object, "capabilities");
  return image;
}

InstanceType parse_type(const json& object) {
  return InstanceType{object.at("id").get<std::string>(), string_or_empty(object, "label")};
}

Firewall parse_firewall(const json& object) {
  const json& id = object.at("id");
  if (!id.is_number_integer() && !id.is_number_unsigned()) {
    throw json::type_error::create(302, "firewall id is not an integer", &id);
  }
  return Firewall{id.get<int64_t>(), string_or_empty(object, "label"),
                  string_or_empty(object, "status")};
}

Profile parse_profile(const json& object) {
  Profile profile;
  profile.username = object.at("username").get<std::string>();
  profile.restricted = object.at("restricted").get<bool>();
  return profile;
}

Grants parse_grants(const json& object) {
  Grants grants;
  const json& global = object.at("global");
  if (auto it = global.find("add_linodes"); it != global.end() && it->is_boolean()) {
    grants.add_linodes = it->get<bool>();
  }
  return grants;
}

std::string path_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

void apply_ips(const json& ips_body, Instance& instance) {
  const json& v4 = ips_body.at("ipv4");
  const auto first_address = [&](const char* kind) -> std::optional<std::string> {
    auto it = v4.find(kind);
    if (it == v4.end() || !it->is_array() || it->empty()) return std::nullopt;
    return it->at(0).at("address").get<std::string>();
  };
  instance.public_ipv4 = first_address("public");
  instance.private_ipv4 = first_address("private");
}

std::optional<ApiError> parse_error_body(std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  auto errors = parsed.find("errors");
  if (errors == parsed.end() || !errors->is_array() || errors->empty() ||
      !(*errors)[0].is_object()) {
    return std::nullopt;
  }
  const json& first = (*errors)[0];
  ApiError error;
  if (auto it = first.find("reason"); it != first.end() && it->is_string()) error.reason = *it;
  if (auto it = first.find("field"); it != first.end() && it->is_string()) error.field = *it;
  return error;
}

}  // namespace linode::codec
