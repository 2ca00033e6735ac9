// libcurl implementation of linode::Client: one worker thread drives a curl multi handle;
// retries wait in a timed queue on the same thread, so nothing ever blocks the caller.
#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include "codec.h"
#include "jvb/version.h"
#include "linode/client.h"

#ifndef JVB_VERSION
#define JVB_VERSION "dev"
#endif

namespace linode {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadRequest:
      return "bad_request";
    case ErrorKind::kUnauthorized:
      return "unauthorized";
    case ErrorKind::kForbidden:
      return "forbidden";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kRateLimited:
      return "rate_limited";
    case ErrorKind::kServer:
      return "server";
    case ErrorKind::kTransport:
      return "transport";
    case ErrorKind::kAmbiguous:
      return "ambiguous";
    case ErrorKind::kInvalidResponse:
      return "invalid_response";
  }
  return "unknown";
}

std::string Error::message() const {
  const std::string op = operation.empty() ? std::string("request") : operation;
  const std::string status = http_status ? " (" + std::to_string(http_status) + ")" : "";
  const std::string field_part = field.empty() ? "" : " (field " + field + ")";
  switch (kind) {
    case ErrorKind::kUnauthorized:
      return "Linode rejected the API token (401): check linode.token_file or LINODE_TOKEN";
    case ErrorKind::kForbidden:
      return "Linode refused " + op + status +
             ": the API token needs the linodes:read_write scope" +
             (reason.empty() ? "" : " (" + reason + ")");
    case ErrorKind::kAmbiguous:
      return "Linode API " + op + " got no clear answer after the request was sent (" + reason +
             "): the instance may exist, list it by label before creating it again";
    default:
      return "Linode API " + op + " failed" + status + ": " + reason + field_part;
  }
}

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl could not be initialised (curl_global_init failed)");
  }
}
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

Error make_error(ErrorKind kind, int http_status, std::string reason, std::string field = {}) {
  Error error;
  error.kind = kind;
  error.http_status = http_status;
  error.reason = std::move(reason);
  error.field = std::move(field);
  return error;
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

constexpr size_t kMaxResponseBytes = 64u << 20;  // a 500-instance page is well under 2 MiB
constexpr int kPageSize = 500;                   // the API's maximum
constexpr int kMaxPages = 10000;                 // bound on pagination loops

struct HttpRequest {
  std::string method;         // GET, POST, DELETE
  std::string path;           // "/linode/instances/12?page=2"
  std::string path_template;  // "/linode/instances/{id}"
  std::string body;           // JSON, POST only
  std::string x_filter;
  std::string operation() const { return method + " " + path_template; }
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::optional<std::string> oauth_scopes;  // the X-OAuth-Scopes response header, if any
};

// POST /linode/instances: the one request that is not idempotent (and has its own rate limit).
bool is_create(const HttpRequest& request) {
  return request.method == "POST" && request.path_template == "/linode/instances";
}

using HttpDone = std::function<void(Result<HttpReply>)>;

struct Transfer {
  HttpRequest request;
  HttpDone done;
  int attempt = 0;
  Clock::time_point not_before;
  // A POST attempt that may have reached the API (5xx from a gateway, 408): a later
  // "Label must be unique" then probably means our own instance exists.
  bool maybe_processed = false;
  uint64_t sequence = 0;     // submission order: queued creates start oldest first
  bool rate_queued = false;  // waited at least once for a create slot (logged once)
  // Per attempt.
  EasyHandle easy;
  HeaderList headers;
  std::string response_body;
  Clock::time_point started;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

size_t write_body(char* data, size_t size, size_t count, void* user) noexcept {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->response_body.size() + bytes > kMaxResponseBytes) return 0;  // aborts
  try {
    transfer->response_body.append(data, bytes);
  } catch (...) {
    return 0;
  }
  return bytes;
}

bool is_retryable_status(int status) {
  return status == 429 || status == 408 || status == 502 || status == 503 || status == 504;
}

// Failures that happen before any byte of the request left this machine.
bool surely_not_sent(CURLcode code, CURL* easy) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return true;
    default:
      break;
  }
  curl_off_t pretransfer = 0;
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  return pretransfer == 0;
}

ErrorKind kind_for_status(int status) {
  switch (status) {
    case 400:
      return ErrorKind::kBadRequest;
    case 401:
      return ErrorKind::kUnauthorized;
    case 403:
      return ErrorKind::kForbidden;
    case 404:
      return ErrorKind::kNotFound;
    case 429:
      return ErrorKind::kRateLimited;
    default:
      return status >= 400 && status < 500 ? ErrorKind::kBadRequest : ErrorKind::kServer;
  }
}

// The shared state of one client. The worker thread holds a shared_ptr to it, so it stays
// alive even if the Client is destroyed from inside one of its own callbacks.
class Worker {
 public:
  explicit Worker(ClientConfig config) : config_(std::move(config)), rng_(std::random_device{}()) {
    if (config_.user_agent.empty()) config_.user_agent = "jvb-autoscaler/" JVB_VERSION;
    while (!config_.api_url.empty() && config_.api_url.back() == '/') config_.api_url.pop_back();
    config_.max_attempts = std::max(1, config_.max_attempts);
    multi_.reset(curl_multi_init());
    if (!multi_) throw std::runtime_error("libcurl could not create a multi handle");
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
  }

  const ClientConfig& config() const { return config_; }

  // Any thread, including the worker itself (follow-up requests from a completion).
  void submit(HttpRequest request, HttpDone done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->done = std::move(done);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // dropped, as documented
      transfer->sequence = ++submitted_;
      incoming_.push_back(std::move(transfer));
    }
    curl_multi_wakeup(multi_.get());
  }

  void request_stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_.get());
  }

  // Replaces every occurrence of the token: nothing the API or curl echoes can leak it.
  std::string scrub(std::string text) const {
    if (config_.token.empty()) return text;
    for (size_t at = text.find(config_.token); at != std::string::npos;
         at = text.find(config_.token, at)) {
      text.replace(at, config_.token.size(), "<redacted>");
    }
    return text;
  }

  void run() noexcept {
    try {
      loop();
    } catch (const std::exception& e) {
      spdlog::critical("linode client worker stopped: {}", scrub(e.what()));
    } catch (...) {
      spdlog::critical("linode client worker stopped on an unknown exception");
    }
    // Abandon everything still queued or in flight; callbacks are not called.
    for (auto& [easy, transfer] : running_) curl_multi_remove_handle(multi_.get(), easy);
    running_.clear();
    waiting_.clear();
    std::lock_guard lock(mutex_);
    incoming_.clear();
  }

 private:
  void loop() {
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        for (auto& transfer : incoming_) {
          transfer->not_before = Clock::now();
          waiting_.push_back(std::move(transfer));
        }
        incoming_.clear();
      }
      start_due_transfers();
      int still_running = 0;
      curl_multi_perform(multi_.get(), &still_running);
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
        if (message->msg != CURLMSG_DONE) continue;
        CURL* easy = message->easy_handle;
        const CURLcode code = message->data.result;
        curl_multi_remove_handle(multi_.get(), easy);
        auto node = running_.extract(easy);
        if (!node.empty()) finish(std::move(node.mapped()), code);
      }
      curl_multi_poll(multi_.get(), nullptr, 0, poll_timeout_ms(), nullptr);
    }
  }

  int poll_timeout_ms() const {
    long timeout = 1000;
    const auto now = Clock::now();
    for (const auto& transfer : waiting_) {
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(transfer->not_before - now).count();
      timeout = std::min<long>(timeout, std::max<long>(0, wait + 1));
    }
    long curl_timeout = -1;
    curl_multi_timeout(multi_.get(), &curl_timeout);
    if (curl_timeout >= 0) timeout = std::min(timeout, curl_timeout);
    return static_cast<int>(timeout);
  }

  void start_due_transfers() {
    // Take the due ones out first: start() may put a transfer back into waiting_ (a create
    // that must wait for a slot), which would invalidate an iterator over it.
    const auto now = Clock::now();
    std::vector<std::unique_ptr<Transfer>> due;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if ((*it)->not_before <= now) {
        due.push_back(std::move(*it));
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(due.begin(), due.end(),
              [](const auto& a, const auto& b) { return a->sequence < b->sequence; });
    for (auto& transfer : due) start(std::move(transfer));
  }

  // True when a create may start now (and books the slot); else sets when to try again.
  bool take_create_slot(Transfer& transfer) {
    if (config_.create_rate_limit <= 0) return true;
    const auto now = Clock::now();
    const auto window = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(std::max(0.0, config_.create_rate_window_seconds)));
    while (!create_starts_.empty() && create_starts_.front() + window <= now) {
      create_starts_.pop_front();
    }
    if (create_starts_.size() < static_cast<size_t>(config_.create_rate_limit)) {
      create_starts_.push_back(now);
      return true;
    }
    transfer.not_before = create_starts_.front() + window;
    if (!transfer.rate_queued) {
      transfer.rate_queued = true;
      spdlog::info(
          "linode: {} creates started in the last {:.0f}s (Linode's limit); queuing the next one "
          "for {:.1f}s",
          create_starts_.size(), config_.create_rate_window_seconds,
          std::chrono::duration<double>(transfer.not_before - now).count());
    }
    return false;
  }

  void start(std::unique_ptr<Transfer> transfer) {
    if (is_create(transfer->request) && !take_create_slot(*transfer)) {
      waiting_.push_back(std::move(transfer));
      return;
    }
    ++transfer->attempt;
    transfer->response_body.clear();
    transfer->error_buffer[0] = '\0';
    transfer->easy.reset(curl_easy_init());
    if (!transfer->easy) {
      fail(std::move(transfer),
           make_error(ErrorKind::kTransport, 0, "libcurl could not create a handle"));
      return;
    }
    CURL* easy = transfer->easy.get();
    const HttpRequest& request = transfer->request;
    curl_slist* headers = nullptr;
    const auto add_header = [&headers](const std::string& line) {
      if (curl_slist* grown = curl_slist_append(headers, line.c_str())) headers = grown;
    };
    add_header("Authorization: Bearer " + config_.token);
    add_header("Accept: application/json");
    add_header("Expect:");
    if (!request.body.empty()) add_header("Content-Type: application/json");
    if (!request.x_filter.empty()) add_header("X-Filter: " + request.x_filter);
    transfer->headers.reset(headers);

    const std::string url = config_.api_url + request.path;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, config_.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(config_.connect_timeout_seconds * 1000));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(config_.total_timeout_seconds * 1000));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
    if (request.method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
      // A POST is not idempotent: on a reused connection that died before the answer, libcurl
      // would silently send it again (a second create). A fresh connection makes that a clean
      // transport error we report as ambiguous, and the caller adopts by label.
      curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    } else if (request.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    transfer->started = Clock::now();
    if (curl_multi_add_handle(multi_.get(), easy) != CURLM_OK) {
      fail(std::move(transfer),
           make_error(ErrorKind::kTransport, 0, "libcurl refused the transfer"));
      return;
    }
    running_.emplace(easy, std::move(transfer));
  }

  void record(const Transfer& transfer, int status) {
    if (!config_.on_request) return;
    const double seconds = std::chrono::duration<double>(Clock::now() - transfer.started).count();
    try {
      config_.on_request(RequestRecord{transfer.request.method, transfer.request.path_template,
                                       status, seconds, transfer.attempt});
    } catch (...) {
      spdlog::error("linode: the on_request hook threw; ignored");
    }
  }

  // Seconds the server asked us to wait (Retry-After, else X-RateLimit-Reset), if any.
  static std::optional<double> server_requested_wait(CURL* easy) {
    curl_header* header = nullptr;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
      char* end = nullptr;
      const double seconds = std::strtod(header->value, &end);
      if (end != header->value && std::isfinite(seconds) && seconds >= 0) return seconds;
    }
    if (curl_easy_header(easy, "X-RateLimit-Reset", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
      char* end = nullptr;
      const double reset_epoch = std::strtod(header->value, &end);
      if (end != header->value && std::isfinite(reset_epoch)) {
        const double now_epoch =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        return std::max(0.0, reset_epoch - now_epoch);
      }
    }
    return std::nullopt;
  }

  void finish(std::unique_ptr<Transfer> transfer, CURLcode code) {
    CURL* easy = transfer->easy.get();
    const HttpRequest& request = transfer->request;
    // Only a create is ambiguous when unanswered; other POSTs (shutdown) are idempotent.
    const bool is_post = is_create(request);
    if (code != CURLE_OK) {
      record(*transfer, 0);
      const std::string what = transfer->error_buffer[0] ? std::string(transfer->error_buffer)
                                                         : std::string(curl_easy_strerror(code));
      if (is_post && !surely_not_sent(code, easy)) {
        spdlog::warn("linode: {} {} sent but unanswered: {}", request.method, request.path,
                     scrub(what));
        fail(std::move(transfer), make_error(ErrorKind::kAmbiguous, 0, scrub(what)));
        return;
      }
      retry_or_fail(std::move(transfer), std::nullopt,
                    make_error(ErrorKind::kTransport, 0, scrub(what)));
      return;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    record(*transfer, static_cast<int>(status));
    spdlog::debug("linode: {} {} -> {} (attempt {})", request.method, request.path, status,
                  transfer->attempt);
    if (status >= 200 && status < 300) {
      HttpReply reply{static_cast<int>(status), std::move(transfer->response_body), std::nullopt};
      curl_header* scopes = nullptr;
      if (curl_easy_header(easy, "X-OAuth-Scopes", 0, CURLH_HEADER, -1, &scopes) == CURLHE_OK) {
        reply.oauth_scopes = std::string(scopes->value);
      }
      deliver(*transfer, Result<HttpReply>(std::move(reply)));
      return;
    }
    Error error =
        make_error(kind_for_status(static_cast<int>(status)), static_cast<int>(status), "");
    if (auto api = codec::parse_error_body(transfer->response_body)) {
      error.reason = scrub(api->reason);
      error.field = scrub(api->field);
    }
    if (error.reason.empty()) error.reason = "HTTP status " + std::to_string(status);
    if (is_retryable_status(static_cast<int>(status))) {
      if (is_post && status != 429) transfer->maybe_processed = true;
      retry_or_fail(std::move(transfer), server_requested_wait(easy), std::move(error));
      return;
    }
    error.http_status = static_cast<int>(status);
    if (is_post && transfer->maybe_processed && is_label_taken(error)) {
      // An earlier attempt most likely created the instance; let the caller adopt it. Any other
      // 400 (a refused region, image, or a label the API's rules refuse) stays a plain
      // kBadRequest: the request was understood and refused, nothing was created.
      error.kind = ErrorKind::kAmbiguous;
    }
    fail(std::move(transfer), std::move(error));
  }

  double backoff_seconds(int attempt, std::optional<double> server_wait) {
    const double ceiling =
        std::min(config_.backoff_max_seconds,
                 config_.backoff_initial_seconds * std::pow(2.0, std::min(attempt - 1, 30)));
    // Full jitter: spread retries of many clients over the whole window.
    const double jitter = std::uniform_real_distribution<double>(0.0, std::max(0.0, ceiling))(rng_);
    if (server_wait) return std::max(jitter, std::min(*server_wait, config_.backoff_max_seconds));
    return jitter;
  }

  void retry_or_fail(std::unique_ptr<Transfer> transfer, std::optional<double> server_wait,
                     Error error) {
    if (transfer->attempt >= config_.max_attempts) {
      spdlog::warn("linode: {} {} gave up after {} attempts: {}", transfer->request.method,
                   transfer->request.path, transfer->attempt, error.reason);
      fail(std::move(transfer), std::move(error));
      return;
    }
    const double wait = backoff_seconds(transfer->attempt, server_wait);
    spdlog::warn("linode: {} {} attempt {} failed ({}{}); retrying in {:.2f}s",
                 transfer->request.method, transfer->request.path, transfer->attempt,
                 error.http_status ? std::to_string(error.http_status) + " " : "", error.reason,
                 wait);
    transfer->easy.reset();
    transfer->headers.reset();
    transfer->not_before = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(wait));
    waiting_.push_back(std::move(transfer));
  }

  void fail(std::unique_ptr<Transfer> transfer, Error error) {
    error.operation = transfer->request.operation();
    deliver(*transfer, Result<HttpReply>(std::move(error)));
  }

  static void deliver(Transfer& transfer, Result<HttpReply> result) {
    try {
      transfer.done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("linode: a result callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("linode: a result callback threw an unknown exception");
    }
  }

  ClientConfig config_;
  std::mt19937_64 rng_;
  MultiHandle multi_;
  std::mutex mutex_;
  bool stopping_ = false;                            // guarded by mutex_
  std::vector<std::unique_ptr<Transfer>> incoming_;  // guarded by mutex_
  std::vector<std::unique_ptr<Transfer>> waiting_;   // worker thread only
  std::deque<Clock::time_point> create_starts_;      // worker thread only: recent creates
  uint64_t submitted_ = 0;                           // guarded by mutex_
  std::map<CURL*, std::unique_ptr<Transfer>> running_;
};

template <class T>
Error invalid_response(const std::string& operation, const std::string& what) {
  Error error = make_error(ErrorKind::kInvalidResponse, 200, "unexpected response body: " + what);
  error.operation = operation;
  return error;
}

// A strong throwaway root password: the API requires one when deploying an image, and the
// agent reaches bridges through authorized_keys/cloud-init only. It is never stored or logged.
std::string random_root_pass() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#%^*-_=+";
  std::random_device device;
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string pass;
  for (int i = 0; i < 40; ++i) pass += kAlphabet[pick(device)];
  return pass;
}

class CurlClient final : public Client {
 public:
  explicit CurlClient(ClientConfig config) : worker_(std::make_shared<Worker>(std::move(config))) {
    thread_ = std::thread([worker = worker_] { worker->run(); });
  }
  ~CurlClient() override { shutdown(); }

  void create_instance(CreateRequest request, Callback<Instance> callback) override {
    // Deploying an image requires root_pass; generate one when none is configured.
    if (!request.root_pass && !request.image.empty()) request.root_pass = random_root_pass();
    HttpRequest http{"POST", "/linode/instances", "/linode/instances",
                     codec::create_body(request).dump(), ""};
    worker_->submit(std::move(http), [callback = std::move(callback)](Result<HttpReply> reply) {
      callback(parse_one(reply, "POST /linode/instances"));
    });
  }

  void list_instances(ListFilter filter, Callback<std::vector<Instance>> callback) override {
    auto state = std::make_shared<ListState>();
    state->filter = std::move(filter);
    state->x_filter = codec::x_filter(state->filter);
    state->callback = std::move(callback);
    fetch_page(worker_, state, 1);
  }

  void get_instance(int64_t id, Callback<Instance> callback) override {
    worker_->submit(get_request(id), [callback = std::move(callback)](Result<HttpReply> reply) {
      callback(parse_one(reply, "GET /linode/instances/{id}"));
    });
  }

  void delete_instance(int64_t id, Callback<Done> callback) override {
    HttpRequest http{"DELETE", "/linode/instances/" + std::to_string(id), "/linode/instances/{id}",
                     "", ""};
    worker_->submit(std::move(http), [callback = std::move(callback), id](Result<HttpReply> reply) {
      if (reply.ok()) return callback(Done{});
      if (reply.error().kind == ErrorKind::kNotFound) {
        spdlog::info("linode: instance {} was already gone (404 on DELETE)", id);
        return callback(Done{});
      }
      callback(reply.error());
    });
  }

  void get_ips(int64_t id, Callback<Instance> callback) override {
    std::weak_ptr<Worker> weak = worker_;
    worker_->submit(get_request(id), [weak, id, callback = std::move(callback)](
                                         Result<HttpReply> reply) mutable {
      Result<Instance> instance = parse_one(reply, "GET /linode/instances/{id}");
      auto worker = weak.lock();
      if (!instance.ok() || !worker) return callback(std::move(instance));
      HttpRequest ips{"GET", "/linode/instances/" + std::to_string(id) + "/ips",
                      "/linode/instances/{id}/ips", "", ""};
      worker->submit(std::move(ips), [instance = std::move(instance).value(),
                                      callback = std::move(callback)](
                                         Result<HttpReply> ips_reply) mutable {
        if (!ips_reply.ok()) return callback(ips_reply.error());
        try {
          codec::apply_ips(json::parse(ips_reply.value().body), instance);
        } catch (const std::exception& e) {
          return callback(invalid_response<Instance>("GET /linode/instances/{id}/ips", e.what()));
        }
        callback(std::move(instance));
      });
    });
  }

  void shutdown_instance(int64_t id, Callback<Done> callback) override {
    HttpRequest http{"POST", "/linode/instances/" + std::to_string(id) + "/shutdown",
                     "/linode/instances/{id}/shutdown", "{}", ""};
    worker_->submit(std::move(http), [callback = std::move(callback)](Result<HttpReply> reply) {
      if (!reply.ok()) return callback(reply.error());
      callback(Done{});
    });
  }

  void get_region(std::string id, Callback<Region> callback) override {
    get_one<Region>("/regions/" + codec::path_escape(id), "/regions/{id}", codec::parse_region,
                    std::move(callback));
  }
  void get_image(std::string id, Callback<Image> callback) override {
    get_one<Image>("/images/" + codec::path_escape(id), "/images/{id}", codec::parse_image,
                   std::move(callback));
  }
  void get_type(std::string id, Callback<InstanceType> callback) override {
    get_one<InstanceType>("/linode/types/" + codec::path_escape(id), "/linode/types/{id}",
                          codec::parse_type, std::move(callback));
  }
  void get_firewall(int64_t id, Callback<Firewall> callback) override {
    get_one<Firewall>("/networking/firewalls/" + std::to_string(id), "/networking/firewalls/{id}",
                      codec::parse_firewall, std::move(callback));
  }
  void get_profile(Callback<Profile> callback) override {
    worker_->submit(HttpRequest{"GET", "/profile", "/profile", "", ""},
                    [callback = std::move(callback)](Result<HttpReply> reply) {
                      if (!reply.ok()) return callback(reply.error());
                      try {
                        Profile profile = codec::parse_profile(json::parse(reply.value().body));
                        profile.token_scopes = reply.value().oauth_scopes;
                        callback(std::move(profile));
                      } catch (const std::exception& e) {
                        callback(invalid_response<Profile>("GET /profile", e.what()));
                      }
                    });
  }
  void get_grants(Callback<Grants> callback) override {
    worker_->submit(HttpRequest{"GET", "/profile/grants", "/profile/grants", "", ""},
                    [callback = std::move(callback)](Result<HttpReply> reply) {
                      if (!reply.ok()) return callback(reply.error());
                      // "204: this is an unrestricted user, and therefore has no grants".
                      if (reply.value().status == 204 || reply.value().body.empty()) {
                        return callback(Grants{true, true});
                      }
                      try {
                        callback(codec::parse_grants(json::parse(reply.value().body)));
                      } catch (const std::exception& e) {
                        callback(invalid_response<Grants>("GET /profile/grants", e.what()));
                      }
                    });
  }

  void shutdown() override {
    worker_->request_stop();
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // called from a callback: the worker exits on its own
    } else {
      thread_.join();
    }
  }

 private:
  struct ListState {
    ListFilter filter;
    std::string x_filter;
    Callback<std::vector<Instance>> callback;
    std::vector<Instance> instances;
    std::unordered_set<int64_t> seen_ids;
  };

  template <class T, class Parse>
  void get_one(std::string path, std::string path_template, Parse parse, Callback<T> callback) {
    const std::string op = "GET " + path_template;
    worker_->submit(HttpRequest{"GET", std::move(path), std::move(path_template), "", ""},
                    [op, parse, callback = std::move(callback)](Result<HttpReply> reply) {
                      if (!reply.ok()) return callback(reply.error());
                      try {
                        callback(parse(json::parse(reply.value().body)));
                      } catch (const std::exception& e) {
                        callback(invalid_response<T>(op, e.what()));
                      }
                    });
  }

  static HttpRequest get_request(int64_t id) {
    return HttpRequest{"GET", "/linode/instances/" + std::to_string(id), "/linode/instances/{id}",
                       "", ""};
  }

  static Result<Instance> parse_one(const Result<HttpReply>& reply, const std::string& op) {
    if (!reply.ok()) return reply.error();
    try {
      return codec::parse_instance(json::parse(reply.value().body));
    } catch (const std::exception& e) {
      return invalid_response<Instance>(op, e.what());
    }
  }

  static void fetch_page(const std::shared_ptr<Worker>& worker,
                         const std::shared_ptr<ListState>& state, int page) {
    HttpRequest http{"GET",
                     "/linode/instances?page=" + std::to_string(page) +
                         "&page_size=" + std::to_string(kPageSize),
                     "/linode/instances", "", state->x_filter};
    std::weak_ptr<Worker> weak = worker;
    worker->submit(std::move(http), [weak, state, page](Result<HttpReply> reply) {
      const std::string op = "GET /linode/instances";
      if (!reply.ok()) return state->callback(reply.error());
      int pages = 1;
      try {
        const json body = json::parse(reply.value().body);
        pages = body.at("pages").get<int>();
        for (const json& item : body.at("data")) {
          Instance instance = codec::parse_instance(item);
          // Pages can shift while we read them; keep each instance once.
          if (!state->seen_ids.insert(instance.id).second) continue;
          if (codec::matches(instance, state->filter)) {
            state->instances.push_back(std::move(instance));
          }
        }
      } catch (const std::exception& e) {
        return state->callback(invalid_response<std::vector<Instance>>(op, e.what()));
      }
      if (page < pages && page < kMaxPages) {
        if (auto worker = weak.lock()) fetch_page(worker, state, page + 1);
        return;
      }
      state->callback(std::move(state->instances));
    });
  }

  std::shared_ptr<Worker> worker_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Client> make_curl_client(ClientConfig config) {
  return std::make_unique<CurlClient>(std::move(config));
}

}  // namespace linode
