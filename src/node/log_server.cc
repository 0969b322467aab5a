#include "log_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <map>

#include "kvol/api/meta.h"

namespace kvol::node {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

int FromHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && FromHex(s[i + 1]) >= 0 && FromHex(s[i + 2]) >= 0) {
      out += static_cast<char>(FromHex(s[i + 1]) * 16 + FromHex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

Result<bool> Bool(const std::string& name, const std::string& v) {
  if (v.empty() || v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return BadRequest("invalid " + name + " \"" + v + "\": must be true or false");
}

Result<int64_t> NonNegative(const std::string& name, const std::string& v, int64_t min) {
  try {
    size_t pos = 0;
    int64_t n = std::stoll(v, &pos);
    if (pos != v.size() || n < min) throw std::invalid_argument(v);
    return n;
  } catch (...) {
    return BadRequest("invalid " + name + " \"" + v +
                      "\": must be an integer >= " + std::to_string(min));
  }
}

}  // namespace

Result<LogQuery> ParseLogTarget(const std::string& target, int64_t nowUnix) {
  std::string path = target, query;
  if (auto q = target.find('?'); q != std::string::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  auto parts = Split(path, '/');
  // "", "containerLogs", ns, pod, container
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "containerLogs" || parts[2].empty() ||
      parts[3].empty() || parts[4].empty()) {
    return NotFound("404 page not found");
  }
  LogQuery q;
  q.ns = UrlDecode(parts[2]);
  q.pod = UrlDecode(parts[3]);
  q.container = UrlDecode(parts[4]);
  bool haveSince = false, haveSinceTime = false;
  for (const auto& kv : Split(query, '&')) {
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string k = UrlDecode(kv.substr(0, eq));
    std::string v = eq == std::string::npos ? "" : UrlDecode(kv.substr(eq + 1));
    if (k == "follow") {
      KVOL_ASSIGN_OR_RETURN(q.opts.follow, Bool(k, v));
    } else if (k == "previous") {
      KVOL_ASSIGN_OR_RETURN(q.previous, Bool(k, v));
    } else if (k == "timestamps") {
      KVOL_ASSIGN_OR_RETURN(q.opts.timestamps, Bool(k, v));
    } else if (k == "tailLines") {
      KVOL_ASSIGN_OR_RETURN(int64_t n, NonNegative(k, v, 0));
      q.opts.tailLines = n;
    } else if (k == "limitBytes") {
      KVOL_ASSIGN_OR_RETURN(int64_t n, NonNegative(k, v, 1));
      q.opts.limitBytes = n;
    } else if (k == "sinceSeconds") {
      KVOL_ASSIGN_OR_RETURN(int64_t n, NonNegative(k, v, 1));
      q.opts.sinceSeconds = n;
      haveSince = true;
    } else if (k == "sinceTime") {
      int64_t t = api::ParseTime(v);
      if (t == 0) return BadRequest("invalid sinceTime \"" + v + "\": must be an RFC 3339 time");
      q.opts.sinceSeconds = std::max<int64_t>(nowUnix - t, 0);
      haveSinceTime = true;
    }
    // Other parameters (insecureSkipTLSVerifyBackend, pretty...) are ignored, as the kubelet does.
  }
  if (haveSince && haveSinceTime) {
    return BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
  }
  return q;
}

LogServer::LogServer(std::string token, Resolver resolver)
    : token_(std::move(token)), resolver_(std::move(resolver)) {}

LogServer::~LogServer() { Stop(); }

Result<int> LogServer::Start() {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) return Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listenFd_, 64) != 0 ||
      ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Status s = Internal(std::string("log server listen: ") + std::strerror(errno));
    ::close(listenFd_);
    listenFd_ = -1;
    return s;
  }
  stop_ = false;
  acceptThread_ = std::thread([this] { AcceptLoop(); });
  return static_cast<int>(ntohs(a.sin_port));
}

void LogServer::Stop() {
  if (listenFd_ < 0) return;
  stop_ = true;
  ::shutdown(listenFd_, SHUT_RDWR);
  if (acceptThread_.joinable()) acceptThread_.join();
  ::close(listenFd_);
  listenFd_ = -1;
  std::unique_lock<std::mutex> l(mu_);
  for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
  done_.wait(l, [this] { return active_ == 0; });
}

void LogServer::AcceptLoop() {
  while (!stop_) {
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stop_) break;
      if (errno == EMFILE || errno == ENFILE) {
        ::usleep(50 * 1000);
        continue;
      }
      break;  // the listener was shut down
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) {
        ::close(fd);
        break;
      }
      conns_.insert(fd);
      ++active_;
    }
    std::thread([this, fd] {
      Serve(fd);
      std::lock_guard<std::mutex> l(mu_);
      conns_.erase(fd);
      --active_;
      done_.notify_all();
    }).detach();
  }
}

void LogServer::Serve(int fd) {
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  beast::error_code ec;
  sock.assign(net::ip::tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  auto reply = [&](http::status code, const std::string& body) {
    http::response<http::string_body> res{code, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::connection, "close");
    res.body() = body;
    res.prepare_payload();
    http::write(sock, res, ec);
  };
  beast::flat_buffer buf;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  http::read(sock, buf, parser, ec);
  if (ec) return;  // the socket closes with `sock`
  const auto& req = parser.get();
  std::string auth(req[http::field::authorization]);
  if (token_.empty() || auth != "Bearer " + token_) {
    reply(http::status::unauthorized, "Unauthorized");
    return;
  }
  if (req.method() != http::verb::get) {
    reply(http::status::method_not_allowed, "405 method not allowed");
    return;
  }
  auto q = ParseLogTarget(std::string(req.target()), static_cast<int64_t>(time(nullptr)));
  Result<Resolved> res = q.ok() ? resolver_(*q) : Result<Resolved>(q.status());
  if (!res.ok()) {
    reply(res.status().IsNotFound() ? http::status::not_found : http::status::bad_request,
          res.status().message());
    return;
  }
  if (!q->opts.follow) {
    std::string body;
    Status s = runtime::ReadCriLog(res->path, q->opts, [&](const std::string& t) {
      body += t;
      return true;
    });
    if (!s.ok() && !s.IsNotFound()) {
      reply(http::status::internal_server_error, s.message());
      return;
    }
    reply(http::status::ok, body);
    return;
  }
  // Follow: chunked until the container exits, the client goes, or the server stops.
  http::response<http::empty_body> head{http::status::ok, 11};
  head.set(http::field::content_type, "text/plain; charset=utf-8");
  head.set(http::field::connection, "close");
  head.chunked(true);
  http::response_serializer<http::empty_body> sr{head};
  http::write_header(sock, sr, ec);
  if (ec) return;
  auto clientGone = [fd] {
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
  };
  auto isDone = [&] { return stop_.load() || clientGone() || (res->isDone && res->isDone()); };
  Status s = runtime::ReadCriLog(
      res->path, q->opts,
      [&](const std::string& t) {
        if (t.empty()) return true;
        net::write(sock, http::make_chunk(net::buffer(t)), ec);
        return !ec;
      },
      isDone);
  (void)s;
  if (!ec) net::write(sock, http::make_chunk_last(), ec);
}

}  // namespace kvol::node
