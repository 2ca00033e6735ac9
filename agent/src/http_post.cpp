#include "agent/http_post.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>

#include "jvb/version.h"

namespace agent {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

bool parse_http_url(const std::string& url, HttpUrl& out, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    error = "only http:// URLs are supported, got \"" + url + "\"";
    return false;
  }
  std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      error = "unbalanced '[' in \"" + url + "\"";
      return false;
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      out.port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.port.empty()) {
    error = "no host or port in \"" + url + "\"";
    return false;
  }
  return true;
}

namespace {

// One request; keeps itself alive through the shared_ptr captured by each handler.
class PostSession : public std::enable_shared_from_this<PostSession> {
 public:
  PostSession(boost::asio::io_context& io, HttpUrl url, std::string body, double timeout,
              std::function<void(HttpOutcome)> done)
      : resolver_(io),
        stream_(io),
        url_(std::move(url)),
        done_(std::move(done)),
        timeout_(std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000))) {
    request_.method(http::verb::post);
    request_.target(url_.target);
    request_.version(11);
    request_.set(http::field::host, url_.host + ":" + url_.port);
    request_.set(http::field::user_agent, std::string("jvb-autoscaler/") + JVB_VERSION);
    request_.set(http::field::content_type, "application/json");
    request_.body() = std::move(body);
    request_.prepare_payload();
  }

  void start() {
    resolver_.async_resolve(
        url_.host, url_.port,
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) return self->finish(0, "cannot resolve host: " + ec.message());
          self->stream_.expires_after(self->timeout_);
          self->stream_.async_connect(results, [self](beast::error_code ec2, const tcp::endpoint&) {
            self->on_connect(ec2);
          });
        });
  }

 private:
  void on_connect(beast::error_code ec) {
    if (ec) return finish(0, "cannot connect: " + ec.message());
    stream_.expires_after(timeout_);
    http::async_write(stream_, request_,
                      [self = shared_from_this()](beast::error_code ec2, std::size_t) {
                        if (ec2) return self->finish(0, "cannot send request: " + ec2.message());
                        self->read();
                      });
  }

  void read() {
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, response_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->finish(0, "no answer: " + ec.message());
                       self->finish(static_cast<int>(self->response_.result_int()), "");
                     });
  }

  void finish(int status, std::string error) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (done_) {
      auto done = std::move(done_);
      done_ = nullptr;
      done(HttpOutcome{status, std::move(error)});
    }
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  HttpUrl url_;
  std::function<void(HttpOutcome)> done_;
  std::chrono::steady_clock::duration timeout_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  beast::flat_buffer buffer_;
};

}  // namespace

void async_http_post(boost::asio::io_context& io, const std::string& url, std::string body,
                     double timeout_seconds, std::function<void(HttpOutcome)> done) {
  HttpUrl parsed;
  std::string error;
  if (!parse_http_url(url, parsed, error)) {
    boost::asio::post(io, [done = std::move(done), error] { done(HttpOutcome{0, error}); });
    return;
  }
  std::make_shared<PostSession>(io, std::move(parsed), std::move(body), timeout_seconds,
                                std::move(done))
      ->start();
}

}  // namespace agent
