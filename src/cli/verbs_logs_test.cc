// kvol logs against a real API server (ApiHandler + HttpServer on 127.0.0.1:0, the real Scheme)
// whose pod runs on a fake node agent (a Beast server serving /containerLogs): kubectl's output
// and error lines, the container kubectl picks, the options passed through, and -f.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/handler.h"
#include "kvol/apiserver/http_server.h"
#include "kvol/cli/verbs.h"
#include "kvol/server/serve.h"

namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using api::json;

// Serves /containerLogs/default/web/<c>: "waiting" answers the kubelet's 400; with follow=true
// two chunks 50 ms apart; else three lines.
class FakeNode {
 public:
  FakeNode() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket s(ioc_);
        beast::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_) return;
        Handle(s);
      }
    });
  }
  ~FakeNode() {
    stop_ = true;
    beast::error_code ec;
    tcp::socket s(ioc_);
    s.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::string LastTarget() {
    std::lock_guard<std::mutex> l(mu_);
    return target_;
  }

 private:
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
    }
    if (target.rfind("/containerLogs/default/web/waiting", 0) == 0) {
      http::response<http::string_body> res(http::status::bad_request, 11);
      res.body() = "container \"waiting\" in pod \"web\" is waiting to start: ContainerCreating\n";
      res.prepare_payload();
      http::write(s, res, ec);
      return;
    }
    if (target.find("follow=true") != std::string::npos) {
      net::write(s,
                 net::buffer(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                         "6\r\nfirst\n\r\n")),
                 ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      net::write(s, net::buffer(std::string("7\r\nsecond\n\r\n0\r\n\r\n")), ec);
      return;
    }
    http::response<http::string_body> res(http::status::ok, 11);
    res.body() = "line 1\nline 2\nline 3\n";
    res.prepare_payload();
    http::write(s, res, ec);
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string target_;
};

class LogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-logs-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    apiserver::HandlerOptions o;
    o.store = &store_;
    o.scheme = &api::Scheme::Default();
    o.token = "tok";
    handler_ = std::make_unique<apiserver::ApiHandler>(o);
    server_ = std::make_unique<apiserver::HttpServer>(*handler_);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    server_->Start();
    std::string url = "http://127.0.0.1:" + std::to_string(*port);
    opts_.kubeconfig = dir_ + "/kubeconfig";
    std::ofstream(opts_.kubeconfig) << server::KubeconfigYaml(url, "tok");
    Create("/api/v1/namespaces",
           {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "default"}}}});
    Create("/api/v1/nodes",
           {{"apiVersion", "v1"},
            {"kind", "Node"},
            {"metadata", {{"name", "n1"}}},
            {"status",
             {{"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
              {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", node_.port()}}}}}}}});
    json c = json::array();
    for (const char* n : {"app", "waiting"}) c.push_back({{"name", n}, {"image", "busybox"}});
    Create("/api/v1/namespaces/default/pods",
           {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", "web"}}},
            {"spec",
             {{"nodeName", "n1"},
              {"containers", c},
              {"initContainers", {{{"name", "init"}, {"image", "busybox"}}}}}}});
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(dir_);
  }
  void Create(const std::string& path, const json& obj) {
    auto r = handler_->Handle(apiserver::Request::Make(
        "POST", path, obj.dump(),
        {{"authorization", "Bearer tok"}, {"content-type", "application/json"}}));
    ASSERT_EQ(r.response.status, 201) << r.response.body;
  }
  int Logs(const LogsOptions& l) {
    out_.str("");
    err_.str("");
    return RunLogs(opts_, l, out_, err_);
  }

  FakeNode node_;
  kvol::testing::FakeStore store_;
  std::unique_ptr<apiserver::ApiHandler> handler_;
  std::unique_ptr<apiserver::HttpServer> server_;
  std::string dir_;
  ClientOptions opts_;
  std::ostringstream out_, err_;
};

TEST_F(LogsTest, DefaultsToTheFirstContainerAsKubectlDoes) {
  LogsOptions l;
  l.pod = "web";
  EXPECT_EQ(Logs(l), 0) << err_.str();
  EXPECT_EQ(out_.str(), "line 1\nline 2\nline 3\n");
  EXPECT_EQ(err_.str(), "Defaulted container \"app\" out of: app, waiting, init (init)\n");
  EXPECT_EQ(node_.LastTarget(), "/containerLogs/default/web/app");
}

TEST_F(LogsTest, OptionsReachTheNodeAndFollowStreams) {
  LogsOptions l;
  l.pod = "pod/web";
  l.container = "app";
  l.tail = 2;
  l.timestamps = true;
  l.previous = true;
  EXPECT_EQ(Logs(l), 0) << err_.str();
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(node_.LastTarget(),
            "/containerLogs/default/web/app?previous=true&tailLines=2&timestamps=true");
  l = LogsOptions{};
  l.pod = "web";
  l.container = "app";
  l.follow = true;
  EXPECT_EQ(Logs(l), 0) << err_.str();
  EXPECT_EQ(out_.str(), "first\nsecond\n");
}

TEST_F(LogsTest, ErrorsAreKubectls) {
  LogsOptions l;
  l.pod = "ghost";
  EXPECT_EQ(Logs(l), 1);
  // What kubectl 1.32 prints for `kubectl logs ghost` (test/e2e/pod_logs_play.sh checks kubectl).
  EXPECT_EQ(err_.str(),
            "error: error from server (NotFound): pods \"ghost\" not found in namespace "
            "\"default\"\n");
  l.pod = "web";
  l.container = "nope";
  EXPECT_EQ(Logs(l), 1);
  EXPECT_EQ(err_.str(), "error: container nope is not valid for pod web\n");
  l.container = "waiting";
  EXPECT_EQ(Logs(l), 1);
  EXPECT_EQ(err_.str(),
            "Error from server (BadRequest): container \"waiting\" in pod \"web\" is waiting to "
            "start: ContainerCreating\n");
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace kvol::cli
