#include "linode_target.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

#include "codec.h"

namespace jvb_fuzz {

namespace {

using nlohmann::json;

bool listed(const linode::Instance& instance, const std::string& address) {
  return std::find(instance.ipv4.begin(), instance.ipv4.end(), address) != instance.ipv4.end();
}

// Checks one object the API would return as an instance. Returns a failure or nullopt;
// sets *parsed when it parsed.
std::optional<std::string> check_instance(const json& object, bool* parsed) {
  if (object.is_object() && object.contains("id") && object["id"].is_number_float()) {
    // Found by fuzzing: a fractional or huge id used to be truncated (or overflow); it must be
    // refused as an invalid response.
    try {
      (void)linode::codec::parse_instance(object);
      return "parse_instance accepted a non-integer id " + object["id"].dump();
    } catch (const json::exception&) {
    }
    return std::nullopt;
  }
  linode::Instance instance;
  try {
    instance = linode::codec::parse_instance(object);
  } catch (const json::exception&) {
    return std::nullopt;  // the client reports kInvalidResponse
  } catch (const std::exception& error) {
    return std::string("parse_instance threw a non-json exception: ") + error.what();
  }
  *parsed = true;
  if (!object.at("id").is_number_integer()) {
    return "parse_instance accepted a non-integer id " + object.at("id").dump();
  }
  if (instance.id != object.at("id").get<int64_t>() ||
      instance.label != object.at("label").get<std::string>()) {
    return "parse_instance changed the id or label";
  }
  if (instance.private_ipv4 && (!linode::codec::is_private_ipv4(*instance.private_ipv4) ||
                                !listed(instance, *instance.private_ipv4))) {
    return "private_ipv4 " + printable(*instance.private_ipv4) + " is not a listed private address";
  }
  if (instance.public_ipv4 && (linode::codec::is_private_ipv4(*instance.public_ipv4) ||
                               !listed(instance, *instance.public_ipv4))) {
    return "public_ipv4 " + printable(*instance.public_ipv4) + " is private or not listed";
  }
  // What the client does next for a bridge: match it against the tag filter.
  linode::ListFilter filter;
  filter.tags = {"jitsi", "jvb-autoscaler"};
  (void)linode::codec::matches(instance, filter);
  return std::nullopt;
}

std::optional<std::string> check_ips(const json& body, bool* filled) {
  linode::Instance instance;
  try {
    linode::codec::apply_ips(body, instance);
  } catch (const json::exception&) {
    return std::nullopt;
  } catch (const std::exception& error) {
    return std::string("apply_ips threw a non-json exception: ") + error.what();
  }
  if (instance.public_ipv4 || instance.private_ipv4) *filled = true;
  // Whatever was filled came from the body's ipv4.public[0] / ipv4.private[0].
  const auto from_body = [&](const char* kind) -> std::optional<std::string> {
    const json& list = body.at("ipv4").at(kind);
    return list.at(0).at("address").get<std::string>();
  };
  try {
    if (instance.public_ipv4 && *instance.public_ipv4 != from_body("public")) {
      return "apply_ips invented a public address";
    }
    if (instance.private_ipv4 && *instance.private_ipv4 != from_body("private")) {
      return "apply_ips invented a private address";
    }
  } catch (const json::exception&) {
    return "apply_ips filled an address the body does not hold";
  }
  return std::nullopt;
}

}  // namespace

Verdict LinodeTarget::check(std::string_view input) {
  std::optional<linode::codec::ApiError> api_error;
  try {
    api_error = linode::codec::parse_error_body(input);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("parse_error_body threw: ") + error.what());
  }
  const json body = json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (api_error) {
    const json& first = body.at("errors").at(0);
    const auto field_or_empty = [&](const char* key) {
      auto it = first.find(key);
      return it != first.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (api_error->reason != field_or_empty("reason") ||
        api_error->field != field_or_empty("field")) {
      return Verdict::fail("parse_error_body returned a reason/field the body does not hold");
    }
  }
  if (body.is_discarded()) return Verdict::ok(false);

  bool parsed = false;
  if (auto why = check_instance(body, &parsed)) return Verdict::fail(*why);
  if (body.is_object()) {
    if (auto data = body.find("data"); data != body.end() && data->is_array()) {
      for (const auto& element : *data) {
        if (auto why = check_instance(element, &parsed)) return Verdict::fail(*why);
      }
    }
  }
  if (auto why = check_ips(body, &parsed)) return Verdict::fail(*why);
  return Verdict::ok(parsed || api_error.has_value());
}

}  // namespace jvb_fuzz
