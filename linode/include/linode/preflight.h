#pragma once
// Preflight: asks the Linode API whether a bridge created with this configuration can boot,
// before any instance is paid for (issue 16). Used by `check-config --online`, and meant for
// the daemon at start and after a config reload (creates stay suspended while it fails).
//
// What is checked, and where the rule comes from (Linode API v4 reference):
//   - the token works: GET /profile answers 401 for a wrong, expired or revoked token;
//   - its scopes: the X-OAuth-Scopes response header lists them ("*" = all); creating and
//     deleting needs linodes:read_write;
//   - a restricted user (GET /profile "restricted") needs the add_linodes grant
//     (GET /profile/grants; 204 = unrestricted) and may not tag ("You must be an unrestricted
//     User in order to add or modify Tags"), while the agent tags every bridge;
//   - the region exists (GET /regions/{id}) and, when user data is sent, lists the "Metadata"
//     capability (no Metadata service there: cloud-init never sees the user data);
//   - the image exists (GET /images/{id}) and, when user data is sent, lists "cloud-init";
//   - the type exists (GET /linode/types/{id});
//   - the firewall exists (GET /networking/firewalls/{id}), when one is configured.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "linode/client.h"

namespace linode {

struct PreflightRequest {
  std::string region;
  std::string type;
  std::string image;
  std::optional<int64_t> firewall_id;
  std::vector<std::string> tags;
  bool user_data = false;  // metadata.user_data will be sent (linode.user_data_file is set)
};

struct PreflightProblem {
  std::string key_path;  // the config key to fix, e.g. "linode.region"
  std::string sentence;  // one sentence, no secret, e.g. "region \"us-west\" has no Metadata ..."
  bool operator==(const PreflightProblem&) const = default;
};

// Starts the look-ups on `client` (which must outlive them) and calls `done` once, on the
// client's worker thread, with every problem found (empty = the API accepts the configuration).
// When the API cannot be asked (network, 5xx), the one problem says so under linode.api_url.
void preflight(Client& client, PreflightRequest request,
               std::function<void(std::vector<PreflightProblem>)> done);

// Blocking wrapper for command-line use: waits at most timeout_seconds; on timeout returns one
// problem under linode.api_url. Shut the client down after it returns.
std::vector<PreflightProblem> preflight_blocking(Client& client, PreflightRequest request,
                                                 double timeout_seconds = 60);

// Whether an X-OAuth-Scopes value grants `scope` (e.g. "linodes:read_write"); a read_only
// request is granted by read_write too, and "*" grants everything.
bool scopes_grant(const std::string& scopes, const std::string& scope);

}  // namespace linode
