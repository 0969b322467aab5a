// ApiClient against a real loopback HTTP server (Boost.Beast, one thread).
#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <thread>

#include "kvol/client/client.h"

namespace kvol::client {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Serves one connection: answers GET /obj (checking the token), then a watch on a second one.
class TestServer {
 public:
  TestServer() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      try {
        Serve();
      } catch (const std::exception&) {
        // The client may close the watch early; later writes then fail.
      }
    });
  }
  ~TestServer() { thread_.join(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string seenAuth, seenAccept;

 private:
  void Serve() {
    {
      tcp::socket s(ioc_);
      acceptor_.accept(s);
      beast::flat_buffer buf;
      for (int i = 0; i < 2; ++i) {  // two requests on one kept-alive connection
        http::request<http::string_body> req;
        http::read(s, buf, req);
        seenAuth = std::string(req[http::field::authorization]);
        seenAccept = std::string(req[http::field::accept]);
        http::response<http::string_body> res{
            req.target() == "/obj" ? http::status::ok : http::status::not_found, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = req.target() == "/obj" ? R"({"kind":"X"})" : R"({"kind":"Status"})";
        res.keep_alive(true);
        res.prepare_payload();
        http::write(s, res);
      }
    }
    tcp::socket s(ioc_);
    acceptor_.accept(s);
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::read(s, buf, req);
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    net::write(s, net::buffer(head));
    auto chunk = [&](const std::string& data) {
      char len[32];
      std::snprintf(len, sizeof len, "%zx\r\n", data.size());
      net::write(s, net::buffer(std::string(len) + data + "\r\n"));
    };
    chunk("{\"type\":\"ADDED\",\"object\":{\"n\":1}}\n{\"type\":\"MOD");  // split mid-line
    chunk("IFIED\",\"object\":{\"n\":2}}\n");
    chunk("{\"type\":\"DELETED\",\"object\":{\"n\":3}}\n");
    net::write(s, net::buffer(std::string("0\r\n\r\n")));
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_;
  std::thread thread_;
};

TEST(ApiClient, RequestsAndWatchOverRealSockets) {
  TestServer server;
  ApiClient c(Kubeconfig{server.url(), "tok123", "", "", false});
  auto r = c.Do("GET", "/obj");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"kind":"X"})");
  EXPECT_EQ(server.seenAuth, "Bearer tok123");
  auto r2 = c.Do("GET", "/missing", "", "", "application/json;as=Table;v=v1;g=meta.k8s.io");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, 404);
  EXPECT_EQ(server.seenAccept, "application/json;as=Table;v=v1;g=meta.k8s.io");

  std::vector<std::string> types;
  Status s = c.Watch(
      "/things?watch=true",
      [&](const json& ev) {
        types.push_back(ev["type"].get<std::string>() +
                        std::to_string(ev["object"]["n"].get<int>()));
        return ev["type"] != "MODIFIED";  // stop after the second event
      },
      std::chrono::steady_clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED1", "MODIFIED2"}));
}

// A watch that never ends on its own (the server sends one event, then holds the stream open)
// returns promptly once another thread calls Interrupt(), and the client stays interrupted.
TEST(ApiClient, InterruptEndsAnOpenWatchFromAnotherThread) {
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = a.local_endpoint().port();
  tcp::socket held(ioc);
  std::thread server([&] {
    boost::system::error_code ec;
    a.accept(held, ec);
    if (ec) return;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::read(held, buf, req, ec);
    std::string ev = "{\"type\":\"ADDED\",\"object\":{\"n\":1}}\n";
    char len[32];
    std::snprintf(len, sizeof len, "%zx\r\n", ev.size());
    net::write(held,
               net::buffer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n" +
                           std::string(len) + ev + "\r\n"),
               ec);
  });
  ApiClient c(Kubeconfig{"http://127.0.0.1:" + std::to_string(port), "", "", "", false});
  std::atomic<int> events{0};
  Status s;
  auto start = std::chrono::steady_clock::now();
  std::thread watcher([&] {
    s = c.Watch(
        "/things?watch=true",
        [&](const json&) {
          ++events;
          return true;
        },
        start + std::chrono::seconds(30));
  });
  while (events == 0 && std::chrono::steady_clock::now() < start + std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(events, 1);
  c.Interrupt();
  watcher.join();
  server.join();
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_EQ(s.message(), "interrupted");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  auto again = c.Do("GET", "/api");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "interrupted");
}

TEST(ApiClient, ConnectionRefused) {
  // Bind a port, close it: nothing listens there any more.
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  unsigned short port = a.local_endpoint().port();
  a.close();
  ApiClient c(Kubeconfig{"http://127.0.0.1:" + std::to_string(port), "", "", "", false});
  auto r = c.Do("GET", "/api");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  ApiClient https(Kubeconfig{"https://127.0.0.1:1", "", "", "", false});
  EXPECT_FALSE(https.Do("GET", "/api").ok());
}

}  // namespace
}  // namespace kvol::client
