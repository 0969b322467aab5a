// ApiClient: synchronous HTTP/1.1 (over TLS for https://) with Boost.Beast. Every operation is
// started asynchronously and driven by io_context::run with the TCP stream's expiry as its
// timeout, so a dead server cannot hang the CLI.
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <variant>

#include "kvol/client/client.h"

namespace kvol::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

struct Endpoint {
  std::string host, port, basePath;
  bool tls = false;
};

Result<Endpoint> ParseServer(const std::string& server) {
  std::string rest;
  Endpoint e;
  if (server.rfind("http://", 0) == 0) {
    rest = server.substr(7);
  } else if (server.rfind("https://", 0) == 0) {
    rest = server.substr(8);
    e.tls = true;
  } else {
    rest = server;
  }
  const char* defaultPort = e.tls ? "443" : "80";
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    e.basePath = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (!e.basePath.empty() && e.basePath.back() == '/') e.basePath.pop_back();
  if (!rest.empty() && rest[0] == '[') {  // [::1]:port
    auto close = rest.find(']');
    if (close == std::string::npos) return Status(Code::kBadRequest, "bad server " + server);
    e.host = rest.substr(1, close - 1);
    e.port = close + 2 <= rest.size() ? rest.substr(close + 2) : defaultPort;
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    e.port = rest.substr(colon + 1);
  } else {
    e.host = rest;
    e.port = defaultPort;
  }
  if (e.port.empty()) e.port = defaultPort;
  return e;
}

Result<std::string> DecodeBase64(const std::string& in) {
  std::string clean;
  for (char c : in)
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  if (clean.size() % 4 != 0) return Status(Code::kBadRequest, "illegal base64 data");
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return Status(Code::kBadRequest, "illegal base64 data");
  size_t pad = 0;
  while (pad < 2 && pad < clean.size() && clean[clean.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// The TLS client context for `cfg`: TLS 1.2+, ALPN http/1.1, the CA kubeconfig names.
Result<net::ssl::context> MakeTlsContext(const Kubeconfig& cfg) {
  net::ssl::context ctx(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx.native_handle(), kAlpn, sizeof kAlpn - 1);
  if (cfg.insecureSkipTlsVerify) {
    ctx.set_verify_mode(net::ssl::verify_none);
    return ctx;
  }
  ctx.set_verify_mode(net::ssl::verify_peer);
  std::string pem;
  if (!cfg.caData.empty()) {
    auto d = DecodeBase64(cfg.caData);
    if (!d.ok())
      return Status(Code::kBadRequest,
                    "unable to load root certificates: certificate-authority-"
                    "data is not base64");
    pem = *d;
  } else if (!cfg.caFile.empty()) {
    std::ifstream in(cfg.caFile, std::ios::binary);
    if (!in) {
      return Status(Code::kBadRequest, "unable to read certificate-authority " + cfg.caFile + ": " +
                                           std::strerror(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    pem = ss.str();
  }
  beast::error_code ec;
  if (pem.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.add_certificate_authority(net::buffer(pem), ec);
  }
  if (ec) return Status(Code::kBadRequest, "unable to load root certificates: " + ec.message());
  return ctx;
}

bool IsIpLiteral(const std::string& h) {
  beast::error_code ec;
  net::ip::make_address(h, ec);
  return !ec;
}

// One connection with its buffer: plain TCP, or TLS over TCP.
struct Conn {
  Conn(net::io_context& ioc, net::ssl::context* tls) {
    if (tls) {
      stream.emplace<TlsStream>(ioc, *tls);
    } else {
      stream.emplace<beast::tcp_stream>(ioc);
    }
    // Beast reads at most the buffer's free capacity, which starts at 512 bytes: a 7 KB pod
    // would take 14 reads (and 14 timer resets). One reservation makes it one.
    buffer.reserve(64 * 1024);
  }
  TlsStream* Tls() { return std::get_if<TlsStream>(&stream); }
  beast::tcp_stream& Tcp() {
    if (auto* t = Tls()) return beast::get_lowest_layer(*t);
    return std::get<beast::tcp_stream>(stream);
  }
  // Calls f with the stream HTTP goes through.
  template <typename F>
  void With(F&& f) {
    if (auto* t = Tls()) return f(*t);
    f(std::get<beast::tcp_stream>(stream));
  }
  std::variant<std::monostate, beast::tcp_stream, TlsStream> stream;
  beast::flat_buffer buffer;
  bool open = false;
};

}  // namespace

struct ApiClient::Impl {
  net::io_context ioc;
  std::optional<Endpoint> ep;
  Status epStatus;
  std::optional<net::ssl::context> tls;  // https: made once per client
  std::unique_ptr<Conn> conn;
  bool insecure = false;
  std::atomic<bool> interrupted{false};
  Conn* watching = nullptr;  // the running Watch's connection; used on the Watch's thread only

  static Status Interrupted() { return Status(Code::kUnavailable, "interrupted"); }

  std::unique_ptr<Conn> NewConn() { return std::make_unique<Conn>(ioc, tls ? &*tls : nullptr); }

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
    c.Tcp().expires_at(deadline);
    beast::error_code cec;
    c.Tcp().async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { cec = e; });
    Run();
    if (cec == beast::error::timeout) return Status(Code::kTimeout, "dial tcp: i/o timeout");
    if (cec) return Status(Code::kUnavailable, cec.message());
    c.Tcp().socket().set_option(tcp::no_delay(true), ec);
    if (auto* t = c.Tls()) {
      // SNI for names (not for IP literals, as Go does); the name or IP checked in the cert.
      if (!IsIpLiteral(ep->host)) SSL_set_tlsext_host_name(t->native_handle(), ep->host.c_str());
      if (!insecure) t->set_verify_callback(net::ssl::host_name_verification(ep->host));
      beast::error_code hec;
      t->async_handshake(net::ssl::stream_base::client, [&](beast::error_code e) { hec = e; });
      Run();
      if (hec == beast::error::timeout)
        return Status(Code::kTimeout, "net/http: TLS handshake timeout");
      if (hec) return Status(Code::kUnavailable, "tls: " + hec.message());
    }
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
  if (!ep.ok()) {
    impl_->epStatus = ep.status();
    return;
  }
  if (ep->tls) {
    auto ctx = MakeTlsContext(cfg_);
    if (!ctx.ok()) {
      impl_->epStatus = ctx.status();
      return;
    }
    impl_->tls.emplace(std::move(ctx).value());
    impl_->insecure = cfg_.insecureSkipTlsVerify;
  }
  impl_->ep = *ep;
}

ApiClient::~ApiClient() = default;

Result<HttpResult> ApiClient::Do(const std::string& method, const std::string& target,
                                 const std::string& body, const std::string& contentType,
                                 const std::string& accept, double timeoutSec) {
  Impl& im = *impl_;
  if (!im.ep) return im.epStatus;
  if (im.interrupted) return Impl::Interrupted();
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeoutSec * 1000));
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = im.conn && im.conn->open;
    if (!reused) {
      im.conn = im.NewConn();
      KVOL_RETURN_IF_ERROR(im.Connect(*im.conn, deadline));
    }
    Conn& c = *im.conn;
    auto req = im.MakeRequest(cfg_.token, method, target, body, contentType, accept);
    c.Tcp().expires_at(deadline);
    beast::error_code wec;
    c.With([&](auto& s) {
      http::async_write(s, req, [&](beast::error_code e, std::size_t) { wec = e; });
    });
    im.Run();
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    beast::error_code rec = wec;
    if (!wec) {
      c.With([&](auto& s) {
        http::async_read(s, c.buffer, parser, [&](beast::error_code e, std::size_t) { rec = e; });
      });
      im.Run();
    }
    if (rec) {
      c.open = false;
      im.conn.reset();
      if (rec == beast::error::timeout) return Status(Code::kTimeout, "context deadline exceeded");
      // A kept-alive connection the server closed meanwhile: retry once on a new one.
      if (reused && (rec == http::error::end_of_stream || rec == net::error::connection_reset ||
                     rec == net::error::broken_pipe || rec == net::error::eof ||
                     rec == net::ssl::error::stream_truncated)) {
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
  if (im.interrupted) return Impl::Interrupted();
  auto conn = im.NewConn();
  Conn& c = *conn;
  // Interrupt() closes this connection from inside the io_context, which only this thread runs.
  im.watching = &c;
  struct Unwatch {
    Impl& im;
    ~Unwatch() { im.watching = nullptr; }
  } unwatch{im};
  KVOL_RETURN_IF_ERROR(im.Connect(c, deadline));
  auto req = im.MakeRequest(cfg_.token, "GET", target, "", "", "application/json");
  c.Tcp().expires_at(deadline);
  beast::error_code ec;
  c.With([&](auto& s) {
    http::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; });
  });
  im.Run();
  if (im.interrupted) return Impl::Interrupted();
  if (ec)
    return Status(ec == beast::error::timeout ? Code::kTimeout : Code::kUnavailable, ec.message());

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  c.With([&](auto& s) {
    http::async_read_header(s, c.buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  });
  im.Run();
  if (im.interrupted) return Impl::Interrupted();
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
    c.With([&](auto& s) {
      http::async_read_some(s, c.buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    });
    im.Run();
    if (im.interrupted) return Impl::Interrupted();
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
      if (ec == http::error::end_of_stream || ec == net::error::eof ||
          ec == net::ssl::error::stream_truncated)
        break;
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
  c.Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  return Status::Ok();
}

void ApiClient::Interrupt() {
  Impl* im = impl_.get();
  im->interrupted = true;
  // Runs inside the io_context, on the thread that runs the Watch (or at its next Run()).
  net::post(im->ioc, [im] {
    if (!im->watching) return;
    beast::error_code ec;
    im->watching->Tcp().socket().close(ec);
  });
}

}  // namespace kvol::client
