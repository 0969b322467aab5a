// HttpServer over TLS with the certificates tls_certs.h makes, against real sockets: requests
// verified with the CA (ALPN http/1.1, keep-alive), a plain HTTP request refused with Go's answer,
// clients without the CA or below TLS 1.2 refused, and a chunked watch streamed through TLS that
// Stop() ends with the terminating chunk and a close_notify.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <optional>

#include "kvol/apiserver/http_server.h"
#include "kvol/apiserver/tls_certs.h"
#include "kvol/store/store.h"
#include "test_scheme.h"

namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::apiserver {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using api::json;
using TlsSocket = ssl::stream<tcp::socket>;

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-https-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto certs = LoadOrCreateServingCertificates(dir_ + "/pki", {"127.0.0.1", "localhost"});
    ASSERT_TRUE(certs.ok()) << certs.status().ToString();
    certs_ = *certs;
    ctx_.emplace(ClientContext());
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &testing::TestScheme();
    o.token = "t0k";
    o.trustLoopback = true;  // as kvol serve sets it: still no trust without a token over TLS
    handler_ = std::make_unique<ApiHandler>(o);
    HttpServerOptions so;
    so.bookmarkIntervalSeconds = 1;
    so.tlsCertFile = certs_.certFile;
    so.tlsKeyFile = certs_.keyFile;
    server_ = std::make_unique<HttpServer>(*handler_, so);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
    auto s = Connect();
    auto res = SendOn(*s, "POST", "/api/v1/namespaces", R"({"metadata":{"name":"default"}})");
    ASSERT_EQ(res.result_int(), 201) << res.body();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  tcp::socket Tcp() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)));
    return s;
  }

  // A client context trusting only the generated CA, offering h2 and http/1.1 as kubectl does.
  ssl::context ClientContext(bool trustCa = true) {
    ssl::context ctx(ssl::context::tls_client);
    if (trustCa) ctx.add_certificate_authority(net::buffer(certs_.caPem));
    ctx.set_verify_mode(ssl::verify_peer);
    static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx.native_handle(), kAlpn, sizeof kAlpn - 1);
    return ctx;
  }

  std::unique_ptr<TlsSocket> Connect() {
    auto s = std::make_unique<TlsSocket>(Tcp(), *ctx_);
    s->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    s->handshake(ssl::stream_base::client);
    return s;
  }

  http::response<http::string_body> SendOn(TlsSocket& s, const std::string& method,
                                           const std::string& target, const std::string& body = "",
                                           bool auth = true) {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (auth) req.set(http::field::authorization, "Bearer t0k");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    http::response<http::string_body> res;
    http::read(s, buf_, res);
    return res;
  }

  std::string dir_;
  ServingCertificates certs_;
  kvol::testing::FakeStore store_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  net::io_context ioc_;
  std::optional<ssl::context> ctx_;  // trusts the CA; made in SetUp
  beast::flat_buffer buf_;
};

TEST_F(HttpServerTlsTest, RequestsOverTlsVerifiedWithTheCaNegotiateHttp11) {
  auto s = Connect();
  const unsigned char* alpn = nullptr;
  unsigned int alpnLen = 0;
  SSL_get0_alpn_selected(s->native_handle(), &alpn, &alpnLen);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpnLen), "http/1.1");
  EXPECT_GE(SSL_version(s->native_handle()), TLS1_2_VERSION);
  // Keep-alive: several requests on one TLS connection.
  auto a = SendOn(*s, "GET", "/api/v1/namespaces/default");
  EXPECT_EQ(a.result_int(), 200) << a.body();
  EXPECT_EQ(json::parse(a.body())["metadata"]["name"], "default");
  // No token from a loopback peer of this uid: refused over TLS (plain http would trust it).
  auto b = SendOn(*s, "GET", "/api/v1/namespaces", "", false);
  EXPECT_EQ(b.result_int(), 401);
  EXPECT_EQ(json::parse(b.body())["reason"], "Unauthorized");
  auto c = SendOn(*s, "GET", "/healthz", "", false);
  EXPECT_EQ(c.body(), "ok");
}

TEST_F(HttpServerTlsTest, PlainHttpGetsGosAnswerAndNothingElse) {
  tcp::socket s = Tcp();
  net::write(s, net::buffer(std::string("GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n"
                                        "Authorization: Bearer t0k\r\n\r\n")));
  std::string raw;
  beast::error_code ec;
  for (;;) {
    char b[512];
    size_t n = s.read_some(net::buffer(b), ec);
    if (ec) break;
    raw.append(b, n);
  }
  EXPECT_EQ(ec, net::error::eof);
  EXPECT_EQ(raw,
            "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
}

TEST_F(HttpServerTlsTest, ClientWithoutTheCaOrBelowTls12IsRefused) {
  ssl::context noCa = ClientContext(false);
  TlsSocket a(Tcp(), noCa);
  beast::error_code ec;
  a.handshake(ssl::stream_base::client, ec);
  ASSERT_TRUE(ec);
  EXPECT_NE(ec.message().find("certificate verify failed"), std::string::npos) << ec.message();

  ssl::context old = ClientContext();
  SSL_CTX_set_min_proto_version(old.native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_security_level(old.native_handle(), 0);
  TlsSocket b(Tcp(), old);
  ec = {};
  b.handshake(ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);

  // A client checking a name the certificate does not carry fails too.
  TlsSocket c(Tcp(), *ctx_);
  c.set_verify_callback(ssl::host_name_verification("10.9.9.9"));
  ec = {};
  c.handshake(ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);
}

TEST_F(HttpServerTlsTest, WatchStreamsThroughTlsAndStopEndsItWithCloseNotify) {
  auto w = Connect();
  std::string req =
      "GET /api/v1/namespaces/default/persistentvolumeclaims?watch=true&allowWatchBookmarks=true "
      "HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n";
  net::write(*w, net::buffer(req));
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  http::read_header(*w, buf, parser);
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_TRUE(parser.chunked());

  auto other = Connect();
  auto created = SendOn(*other, "POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                        R"({"metadata":{"name":"w"},"spec":{"accessModes":["ReadWriteOnce"],
                          "resources":{"requests":{"storage":"1Gi"}}}})");
  ASSERT_EQ(created.result_int(), 201) << created.body();

  std::string raw(static_cast<const char*>(buf.data().data()), buf.size());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((raw.find("\"ADDED\"") == std::string::npos ||
          raw.find("\"BOOKMARK\"") == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    char b[4096];
    size_t n = w->read_some(net::buffer(b));
    raw.append(b, n);
  }
  EXPECT_NE(raw.find(",\"type\":\"ADDED\"}\n\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"BOOKMARK\""), std::string::npos) << raw;

  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  // The stream ends with the terminating chunk, then the server's close_notify (a clean EOF,
  // not a truncated stream).
  beast::error_code ec;
  for (;;) {
    char b[4096];
    size_t n = w->read_some(net::buffer(b), ec);
    if (ec) break;
    raw.append(b, n);
  }
  EXPECT_EQ(ec, net::error::eof) << ec.message();
  EXPECT_EQ(raw.substr(raw.size() - 5), "0\r\n\r\n");
}

TEST(HttpServerTlsOptionsTest, ListenNamesAMissingCertificate) {
  kvol::testing::FakeStore store;
  HandlerOptions o;
  o.store = &store;
  o.scheme = &testing::TestScheme();
  ApiHandler handler(o);
  HttpServerOptions so;
  so.tlsCertFile = "/nonexistent/server.crt";
  so.tlsKeyFile = "/nonexistent/server.key";
  HttpServer server(handler, so);
  auto port = server.Listen("127.0.0.1", 0);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("cannot load TLS certificate /nonexistent/server.crt"),
            std::string::npos)
      << port.status().message();
}

}  // namespace
}  // namespace kvol::apiserver
