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
  kBadRequest,       // 400 (e.g. "Label must be unique", field "label")
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
