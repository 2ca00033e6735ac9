#pragma once
// JSON encoding/decoding of Linode API v4 bodies (internal to the linode module, but
// deliberately free of I/O so tests can exercise it directly).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "linode/client.h"

namespace linode::codec {

std::string base64_encode(std::string_view raw);

// Body of POST /linode/instances. root_pass must already be decided by the caller.
nlohmann::json create_body(const CreateRequest& request);

// The X-Filter header value for a ListFilter; empty string when there is nothing to filter.
// One condition is a simple filter ({"label":"x"}, {"tags":"jitsi"}); several are joined with
// "+and" because a JSON object cannot repeat the "tags" key.
std::string x_filter(const ListFilter& filter);

// True when the instance satisfies the filter (the client re-checks what the API returned).
bool matches(const Instance& instance, const ListFilter& filter);

// Throws nlohmann::json::exception (caught by the caller) when a required field is missing
// or has the wrong type.
Instance parse_instance(const nlohmann::json& object);

// Bodies of the preflight look-ups. Throw nlohmann::json::exception on a wrong shape.
Region parse_region(const nlohmann::json& object);
Image parse_image(const nlohmann::json& object);
InstanceType parse_type(const nlohmann::json& object);
Firewall parse_firewall(const nlohmann::json& object);
Profile parse_profile(const nlohmann::json& object);
// `body` of a 200 (a 204 means unrestricted and has no body: the caller handles it).
Grants parse_grants(const nlohmann::json& object);

// Percent-encodes a path segment, keeping unreserved characters and '/' (image ids such as
// "linode/ubuntu22.04" go into the path as they are, as the API's own examples show).
std::string path_escape(std::string_view text);

// Fills public_ipv4/private_ipv4 of `instance` from a /linode/instances/{id}/ips body.
void apply_ips(const nlohmann::json& ips_body, Instance& instance);

// RFC 1918 addresses are private; so is 127.1.0.0/16, the fake API's private range
// (no real Linode has a loopback address).
bool is_private_ipv4(std::string_view address);

struct ApiError {
  std::string reason;
  std::string field;
};
// errors[0] of an error body; nullopt when the body is not the API's errors shape.
std::optional<ApiError> parse_error_body(std::string_view body);

}  // namespace linode::codec
