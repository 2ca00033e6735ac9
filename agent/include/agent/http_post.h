#pragma once
// A minimal asynchronous HTTP/1.1 POST on the agent's io_context (Boost.Beast), used for the
// bridge drain request. Plain http:// only: the JVB private REST API listens without TLS on
// the private network.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace agent {

struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};
// Parses "http://host[:port]/path"; returns false (and sets `error`) for anything else.
bool parse_http_url(const std::string& url, HttpUrl& out, std::string& error);

struct HttpOutcome {
  int status = 0;     // 0: no HTTP answer (connection refused, timeout, ...)
  std::string error;  // one sentence when status is 0
};

// POSTs `body` (JSON) to `url`; `done` runs on `io` once, after an answer or `timeout_seconds`.
void async_http_post(boost::asio::io_context& io, const std::string& url, std::string body,
                     double timeout_seconds, std::function<void(HttpOutcome)> done);

// The bridge's REST API as the actuator uses it (drain, later undrain and graceful shutdown):
// an interface so that in-process tests replace the network.
class DrainClient {
 public:
  virtual ~DrainClient() = default;
  // POSTs `body` to `url`; `done` runs on the agent's io_context once.
  virtual void post(const std::string& url, std::string body, std::chrono::milliseconds timeout,
                    std::function<void(HttpOutcome)> done) = 0;
};

// The real one: async_http_post on `io`.
class HttpDrainClient final : public DrainClient {
 public:
  explicit HttpDrainClient(boost::asio::io_context& io) : io_(io) {}
  void post(const std::string& url, std::string body, std::chrono::milliseconds timeout,
            std::function<void(HttpOutcome)> done) override {
    async_http_post(io_, url, std::move(body), std::chrono::duration<double>(timeout).count(),
                    std::move(done));
  }

 private:
  boost::asio::io_context& io_;
};

}  // namespace agent
