#pragma once
// Linode API v4 client. The interface is asynchronous: every call queues a request on one
// worker thread (libcurl multi handle) and invokes its callback on that worker thread, so the
// caller's event loop never blocks. Post the result back into your own loop from the callback.
//
// Secrets (the API token, root_pass) never appear in an Error, a log line or a RequestRecord.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace linode {

// One Linode instance, as far as the autoscaler cares.
struct Instance {
  int64_t id = 0;
  std::string label;
  std::string status;  // "provisioning", "booting", "running", "offline", ...
  std::string region;
  std::string type;
  std::string image;
  std::string created;  // ISO 8601 as the API gives it, e.g. "2026-01-05T10:00:00"
  std::vector<std::string> tags;
  std::vector<std::string> ipv4;  // every IPv4 the instance object lists
  // Filled from the ipv4 list (public vs RFC 1918 private) or, by get_ips, from
  // /linode/instances/{id}/ips.
  std::optional<std::string> public_ipv4;
  std::optional<std::string> private_ipv4;
};

// GET /regions/{id}. capabilities lists e.g. "Linodes", "Cloud Firewall", "Metadata" (Linode
// API v4 reference "Get a region"; @linode/api-v4 regions/types.ts lists the names).
struct Region {
  std::string id;
  std::string status;  // "ok" or "outage"
  std::vector<std::string> capabilities;
  bool has_capability(std::string_view name) const;  // case-insensitive
};

// GET /images/{id}. capabilities: "cloud-init" (the image supports cloud-init through the
// Metadata service), "distributed-sites" (Linode API v4 reference "Get an image").
struct Image {
  std::string id;
  std::string status;  // "available", "creating", "pending_upload", "deleted"
  bool deprecated = false;
  std::vector<std::string> capabilities;
  bool has_capability(std::string_view name) const;  // case-insensitive
};

// GET /linode/types/{id}
struct InstanceType {
  std::string id;
  std::string label;
};

// GET /networking/firewalls/{id}
struct Firewall {
  int64_t id = 0;
  std::string label;
  std::string status;  // "enabled", "disabled", "deleted"
};

// GET /profile: the user behind the token.
struct Profile {
  std::string username;
  bool restricted = false;  // a restricted user acts only through grants and may not tag
  // The token's OAuth scopes as the API reports them in the X-OAuth-Scopes response header
  // ("*" = every scope, else e.g. "linodes:read_write firewall:read_only"); nullopt when the
  // header is absent.
  std::optional<std::string> token_scopes;
};

// GET /profile/grants: 204 No Content for an unrestricted user, else the user's grants.
struct Grants {
  bool unrestricted = false;
  bool add_linodes = false;  // global.add_linodes: may create Linodes
};

struct CreateRequest {
  std::string region;
  std::string type;
  std::string image;
  std::string label;
  std::vector<std::string> tags;
  std::vector<std::string> authorized_keys;
  std::optional<std::string> root_pass;  // secret: never logged
  bool private_ip = true;
  std::optional<int64_t> firewall_id;
  std::optional<std::string> user_data;  // raw text; the client base64-encodes it into
                                         // metadata.user_data
};

// X-Filter for list_instances. Empty filter = every instance on the account.
// Several tags mean "carries every one of them".
struct ListFilter {
  std::optional<std::string> label;
  std::vector<std::string> tags;
};

enum class ErrorKind {
  kBadRequest,       // 400 (e.g. "Label must be unique", field "label"): a plain error. A
                     // create refused for a field value (region, image, label rules, ...) is
                     // never kAmbiguous; see is_label_taken() for the one 400 to adopt on.
  kUnauthorized,     // 401: the token was rejected
  kForbidden,        // 403: the token lacks a scope (linodes:read_write)
  kNotFound,         // 404
  kRateLimited,      // 429 after every retry was spent
  kServer,           // 5xx / 408 after every retry was spent, or any other status
  kTransport,        // connection refused, DNS, TLS, timeout, ... after every retry
  kAmbiguous,        // a POST whose body may have reached the API but got no answer:
                     // the instance may or may not exist; list by label and adopt.
  kInvalidResponse,  // 2xx with a body we cannot understand
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kServer;
  int http_status = 0;    // 0 when no HTTP answer was received
  std::string reason;     // the API's errors[0].reason, or a description of the failure
  std::string field;      // the API's errors[0].field, when given
  std::string operation;  // "POST /linode/instances" (path template, no ids)
  // One sentence for logs and operators, e.g.
  // "Linode API POST /linode/instances failed (400): Label must be unique (field label)".
  // Never contains the token.
  std::string message() const;
};

// True for the API's 400 "Label must be unique" (field "label"): an instance with that label
// exists, so the caller should list by label and adopt it instead of creating again. Any other
// 400 on the label (e.g. a label the API's rules refuse) is false: retrying cannot help.
bool is_label_taken(const Error& error);

// Either a value or an Error.
template <class T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

struct Done {};

// One HTTP attempt, for metrics (linode_requests_total{method,status},
// linode_request_duration_seconds). Ids never appear: path_template is
// "/linode/instances/{id}".
struct RequestRecord {
  std::string method;
  std::string path_template;
  int status = 0;  // 0 = transport error (no HTTP answer)
  double seconds = 0;
  int attempt = 1;  // 1 for the first try, 2 for the first retry, ...
};

struct ClientConfig {
  std::string api_url = "https://api.linode.com/v4";
  std::string token;       // secret
  std::string user_agent;  // default "jvb-autoscaler/<JVB_VERSION>" when empty
  double connect_timeout_seconds = 10;
  double total_timeout_seconds = 60;
  int max_attempts = 6;  // per call, first try included
  double backoff_initial_seconds = 1;
  double backoff_max_seconds = 60;  // also caps how long a Retry-After is honoured
  std::function<void(const RequestRecord&)> on_request;  // called on the worker thread
  // Linode limits POST /linode/instances to 20 requests per 15 seconds per user ("Rate
  // limits", Linode API v4 reference). The client starts at most create_rate_limit creates in
  // any create_rate_window_seconds and queues the rest (in order) until a slot frees, so a
  // step of 30 bridges is spread instead of answered with 429s. 0 disables the limit.
  int create_rate_limit = 20;
  double create_rate_window_seconds = 15;
};

class Client {
 public:
  virtual ~Client() = default;
  template <class T>
  using Callback = std::function<void(Result<T>)>;  // called on the worker thread

  // POST /linode/instances. A timeout or dropped connection after the body was sent is
  // kAmbiguous (never retried: a retry would create a second instance or hit "Label must be
  // unique").
  virtual void create_instance(CreateRequest request, Callback<Instance> callback) = 0;
  // GET /linode/instances with X-Filter, following every page (page_size 500).
  virtual void list_instances(ListFilter filter, Callback<std::vector<Instance>> callback) = 0;
  // GET /linode/instances/{id}
  virtual void get_instance(int64_t id, Callback<Instance> callback) = 0;
  // DELETE /linode/instances/{id}; 404 = already gone = success.
  virtual void delete_instance(int64_t id, Callback<Done> callback) = 0;
  // GET /linode/instances/{id} + /linode/instances/{id}/ips: the instance with
  // public_ipv4/private_ipv4 filled from the ips endpoint.
  virtual void get_ips(int64_t id, Callback<Instance> callback) = 0;
  // POST /linode/instances/{id}/shutdown: an ACPI shutdown; the instance goes shutting_down ->
  // offline (Linode API v4 reference "Shut down a Linode"; linodego ShutdownInstance). Retried
  // like a GET on 429/5xx/transport errors (shutting down twice is harmless).
  virtual void shutdown_instance(int64_t id, Callback<Done> callback);

  // Read-only look-ups for the preflight (linode/preflight.h). Default implementations fail
  // with kServer "not supported by this client", so fakes need not implement them.
  virtual void get_region(std::string id, Callback<Region> callback);      // GET /regions/{id}
  virtual void get_image(std::string id, Callback<Image> callback);        // GET /images/{id}
  virtual void get_type(std::string id, Callback<InstanceType> callback);  // GET /linode/types/{id}
  virtual void get_firewall(int64_t id,
                            Callback<Firewall> callback);  // GET /networking/firewalls/{id}
  virtual void get_profile(Callback<Profile> callback);    // GET /profile
  virtual void get_grants(Callback<Grants> callback);      // GET /profile/grants

  // Abandons queued and in-flight requests (their callbacks are not called), joins the
  // worker. Idempotent; the destructor calls it. Requests made after shutdown are dropped.
  virtual void shutdown() = 0;
};

// One worker thread with a curl multi handle. Requires a live CurlGlobal.
std::unique_ptr<Client> make_curl_client(ClientConfig config);

// RAII for curl_global_init / curl_global_cleanup. Construct exactly one, in main(), before
// any thread starts and before make_curl_client; destroy it after every client is gone.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

}  // namespace linode
