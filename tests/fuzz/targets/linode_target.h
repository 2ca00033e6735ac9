#pragma once
// Fuzz target: decoding of Linode API v4 response bodies (linode/src/codec.h).
#include <string_view>

#include "fuzz_support.h"

namespace jvb_fuzz {

// The input is one response body. It is decoded as an instance object, as each element of a
// paginated {"data":[...]} page, as an /ips body, and as an error body.
// Properties: parse_instance and apply_ips either succeed or throw nlohmann::json::exception
// (which the client turns into kInvalidResponse), nothing else; a parsed instance carries the
// id and label of the body; private_ipv4 is a private address and public_ipv4 is not, both
// taken from the listed addresses; parse_error_body never throws and returns the body's
// errors[0].reason/field when they are strings.
class LinodeTarget {
 public:
  static constexpr std::string_view kName = "linode";
  Verdict check(std::string_view input);
};

}  // namespace jvb_fuzz
