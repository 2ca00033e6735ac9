// The parts of linode::Client that do not depend on libcurl: default implementations of the
// optional calls (so in-memory fakes need not implement them) and small helpers.
#include "linode/client.h"

#include <algorithm>
#include <cctype>

#include "linode/validation.h"

namespace linode {

namespace {

Error not_supported(const char* operation) {
  Error error;
  error.kind = ErrorKind::kServer;
  error.reason = "not supported by this client";
  error.operation = operation;
  return error;
}

bool has(const std::vector<std::string>& capabilities, std::string_view name) {
  return std::any_of(capabilities.begin(), capabilities.end(),
                     [&](const std::string& capability) { return iequals(capability, name); });
}

}  // namespace

bool Region::has_capability(std::string_view name) const { return has(capabilities, name); }
bool Image::has_capability(std::string_view name) const { return has(capabilities, name); }

bool is_label_taken(const Error& error) {
  if (error.http_status != 400 || error.field != "label") return false;
  std::string reason = error.reason;
  std::transform(reason.begin(), reason.end(), reason.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The API says "Label must be unique" (also seen as "... unique among your Linodes").
  return reason.find("unique") != std::string::npos;
}

void Client::shutdown_instance(int64_t, Callback<Done> callback) {
  callback(not_supported("POST /linode/instances/{id}/shutdown"));
}
void Client::get_region(std::string, Callback<Region> callback) {
  callback(not_supported("GET /regions/{id}"));
}
void Client::get_image(std::string, Callback<Image> callback) {
  callback(not_supported("GET /images/{id}"));
}
void Client::get_type(std::string, Callback<InstanceType> callback) {
  callback(not_supported("GET /linode/types/{id}"));
}
void Client::get_firewall(int64_t, Callback<Firewall> callback) {
  callback(not_supported("GET /networking/firewalls/{id}"));
}
void Client::get_profile(Callback<Profile> callback) { callback(not_supported("GET /profile")); }
void Client::get_grants(Callback<Grants> callback) {
  callback(not_supported("GET /profile/grants"));
}

}  // namespace linode
