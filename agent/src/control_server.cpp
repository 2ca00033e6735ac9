// The control socket server (see control_server.h).
#include "agent/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <set>
#include <utility>

namespace agent {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

const std::set<std::string>& default_control_commands() {
  static const std::set<std::string> commands(kControlCommandNames.begin(),
                                              kControlCommandNames.end());
  return commands;
}

namespace {

nlohmann::json error_reply(const std::string& message) {
  return {{"ok", false}, {"error", message}};
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the operator does not
// need that part.
std::string without_exception_id(const std::string& message) {
  if (!message.empty() && message.front() == '[') {
    if (auto end = message.find("] "); end != std::string::npos) return message.substr(end + 2);
  }
  return message;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

class Session;

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(asio::io_context& io_context, std::filesystem::path socket_path, Handler request_handler,
       std::set<std::string> commands)
      : io(io_context),
        path(std::move(socket_path)),
        handler(std::move(request_handler)),
        known_commands(std::move(commands)),
        acceptor(io_context) {}

  void open();
  void accept();
  void close();
  nlohmann::json answer(const std::string& line);

  asio::io_context& io;
  std::filesystem::path path;
  Handler handler;
  std::set<std::string> known_commands;
  Local::acceptor acceptor;
  std::set<std::shared_ptr<Session>> sessions;
  bool closed = false;
  std::chrono::milliseconds idle_timeout = ControlServer::kDefaultIdleTimeout;
  // Identity of the socket file we bound, so close() never removes another daemon's socket.
  dev_t bound_device = 0;
  ino_t bound_inode = 0;
};

namespace {

// One client connection: read a line, answer it, repeat. Strictly one request at a time.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Local::socket socket, std::shared_ptr<ControlServer::Impl> server)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        server_(std::move(server)) {}

  void start() { read_next(); }

  // Sends one last reply (e.g. "too many clients") and closes.
  void refuse(const std::string& message) { send(error_reply(message), /*then_close=*/true); }

  void close() {
    idle_timer_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(Local::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void read_next() {
    // Closing the socket on expiry makes the pending read complete with an error.
    idle_timer_.expires_after(server_->idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error != asio::error::operation_aborted) self->close();
    });
    // The bound makes a client that never sends a newline cost at most 64 KiB.
    asio::async_read_until(socket_,
                           asio::dynamic_buffer(buffer_, ControlServer::kMaxRequestBytes + 1), '\n',
                           [self = shared_from_this()](const boost::system::error_code& error,
                                                       std::size_t n) { self->on_read(error, n); });
  }

  void on_read(const boost::system::error_code& error, std::size_t n) {
    idle_timer_.cancel();
    if (server_->closed) return finish();
    if (error == asio::error::not_found) {
      return send(error_reply("request too long"), /*then_close=*/true);
    }
    if (error == asio::error::eof && !buffer_.empty()) {
      // The client sent its last request without a newline and shut down its side.
      std::string line = std::exchange(buffer_, {});
      return send(server_->answer(line), /*then_close=*/true);
    }
    if (error) return finish();
    std::string line = buffer_.substr(0, n - 1);
    buffer_.erase(0, n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) return read_next();  // blank line
    send(server_->answer(line), /*then_close=*/false);
  }

  void send(const nlohmann::json& reply, bool then_close) {
    outgoing_ = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    asio::async_write(socket_, asio::buffer(outgoing_),
                      [self = shared_from_this(), then_close](
                          const boost::system::error_code& error, std::size_t) {
                        if (error || then_close || self->server_->closed) return self->finish();
                        self->read_next();
                      });
  }

  void finish() {
    close();
    server_->sessions.erase(shared_from_this());
  }

  Local::socket socket_;
  asio::steady_timer idle_timer_;
  std::shared_ptr<ControlServer::Impl> server_;
  std::string buffer_;
  std::string outgoing_;
};

}  // namespace

void ControlServer::Impl::open() {
  std::error_code fs_error;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), fs_error);
    if (fs_error) {
      throw ControlServerError("cannot create the directory of control socket " + path.string() +
                               ": " + fs_error.message());
    }
  }
  Local::endpoint endpoint;
  try {
    endpoint = Local::endpoint(path.string());
  } catch (const std::exception&) {
    throw ControlServerError("control socket path " + path.string() +
                             " is too long for a Unix socket (at most 107 bytes)");
  }

  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      throw ControlServerError("control socket path " + path.string() +
                               " exists and is not a socket; refusing to replace it");
    }
    Local::socket probe(io);
    boost::system::error_code connect_error;
    probe.connect(endpoint, connect_error);
    if (!connect_error) {
      throw ControlServerError("another jvb-autoscaler is already listening on " + path.string());
    }
    if (connect_error != asio::error::connection_refused) {
      throw ControlServerError("cannot check the existing control socket " + path.string() + ": " +
                               connect_error.message());
    }
    // Nobody answers: a socket left by a daemon that died. Safe to replace.
    spdlog::warn("control socket {}: removing a stale socket file left by a previous run",
                 path.string());
    std::filesystem::remove(path, fs_error);
  }

  boost::system::error_code error;
  acceptor.open(Local(), error);
  if (!error) acceptor.bind(endpoint, error);
  if (error) {
    throw ControlServerError("cannot bind control socket " + path.string() + ": " +
                             error.message());
  }
  // Before listen(): nobody can connect while the mode is still the umask's.
  if (::chmod(path.c_str(), 0660) != 0) {
    throw ControlServerError("cannot set mode 0660 on control socket " + path.string());
  }
  struct stat bound {};
  if (::stat(path.c_str(), &bound) == 0) {
    bound_device = bound.st_dev;
    bound_inode = bound.st_ino;
  }
  acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    throw ControlServerError("cannot listen on control socket " + path.string() + ": " +
                             error.message());
  }
}

void ControlServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& error,
                                                    Local::socket socket) {
    if (self->closed || error == asio::error::operation_aborted) return;
    if (!error) {
      auto session = std::make_shared<Session>(std::move(socket), self);
      self->sessions.insert(session);
      if (self->sessions.size() > kMaxClients) {
        session->refuse("too many clients on the control socket; try again later");
      } else {
        session->start();
      }
    } else {
      spdlog::warn("control socket {}: accept failed: {}", self->path.string(), error.message());
    }
    self->accept();
  });
}

nlohmann::json ControlServer::Impl::answer(const std::string& line) {
  nlohmann::json request;
  try {
    request = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return error_reply("malformed request: " + without_exception_id(e.what()));
  }
  if (!request.is_object()) {
    return error_reply("malformed request: expected a JSON object such as {\"cmd\":\"status\"}");
  }
  auto cmd = request.find("cmd");
  if (cmd == request.end() || !cmd->is_string()) {
    return error_reply("request has no \"cmd\" string (e.g. {\"cmd\":\"status\"})");
  }
  const auto& name = cmd->get_ref<const std::string&>();
  if (!known_commands.contains(name)) {
    return error_reply("unknown command \"" + name +
                       "\"; known commands: " + joined(known_commands));
  }
  try {
    nlohmann::json reply = handler(request);
    if (!reply.is_object()) reply = {{"ok", true}, {"result", std::move(reply)}};
    if (!reply.contains("ok")) reply["ok"] = true;
    return reply;
  } catch (const std::exception& e) {
    return error_reply(e.what());
  } catch (...) {
    return error_reply("internal error while handling \"" + name + "\"");
  }
}

void ControlServer::Impl::close() {
  if (closed) return;
  closed = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  for (const auto& session : sessions) session->close();
  sessions.clear();
  struct stat current {};
  if (bound_inode != 0 && ::lstat(path.c_str(), &current) == 0 && current.st_dev == bound_device &&
      current.st_ino == bound_inode) {
    std::error_code fs_error;
    std::filesystem::remove(path, fs_error);
  }
}

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path socket_path,
                             Handler handler, std::set<std::string> known_commands)
    : impl_(std::make_shared<Impl>(io, std::move(socket_path), std::move(handler),
                                   std::move(known_commands))) {
  impl_->open();
  impl_->accept();
}

ControlServer::~ControlServer() { close(); }

void ControlServer::close() { impl_->close(); }

void ControlServer::set_idle_timeout(std::chrono::milliseconds timeout) {
  impl_->idle_timeout = timeout;
}

const std::filesystem::path& ControlServer::socket_path() const { return impl_->path; }

}  // namespace agent
