// ApiClient: synchronous HTTP/1.1 over Boost.Beast. Every operation is started asynchronously and
// driven by io_context::run with the stream's expiry as its timeout, so a dead server cannot hang
// the CLI.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

#include "kvol/client/client.h"

namespace kvol::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Endpoint {
  std::string host, port, basePath;
};

Result<Endpoint> ParseServer(const std::string& server) {
  std::string rest;
  if (server.rfind("http://", 0) == 0) {
    rest = server.substr(7);
  } else if (server.rfind("https://", 0) == 0) {
    return Status(Code::kUnavailable, "https servers are not supported by this kvol client yet");
  } else {
    rest = server;
  }
  Endpoint e;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    e.basePath = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (!e.basePath.empty() && e.basePath.back() == '/') e.basePath.pop_back();
  if (!rest.empty() && rest[0] == '[') {  // [::1]:port
    auto close = rest.find(']');
    if (close == std::string::npos) return Status(Code::kBadRequest, "bad server " + server);
    e.host = rest.substr(1, close - 1);
    e.port = close + 2 <= rest.size() ? rest.substr(close + 2) : "80";
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    e.port = rest.substr(colon + 1);
  } else {
    e.host = rest;
    e.port = "80";
  }
  if (e.port.empty()) e.port = "80";
  return e;
}

// One connection with its buffer.
struct Conn {
  explicit Conn(net::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool open = false;
};

}  // namespace

struct ApiClient::Impl {
  net::io_context ioc;
  std::optional<Endpoint> ep;
  Status epStatus;
  std::unique_ptr<Conn> conn;

  // Runs the io_context until the started operation completes.
  void Run() {
    ioc.restart();
    ioc.run();
  }

  Status Connect(Conn& c, Clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto results = resolver.resolve(ep->host, ep->port, ec);
    if (ec) return Status(Code::kUnavailable, "dial tcp: lookup " + ep->host + ": " + ec.message());
    c.stream.expires_at(deadline);
    beast::error_code cec;
    c.stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { cec = e; });
    Run();
    if (cec == beast::error::timeout) return Status(Code::kTimeout, "dial tcp: i/o timeout");
    if (cec) return Status(Code::kUnavailable, cec.message());
    c.stream.socket().set_option(tcp::no_delay(true), ec);
    c.open = true;
    return Status::Ok();
  }

  http::request<http::string_body> MakeRequest(const std::string& token, const std::string& method,
                                               const std::string& target, const std::string& body,
                                               const std::string& contentType,
                                               const std::string& accept) {
    http::request<http::string_body> req{http::string_to_verb(method), ep->basePath + target, 11};
    req.set(http::field::host, ep->host + ":" + ep->port);
    req.set(http::field::user_agent, "kvol/0.1.0");
    if (!accept.empty()) req.set(http::field::accept, accept);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!contentType.empty()) req.set(http::field::content_type, contentType);
    req.body() = body;
    req.prepare_payload();
    return req;
  }
};

ApiClient::ApiClient(Kubeconfig cfg) : cfg_(std::move(cfg)), impl_(std::make_unique<Impl>()) {
  auto ep = ParseServer(cfg_.server);
  if (ep.ok()) {
    impl_->ep = *ep;
  } else {
    impl_->epStatus = ep.status();
  }
}

ApiClient::~ApiClient() = default;

Result<HttpResult> ApiClient::Do(const std::string& method, const std::string& target,
                                 const std::string& body, const std::string& contentType,
                                 const std::string& accept, double timeoutSec) {
  Impl& im = *impl_;
  if (!im.ep) return im.epStatus;
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeoutSec * 1000));
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = im.conn && im.conn->open;
    if (!reused) {
      im.conn = std::make_unique<Conn>(im.ioc);
      KVOL_RETURN_IF_ERROR(im.Connect(*im.conn, deadline));
    }
    Conn& c = *im.conn;
    auto req = im.MakeRequest(cfg_.token, method, target, body, contentType, accept);
    c.stream.expires_at(deadline);
    beast::error_code wec;
    http::async_write(c.stream, req, [&](beast::error_code e, std::size_t) { wec = e; });
    im.Run();
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    beast::error_code rec = wec;
    if (!wec) {
      http::async_read(c.stream, c.buffer, parser,
                       [&](beast::error_code e, std::size_t) { rec = e; });
      im.Run();
    }
    if (rec) {
      c.open = false;
      im.conn.reset();
      if (rec == beast::error::timeout) return Status(Code::kTimeout, "context deadline exceeded");
      // A kept-alive connection the server closed meanwhile: retry once on a new one.
      if (reused && (rec == http::error::end_of_stream || rec == net::error::connection_reset ||
                     rec == net::error::broken_pipe || rec == net::error::eof)) {
        continue;
      }
      return Status(Code::kUnavailable, rec.message());
    }
    auto res = parser.release();
    HttpResult out;
    out.status = res.result_int();
    out.contentType = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (!res.keep_alive()) {
      c.open = false;
      im.conn.reset();
    }
    return out;
  }
  return Status(Code::kUnavailable, "connection closed by the server");
}

Status ApiClient::Watch(const std::string& target, const std::function<bool(const json&)>& onEvent,
                        Clock::time_point deadline, HttpResult* errorReply) {
  Impl& im = *impl_;
  if (!im.ep) return im.epStatus;
  Conn c(im.ioc);
  KVOL_RETURN_IF_ERROR(im.Connect(c, deadline));
  auto req = im.MakeRequest(cfg_.token, "GET", target, "", "", "application/json");
  c.stream.expires_at(deadline);
  beast::error_code ec;
  http::async_write(c.stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  im.Run();
  if (ec)
    return Status(ec == beast::error::timeout ? Code::kTimeout : Code::kUnavailable, ec.message());

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::async_read_header(c.stream, c.buffer, parser,
                          [&](beast::error_code e, std::size_t) { ec = e; });
  im.Run();
  if (ec)
    return Status(ec == beast::error::timeout ? Code::kTimeout : Code::kUnavailable, ec.message());
  int status = parser.get().result_int();

  std::string pending;  // bytes after the last complete line
  std::string whole;    // the whole body, for a non-200 reply
  char chunk[16384];
  bool stop = false;
  while (!parser.is_done() && !stop) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    ec = {};
    http::async_read_some(c.stream, c.buffer, parser,
                          [&](beast::error_code e, std::size_t) { ec = e; });
    im.Run();
    if (ec == http::error::need_buffer) ec = {};
    size_t n = sizeof chunk - parser.get().body().size;
    if (status != 200) {
      whole.append(chunk, n);
    } else {
      pending.append(chunk, n);
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string line = pending.substr(start, nl - start);
        if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
        json ev = json::parse(line, nullptr, false);
        if (ev.is_discarded()) continue;
        if (!onEvent(ev)) {
          stop = true;
          break;
        }
      }
      pending.erase(0, start);
    }
    if (ec) {
      if (ec == beast::error::timeout)
        return Status(Code::kTimeout, "timed out waiting for the condition");
      if (ec == http::error::end_of_stream || ec == net::error::eof) break;
      return Status(Code::kUnavailable, ec.message());
    }
  }
  if (status != 200) {
    if (errorReply) {
      errorReply->status = status;
      errorReply->body = whole;
    }
    return Status(Code::kBadRequest, "watch failed with HTTP " + std::to_string(status));
  }
  beast::error_code ignored;
  c.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return Status::Ok();
}

}  // namespace kvol::client
