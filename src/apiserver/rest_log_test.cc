// GET pods/NAME/log over real sockets: kube-apiserver's option validation and container choice,
// then the log proxied from a fake node agent (a Beast server on 127.0.0.1:0 found through the
// Node's InternalIP and kubeletEndpoint port), with the API token, flushed line by line for
// follow, and the upstream closed when the client goes.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kvol/apiserver/handler.h"
#include "kvol/apiserver/http_server.h"
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
using namespace std::chrono_literals;

constexpr const char* kToken = "t0k3n";

// A node agent's /containerLogs endpoint. Containers: "app" (three lines; with follow, one line,
// then a second once released), "waiting" (the kubelet's 400), "hang" (follow: one line, then it
// waits until the API server closes the connection).
class FakeNode {
 public:
  FakeNode() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeNode() {
    stopping_ = true;
    Release();
    beast::error_code ec;
    {
      // Unblock accept with a connection of our own.
      tcp::socket s(ioc_);
      s.connect(acceptor_.local_endpoint(), ec);
    }
    thread_.join();
  }
  int port() const { return port_; }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::string LastTarget() {
    std::lock_guard<std::mutex> l(mu_);
    return target_;
  }
  std::string LastAuth() {
    std::lock_guard<std::mutex> l(mu_);
    return auth_;
  }
  bool WaitUpstreamClosed(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, d, [&] { return upstreamClosed_; });
  }

 private:
  void Serve() {
    while (!stopping_) {
      tcp::socket s(ioc_);
      beast::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      Handle(s);
    }
  }
  static void WriteChunk(tcp::socket& s, const std::string& d) {
    char h[32];
    std::snprintf(h, sizeof h, "%zx\r\n", d.size());
    net::write(s, net::buffer(std::string(h) + d + "\r\n"));
  }
  void Handle(tcp::socket& s) {
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(s, buf, req, ec);
    if (ec) return;
    std::string target(req.target());
    {
      std::lock_guard<std::mutex> l(mu_);
      target_ = target;
      auth_ = std::string(req[http::field::authorization]);
    }
    bool follow = target.find("follow=true") != std::string::npos;
    std::string path = target.substr(0, target.find('?'));
    if (path == "/containerLogs/default/web/waiting") {
      http::response<http::string_body> res(http::status::bad_request, 11);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "container \"waiting\" in pod \"web\" is waiting to start: ContainerCreating\n";
      res.prepare_payload();
      http::write(s, res, ec);
      return;
    }
    if (!follow) {
      http::response<http::string_body> res(http::status::ok, 11);
      res.set(http::field::content_type, "text/plain");
      res.body() = "line 1\nline 2\nline 3\n";
      res.prepare_payload();
      http::write(s, res, ec);
      return;
    }
    net::write(s,
               net::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n")),
               ec);
    if (path == "/containerLogs/default/web/hang") {
      WriteChunk(s, "first\n");
      char b[64];
      while (!ec) s.read_some(net::buffer(b), ec);  // until the API server hangs up
      std::lock_guard<std::mutex> l(mu_);
      upstreamClosed_ = true;
      cv_.notify_all();
      return;
    }
    WriteChunk(s, "line 1\n");
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, 5s, [&] { return released_; });
    }
    WriteChunk(s, "line 2\n");
    net::write(s, net::buffer(std::string("0\r\n\r\n")), ec);
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false, upstreamClosed_ = false;
  std::string target_, auth_;
};

class PodLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &testing::TestScheme();
    o.token = kToken;
    handler_ = std::make_unique<ApiHandler>(o);
    server_ = std::make_unique<HttpServer>(*handler_);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    port_ = *port;
    server_->Start();
    ASSERT_EQ(Call("POST", "/api/v1/namespaces", {{"metadata", {{"name", "default"}}}}).status,
              201);
    json node = {{"metadata", {{"name", "n1"}}},
                 {"status",
                  {{"addresses",
                    {{{"type", "Hostname"}, {"address", "n1"}},
                     {{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
                   {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", node_.port()}}}}}}}};
    ASSERT_EQ(Call("POST", "/api/v1/nodes", node).status, 201);
    auto containers = [](std::vector<std::string> names) {
      json cs = json::array();
      for (auto& n : names) cs.push_back({{"name", n}, {"image", "busybox"}});
      return cs;
    };
    ASSERT_EQ(CreatePod("web", "n1", containers({"app", "waiting", "hang"}),
                        json::array({{{"name", "init"}, {"image", "busybox"}}})),
              201);
    ASSERT_EQ(CreatePod("solo", "n1", containers({"app"})), 201);
    ASSERT_EQ(CreatePod("pending", "", containers({"app"})), 201);
    ASSERT_EQ(CreatePod("lost", "gone", containers({"app"})), 201);
  }
  void TearDown() override { server_->Stop(); }

  int CreatePod(const std::string& name, const std::string& nodeName, json containers,
                json init = nullptr) {
    json spec = {{"containers", containers}};
    if (!nodeName.empty()) spec["nodeName"] = nodeName;
    if (!init.is_null()) spec["initContainers"] = init;
    return Call("POST", "/api/v1/namespaces/default/pods",
                {{"metadata", {{"name", name}}}, {"spec", spec}})
        .status;
  }

  Response Call(const std::string& method, const std::string& target, const json& body = nullptr) {
    return handler_
        ->Handle(Request::Make(method, target, body.is_null() ? "" : body.dump(),
                               {{"authorization", std::string("Bearer ") + kToken},
                                {"content-type", "application/json"}}))
        .response;
  }

  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)));
    return s;
  }
  void SendGet(tcp::socket& s, const std::string& target) {
    std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken + "\r\n\r\n";
    net::write(s, net::buffer(req));
  }
  http::response<http::string_body> Get(const std::string& target) {
    tcp::socket s = Connect();
    SendGet(s, target);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }
  static std::string Message(const http::response<http::string_body>& r) {
    json j = json::parse(r.body(), nullptr, false);
    return j.is_object() ? j.value("message", "") : "<not a Status: " + r.body() + ">";
  }

  FakeNode node_;
  kvol::testing::FakeStore store_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  net::io_context ioc_;
};

const std::string kWeb = "/api/v1/namespaces/default/pods/web/log";

TEST_F(PodLogTest, ProxiesTheNodeAgentsLogWithTheTokenAndTheOptions) {
  auto r = Get("/api/v1/namespaces/default/pods/solo/log?tailLines=2&timestamps=true");
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(r.body(), "line 1\nline 2\nline 3\n");
  EXPECT_EQ(r[http::field::content_type], "text/plain");
  EXPECT_EQ(node_.LastTarget(), "/containerLogs/default/solo/app?tailLines=2&timestamps=true");
  EXPECT_EQ(node_.LastAuth(), std::string("Bearer ") + kToken);

  r = Get(kWeb + "?container=app&previous=true&limitBytes=100&sinceSeconds=5");
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(node_.LastTarget(),
            "/containerLogs/default/web/app?limitBytes=100&previous=true&sinceSeconds=5");
}

TEST_F(PodLogTest, ContainerChoiceAndOptionErrorsAreKubernetes) {
  auto r = Get(kWeb);
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Message(r),
            "a container name must be specified for pod web, choose one of: "
            "[init app waiting hang]");
  r = Get(kWeb + "?container=nope");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Message(r), "container nope is not valid for pod web");
  r = Get("/api/v1/namespaces/default/pods/ghost/log");
  EXPECT_EQ(r.result_int(), 404);
  EXPECT_EQ(Message(r), "pods \"ghost\" not found");
  r = Get(kWeb + "?container=app&tailLines=-1");
  EXPECT_EQ(r.result_int(), 422);
  EXPECT_EQ(Message(r),
            "PodLogOptions \"web\" is invalid: tailLines: Invalid value: -1: must be greater "
            "than or equal to 0");
  r = Get(kWeb + "?container=app&limitBytes=0&sinceSeconds=0");
  EXPECT_EQ(r.result_int(), 422);
  EXPECT_EQ(Message(r),
            "PodLogOptions \"web\" is invalid: [limitBytes: Invalid value: 0: must be greater "
            "than 0, sinceSeconds: Invalid value: 0: must be greater than 0]");
  r = Get(kWeb + "?container=app&follow=maybe");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Message(r), "strconv.ParseBool: parsing \"maybe\": invalid syntax");
  // The node agent's own 400 (container not started) comes through as a BadRequest.
  r = Get(kWeb + "?container=waiting");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Message(r),
            "container \"waiting\" in pod \"web\" is waiting to start: "
            "ContainerCreating");
  // Not scheduled: an empty log, as kube-apiserver answers. Scheduled to a missing node: 404.
  r = Get("/api/v1/namespaces/default/pods/pending/log");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "");
  r = Get("/api/v1/namespaces/default/pods/lost/log");
  EXPECT_EQ(r.result_int(), 404);
  EXPECT_EQ(Message(r), "nodes \"gone\" not found");
  // Only GET.
  EXPECT_EQ(Call("DELETE", kWeb).status, 405);
}

TEST_F(PodLogTest, FollowFlushesEachLineAsTheNodeWritesIt) {
  tcp::socket s = Connect();
  SendGet(s, kWeb + "?container=app&follow=true");
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  http::read_header(s, buf, parser);
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_TRUE(parser.chunked());
  // The first line arrives while the node still holds the second back.
  std::string raw(static_cast<const char*>(buf.data().data()), buf.size());
  s.non_blocking(false);
  while (raw.find("line 1\n") == std::string::npos) {
    char b[256];
    raw.append(b, s.read_some(net::buffer(b)));
  }
  EXPECT_EQ(raw.find("line 2"), std::string::npos);
  node_.Release();
  beast::error_code ec;
  for (;;) {
    char b[256];
    size_t n = s.read_some(net::buffer(b), ec);
    if (ec) break;
    raw.append(b, n);
  }
  EXPECT_EQ(ec, net::error::eof);
  EXPECT_EQ(raw, "7\r\nline 1\n\r\n7\r\nline 2\n\r\n0\r\n\r\n");
}

TEST_F(PodLogTest, ClientLeavingClosesTheUpstreamAndStopDoesNotHang) {
  {
    tcp::socket s = Connect();
    SendGet(s, kWeb + "?container=hang&follow=true");
    std::string raw;
    while (raw.find("first\n") == std::string::npos) {
      char b[256];
      raw.append(b, s.read_some(net::buffer(b)));
    }
  }  // the client hangs up
  EXPECT_TRUE(node_.WaitUpstreamClosed(3s));

  // A follow still open when the server stops ends with the terminating chunk.
  tcp::socket s = Connect();
  SendGet(s, kWeb + "?container=app&follow=true");
  std::string raw;
  while (raw.find("line 1\n") == std::string::npos) {
    char b[256];
    raw.append(b, s.read_some(net::buffer(b)));
  }
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);  // no wait for the 2 s client grace
  beast::error_code ec;
  for (;;) {
    char b[256];
    size_t n = s.read_some(net::buffer(b), ec);
    if (ec) break;
    raw.append(b, n);
  }
  EXPECT_EQ(raw.substr(raw.size() - 5), "0\r\n\r\n");
  node_.Release();
}

}  // namespace
}  // namespace kvol::apiserver
