// HttpServer over real sockets: keep-alive, Status errors, a chunked watch stream that sees a
// write made on another connection, and Stop() ending open watches with the terminating chunk.
#include "kvol/apiserver/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "kvol/store/store.h"
#include "test_scheme.h"

namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::apiserver {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using api::json;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &testing::TestScheme();
    o.token = "t0k";
    handler_ = std::make_unique<ApiHandler>(o);
    HttpServerOptions so;
    so.bookmarkIntervalSeconds = 1;
    server_ = std::make_unique<HttpServer>(*handler_, so);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
    Send(Connect(), "POST", "/api/v1/namespaces", R"({"metadata":{"name":"default"}})");
  }
  void TearDown() override { server_->Stop(); }

  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)));
    return s;
  }
  http::response<http::string_body> Send(tcp::socket&& s, const std::string& method,
                                         const std::string& target, const std::string& body = "",
                                         bool auth = true) {
    return SendOn(s, method, target, body, auth);
  }
  http::response<http::string_body> SendOn(tcp::socket& s, const std::string& method,
                                           const std::string& target, const std::string& body = "",
                                           bool auth = true) {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (auth) req.set(http::field::authorization, "Bearer t0k");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }

  kvol::testing::FakeStore store_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  net::io_context ioc_;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  tcp::socket s = Connect();
  auto a = SendOn(s, "GET", "/healthz", "", false);
  EXPECT_EQ(a.result_int(), 200);
  EXPECT_EQ(a.body(), "ok");
  auto b = SendOn(s, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/x");
  EXPECT_EQ(b.result_int(), 404);
  EXPECT_EQ(json::parse(b.body())["message"], "persistentvolumeclaims \"x\" not found");
  EXPECT_EQ(b[http::field::content_type], "application/json");
  auto c = SendOn(s, "GET", "/api/v1/namespaces", "", false);
  EXPECT_EQ(c.result_int(), 401);
  EXPECT_EQ(json::parse(c.body())["reason"], "Unauthorized");
}

TEST_F(HttpServerTest, WatchStreamsChunkedEventsAndStopEndsIt) {
  tcp::socket w = Connect();
  std::string req =
      "GET /api/v1/namespaces/default/persistentvolumeclaims?watch=true&allowWatchBookmarks=true "
      "HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n";
  net::write(w, net::buffer(req));
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  http::read_header(w, buf, parser);
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_TRUE(parser.chunked());

  auto created = Send(Connect(), "POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                      R"({"metadata":{"name":"w"},"spec":{"accessModes":["ReadWriteOnce"],
                          "resources":{"requests":{"storage":"1Gi"}}}})");
  ASSERT_EQ(created.result_int(), 201) << created.body();

  // Read raw bytes until the ADDED event and a BOOKMARK arrived.
  std::string raw(static_cast<const char*>(buf.data().data()), buf.size());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((raw.find("\"ADDED\"") == std::string::npos ||
          raw.find("\"BOOKMARK\"") == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    char b[4096];
    size_t n = w.read_some(net::buffer(b));
    raw.append(b, n);
  }
  EXPECT_NE(raw.find("\"name\":\"w\""), std::string::npos) << raw;
  EXPECT_NE(raw.find(",\"type\":\"ADDED\"}\n\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"BOOKMARK\""), std::string::npos) << raw;

  server_->Stop();
  // The stream ends with the terminating chunk, then EOF.
  beast::error_code ec;
  for (;;) {
    char b[4096];
    size_t n = w.read_some(net::buffer(b), ec);
    if (ec) break;
    raw.append(b, n);
  }
  EXPECT_EQ(ec, net::error::eof);
  EXPECT_EQ(raw.substr(raw.size() - 5), "0\r\n\r\n");
}

}  // namespace
}  // namespace kvol::apiserver
