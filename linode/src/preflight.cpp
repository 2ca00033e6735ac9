#include "linode/preflight.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>

namespace linode {

namespace {

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// Results of the look-ups, filled on the worker thread; judged once all are in.
struct State {
  PreflightRequest request;
  std::function<void(std::vector<PreflightProblem>)> done;
  std::mutex mutex;
  int outstanding = 0;
  std::optional<Result<Profile>> profile;
  std::optional<Result<Grants>> grants;
  std::optional<Result<Region>> region;
  std::optional<Result<Image>> image;
  std::optional<Result<InstanceType>> type;
  std::optional<Result<Firewall>> firewall;
};

// Failures that say nothing about the configuration, only that the API could not be asked.
bool unreachable(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kTransport:
    case ErrorKind::kServer:
    case ErrorKind::kRateLimited:
    case ErrorKind::kInvalidResponse:
    case ErrorKind::kAmbiguous:
      return true;
    default:
      return false;
  }
}

std::vector<PreflightProblem> judge(State& s) {
  const PreflightRequest& r = s.request;
  std::vector<PreflightProblem> problems;
  // The token first: when it is rejected, every other answer is a 401 too.
  if (!s.profile->ok() && s.profile->error().kind == ErrorKind::kUnauthorized) {
    return {{"linode.token_file",
             "Linode rejected the API token (401): it is wrong, expired or revoked; put a valid "
             "token in linode.token_file or LINODE_TOKEN"}};
  }
  // Then reachability: one sentence, not one per look-up.
  for (const Error* error :
       {s.profile->ok() ? nullptr : &s.profile->error(),
        s.grants && !s.grants->ok() ? &s.grants->error() : nullptr,
        s.region->ok() ? nullptr : &s.region->error(), s.image->ok() ? nullptr : &s.image->error(),
        s.type->ok() ? nullptr : &s.type->error(),
        s.firewall && !s.firewall->ok() ? &s.firewall->error() : nullptr}) {
    if (error != nullptr && unreachable(*error)) {
      return {{"linode.api_url", "could not ask the Linode API whether this configuration fits: " +
                                     error->message()}};
    }
  }

  if (s.profile->ok()) {
    const Profile& profile = s.profile->value();
    if (profile.token_scopes && !scopes_grant(*profile.token_scopes, "linodes:read_write")) {
      problems.push_back(
          {"linode.token_file",
           "the API token's scopes (" + quoted(*profile.token_scopes) +
               ") lack linodes:read_write, which creating and deleting bridges needs; create a "
               "token with Linodes: Read/Write"});
    }
    if (s.grants && s.grants->ok() && !s.grants->value().unrestricted &&
        !s.grants->value().add_linodes) {
      problems.push_back(
          {"linode.token_file",
           "the token belongs to restricted user " + quoted(profile.username) +
               " without the add_linodes grant, so Linode refuses every create; grant it or use "
               "an unrestricted user's token"});
    }
    if (profile.restricted && !r.tags.empty()) {
      problems.push_back(
          {"linode.tags",
           "the token belongs to restricted user " + quoted(profile.username) +
               ", and only an unrestricted user may tag a Linode, while the agent tags every "
               "bridge with linode.tags; use an unrestricted user's token"});
    }
  } else {
    problems.push_back({"linode.token_file", "the API token cannot read its own profile: " +
                                                 s.profile->error().message()});
  }

  if (!s.region->ok()) {
    problems.push_back({"linode.region",
                        "region " + quoted(r.region) + " does not exist (GET /regions/" + r.region +
                            " answered " + std::to_string(s.region->error().http_status) +
                            "); the ids are listed by GET /regions"});
  } else if (r.user_data && !s.region->value().has_capability("Metadata")) {
    problems.push_back(
        {"linode.region",
         "region " + quoted(r.region) +
             " lacks the Metadata capability, so new bridges would never receive their "
             "cloud-init user data (linode.user_data_file) and never join; choose a region "
             "whose capabilities list Metadata"});
  }

  if (!s.image->ok()) {
    problems.push_back({"linode.image", "image " + quoted(r.image) +
                                            " does not exist or this token cannot see it (GET "
                                            "/images/" +
                                            r.image + " answered " +
                                            std::to_string(s.image->error().http_status) + ")"});
  } else if (r.user_data && !s.image->value().has_capability("cloud-init")) {
    problems.push_back(
        {"linode.image",
         "image " + quoted(r.image) +
             " lacks the cloud-init capability, so it ignores the user data "
             "(linode.user_data_file) and new bridges would never install JVB; choose an image "
             "whose capabilities list cloud-init, e.g. linode/ubuntu22.04"});
  }

  if (!s.type->ok()) {
    problems.push_back(
        {"linode.type", "type " + quoted(r.type) + " does not exist (GET /linode/types/" + r.type +
                            " answered " + std::to_string(s.type->error().http_status) +
                            "); the ids are listed by GET /linode/types"});
  }

  if (s.firewall && !s.firewall->ok()) {
    const Error& error = s.firewall->error();
    const std::string id = std::to_string(*r.firewall_id);
    problems.push_back({"linode.firewall_id",
                        error.kind == ErrorKind::kForbidden
                            ? "the API token may not read firewall " + id +
                                  " (403); give it the Firewalls: Read Only scope, or check the id"
                            : "firewall " + id + " does not exist (GET /networking/firewalls/" +
                                  id + " answered " + std::to_string(error.http_status) + ")"});
  }
  return problems;
}

template <class T>
std::function<void(Result<T>)> collect(const std::shared_ptr<State>& state,
                                       std::optional<Result<T>> State::*slot) {
  return [state, slot](Result<T> result) {
    std::function<void(std::vector<PreflightProblem>)> done;
    {
      std::lock_guard lock(state->mutex);
      (*state).*slot = std::move(result);
      if (--state->outstanding > 0) return;
      done = std::move(state->done);
    }
    // Every look-up answered: no other thread touches the state any more.
    if (done) done(judge(*state));
  };
}

}  // namespace

bool scopes_grant(const std::string& scopes, const std::string& scope) {
  const size_t colon = scope.find(':');
  const std::string area = scope.substr(0, colon);
  const bool read_only = colon != std::string::npos && scope.substr(colon + 1) == "read_only";
  std::istringstream words(scopes);
  std::string word;
  while (std::getline(words, word, ' ')) {
    // The header separates scopes with spaces or commas.
    std::istringstream parts(word);
    std::string part;
    while (std::getline(parts, part, ',')) {
      if (part == "*" || part == scope || part == area + ":*" ||
          (read_only && part == area + ":read_write")) {
        return true;
      }
    }
  }
  return false;
}

void preflight(Client& client, PreflightRequest request,
               std::function<void(std::vector<PreflightProblem>)> done) {
  auto state = std::make_shared<State>();
  state->request = std::move(request);
  state->done = std::move(done);
  const PreflightRequest& r = state->request;
  // Count every look-up before starting any: a callback may run before the next one starts.
  state->outstanding = 5 + (r.firewall_id ? 1 : 0);
  client.get_profile(collect(state, &State::profile));
  client.get_grants(collect(state, &State::grants));
  client.get_region(r.region, collect(state, &State::region));
  client.get_image(r.image, collect(state, &State::image));
  client.get_type(r.type, collect(state, &State::type));
  if (r.firewall_id) client.get_firewall(*r.firewall_id, collect(state, &State::firewall));
}

std::vector<PreflightProblem> preflight_blocking(Client& client, PreflightRequest request,
                                                 double timeout_seconds) {
  struct Wait {
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<std::vector<PreflightProblem>> problems;
  };
  auto wait = std::make_shared<Wait>();
  preflight(client, std::move(request), [wait](std::vector<PreflightProblem> problems) {
    std::lock_guard lock(wait->mutex);
    wait->problems = std::move(problems);
    wait->ready.notify_all();
  });
  std::unique_lock lock(wait->mutex);
  if (!wait->ready.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                            [&] { return wait->problems.has_value(); })) {
    return {{"linode.api_url", "the Linode API did not answer the preflight within " +
                                   std::to_string(static_cast<int>(timeout_seconds)) + " s"}};
  }
  return std::move(*wait->problems);
}

}  // namespace linode
