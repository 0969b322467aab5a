// kvol play's mechanics with a stand-in server: the "server binary" is a shell script that prints
// `kvol ready URL` for an in-test API server (the real ApiHandler + HttpServer) and exits on
// SIGTERM; a test thread plays the node agent (pod status) next to a fake /containerLogs
// endpoint. Checks the prefixed log lines, the exit status from the pods' phases, the deletion
// of the applied objects, and the removal of the temporary data dir.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
using namespace std::chrono_literals;

// /containerLogs/default/p1/<c>?follow=true: "<c> says hello\n", a partial "<c> says " then
// "bye\n" 30 ms later, then the end.
class FakeNode {
 public:
  FakeNode() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket s(ioc_);
        beast::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_) return;
        beast::flat_buffer buf;
        http::request<http::string_body> req;
        http::read(s, buf, req, ec);
        if (ec) continue;
        std::string t(req.target());
        std::string c = t.substr(std::string("/containerLogs/default/p1/").size());
        c = c.substr(0, c.find('?'));
        std::string a = c + " says hello\n" + c + " says ";
        char h[16];
        std::snprintf(h, sizeof h, "%zx", a.size());
        net::write(s,
                   net::buffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                               std::string(h) + "\r\n" + a + "\r\n"),
                   ec);
        std::this_thread::sleep_for(30ms);
        net::write(s, net::buffer(std::string("4\r\nbye\n\r\n0\r\n\r\n")), ec);
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

 private:
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

class PlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-play-test-XXXXXX";
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
    std::ofstream(dir_ + "/kubeconfig") << server::KubeconfigYaml(url, "tok");
    // The stand-in `kvol serve`: records its --data-dir, hands out the kubeconfig, says ready.
    std::ofstream(dir_ + "/fake-serve.sh")
        << "#!/bin/sh\n"
        << "echo \"$*\" > " << dir_ << "/args\n"
        << "cp " << dir_ << "/kubeconfig \"$3/kubeconfig\"\n"
        << "trap 'echo stopped > " << dir_ << "/stopped; exit 0' TERM\n"
        << "echo \"kvol ready " << url << "\"\n"
        << "while :; do sleep 0.05; done\n";
    chmod((dir_ + "/fake-serve.sh").c_str(), 0755);
    Call("POST", "/api/v1/namespaces",
         {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "default"}}}});
    Call("POST", "/api/v1/nodes",
         {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", "n1"}}},
          {"status",
           {{"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
            {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", node_.port()}}}}}}}});
    std::ofstream(dir_ + "/play.yaml") << R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  k: v
---
apiVersion: v1
kind: Pod
metadata:
  name: p1
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
    - name: a
      image: busybox
    - name: b
      image: busybox
)";
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(dir_);
  }
  apiserver::Response Call(const std::string& method, const std::string& path,
                           const json& obj = nullptr) {
    return handler_
        ->Handle(apiserver::Request::Make(
            method, path, obj.is_null() ? "" : obj.dump(),
            {{"authorization", "Bearer tok"}, {"content-type", "application/json"}}))
        .response;
  }
  // The node agent's part: Running with both containers running, then `finalPhase`.
  std::thread PlayNode(const std::string& finalPhase) {
    return std::thread([this, finalPhase] {
      const std::string path = "/api/v1/namespaces/default/pods/p1";
      auto setStatus = [&](const std::string& phase, const char* state) {
        for (int i = 0; i < 50; ++i) {
          auto g = Call("GET", path);
          if (g.status != 200) {
            std::this_thread::sleep_for(20ms);
            continue;
          }
          json pod = json::parse(g.body);
          json cs = json::array();
          for (const char* c : {"a", "b"}) {
            cs.push_back({{"name", c},
                          {"image", "busybox"},
                          {"imageID", ""},
                          {"ready", false},
                          {"restartCount", 0},
                          {"state", {{state, json::object()}}}});
          }
          if (std::string(state) == "terminated") {
            for (auto& c : cs) c["state"]["terminated"] = {{"exitCode", 0}};
          }
          pod["status"] = {{"phase", phase}, {"containerStatuses", cs}};
          if (Call("PUT", path + "/status", pod).status == 200) return;
        }
        ADD_FAILURE() << "could not set the pod's status";
      };
      setStatus("Running", "running");
      std::this_thread::sleep_for(300ms);
      setStatus(finalPhase, "terminated");
    });
  }
  int Play(std::string* out, std::string* err) {
    PlayOptions p;
    p.file = dir_ + "/play.yaml";
    p.serverBinary = dir_ + "/fake-serve.sh";
    p.imagesFrom = dir_ + "/no-images";
    p.timeoutSec = 30;
    std::ostringstream o, e;
    int rc = RunPlay(p, o, e);
    *out = o.str();
    *err = e.str();
    return rc;
  }
  std::string Read(const std::string& f) {
    std::ifstream in(dir_ + "/" + f);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  FakeNode node_;
  kvol::testing::FakeStore store_;
  std::unique_ptr<apiserver::ApiHandler> handler_;
  std::unique_ptr<apiserver::HttpServer> server_;
  std::string dir_;
};

TEST_F(PlayTest, StreamsPrefixedLogsAndTearsDownWhenThePodSucceeds) {
  std::thread nodeAgent = PlayNode("Succeeded");
  std::string out, err;
  int rc = Play(&out, &err);
  nodeAgent.join();
  EXPECT_EQ(rc, 0) << err;
  // Each container's lines in order, whole lines only, under the pod/container prefix.
  std::string a, b;
  std::istringstream lines(out);
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind("p1/a | ", 0) == 0)
      a += l + "\n";
    else if (l.rfind("p1/b | ", 0) == 0)
      b += l + "\n";
    else
      ADD_FAILURE() << "unexpected line: " << l;
  }
  EXPECT_EQ(a, "p1/a | a says hello\np1/a | a says bye\n");
  EXPECT_EQ(b, "p1/b | b says hello\np1/b | b says bye\n");
  EXPECT_NE(err.find("pod/p1 Succeeded\n"), std::string::npos) << err;
  // The applied objects are gone, the server got SIGTERM, the temporary data dir is removed.
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/p1").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/cm").status, 404);
  EXPECT_EQ(Read("stopped"), "stopped\n");
  std::string args = Read("args");
  ASSERT_EQ(args.rfind("serve --data-dir /tmp/kvol-play-", 0), 0u) << args;
  std::string dataDir = args.substr(std::string("serve --data-dir ").size());
  dataDir = dataDir.substr(0, dataDir.find(' '));
  EXPECT_EQ(args, "serve --data-dir " + dataDir + " --listen 127.0.0.1:0\n");
  EXPECT_FALSE(std::filesystem::exists(dataDir));
}

TEST_F(PlayTest, AFailedPodMakesTheExitStatusOne) {
  std::thread nodeAgent = PlayNode("Failed");
  std::string out, err;
  int rc = Play(&out, &err);
  nodeAgent.join();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("pod/p1 Failed\n"), std::string::npos) << err;
  EXPECT_NE(out.find("p1/a | a says bye\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace kvol::cli
