#include "object_cache.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace kvol::node {
namespace {

using Clock = std::chrono::steady_clock;

json Cm(const std::string& name, int rv) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", name}, {"namespace", "default"}, {"resourceVersion", std::to_string(rv)}}},
          {"data", {{"k", name}}}};
}

// A tiny HTTP server playing the API: the first list answers {a} at rv 10, the first watch sends
// ADDED c and then a 410 Expired error; the relist answers {b} at rv 12; later watches stay open
// and quiet until the client closes them.
class FakeApi {
 public:
  FakeApi() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeApi() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : conns_) t.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> l(mu_);
    return targets_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      conns_.emplace_back([this, c] { Serve(c); });
    }
  }
  // MSG_NOSIGNAL: a reflector that stopped has closed its end (no SIGPIPE for the test).
  void Send(int c, const std::string& s) { (void)!::send(c, s.data(), s.size(), MSG_NOSIGNAL); }
  void Serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    if (req.size() < 5) {  // a client that closed before sending (an interrupted reflector)
      ::close(c);
      return;
    }
    std::string target = req.substr(4, req.find(' ', 4) - 4);
    int lists, watches;
    {
      std::lock_guard<std::mutex> l(mu_);
      targets_.push_back(target);
      lists = watches = 0;
      std::string path = target.substr(0, target.find('?'));
      for (const auto& t : targets_) {
        if (t.substr(0, t.find('?')) != path) continue;  // counted per resource
        (t.find("watch=true") == std::string::npos ? lists : watches)++;
      }
    }
    if (target.find("watch=true") == std::string::npos) {
      json list = {{"kind", "ConfigMapList"},
                   {"metadata", {{"resourceVersion", lists == 1 ? "10" : "12"}}},
                   {"items", lists == 1 ? json::array({Cm("a", 5)}) : json::array({Cm("b", 12)})}};
      std::string body = list.dump();
      Send(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    } else {
      Send(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
      if (watches == 1) {
        Send(c, json({{"type", "ADDED"}, {"object", Cm("c", 11)}}).dump() + "\n");
        Send(c, json({{"type", "ERROR"},
                      {"object", {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}}}})
                        .dump() +
                    "\n");
      } else {
        // A quiet watch stays open until the client goes (or 10 s pass), as a real one does.
        pollfd p{c, POLLIN, 0};
        (void)::poll(&p, 1, 10000);
      }
    }
    ::close(c);
  }

  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::mutex mu_;
  std::vector<std::string> targets_;
};

TEST(Reflector, ListWatchAndRelistAfterExpiredDeliverEveryChange) {
  FakeApi api;
  client::Kubeconfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(api.port());
  std::mutex mu;
  std::vector<std::string> seen;
  Reflector r(cfg, "/api/v1/configmaps", "", [&](const std::string& type, const json& obj) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(type + " " + obj["metadata"]["name"].get<std::string>());
  });
  r.Start();
  ASSERT_TRUE(r.WaitSynced(Clock::now() + std::chrono::seconds(5)));
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> l(mu);
      // Every change delivered, and the watch after the relist opened.
      if (seen.size() >= 5 && api.targets().size() >= 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.Stop();
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(seen, (std::vector<std::string>{"ADDED a", "ADDED c", "DELETED a", "DELETED c",
                                              "ADDED b"}));
  }
  EXPECT_TRUE(r.Get("default/b").has_value());
  EXPECT_FALSE(r.Get("default/a").has_value());
  auto targets = api.targets();
  ASSERT_GE(targets.size(), 4u);
  EXPECT_EQ(targets[0], "/api/v1/configmaps");
  EXPECT_EQ(targets[1],
            "/api/v1/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=300&"
            "resourceVersion=10");
  EXPECT_EQ(targets[2], "/api/v1/configmaps");  // relist after 410
  EXPECT_NE(targets[3].find("resourceVersion=12"), std::string::npos);
}

TEST(Reflector, FieldSelectorIsEncoded) {
  FakeApi api;
  client::Kubeconfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(api.port());
  Reflector r(cfg, "/api/v1/pods", "spec.nodeName=n1", nullptr);
  r.Start();
  ASSERT_TRUE(r.WaitSynced(Clock::now() + std::chrono::seconds(5)));
  auto start = Clock::now();
  r.Stop();
  // Stop interrupts the open watch: it does not wait for the watch to end on its own.
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_EQ(api.targets().at(0), "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1");
}

TEST(ObjectCache, GetServesTheCacheWithKubernetesNotFound) {
  FakeApi api;
  client::Kubeconfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(api.port());
  std::atomic<int> changes{0};
  ObjectCache cache(cfg, [&](const std::string&, const json&) { changes++; });
  cache.Start();
  // The fake ends with "b" alone in every resource (after its 410 and the relist).
  auto deadline = Clock::now() + std::chrono::seconds(5);
  // Each resource has its own reflector: wait until both have relisted.
  while ((!cache.Get("configmaps", "default", "b").ok() ||
          !cache.Get("secrets", "default", "b").ok()) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto b = cache.Get("configmaps", "default", "b");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)["data"]["k"], "b");
  EXPECT_TRUE(cache.Get("secrets", "default", "b").ok());
  auto missing = cache.Get("configmaps", "default", "a");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "configmaps \"a\" not found");
  EXPECT_EQ(cache.Get("pods", "default", "a").status().code(), Code::kBadRequest);
  cache.Stop();
  EXPECT_GT(changes.load(), 0);
}

}  // namespace
}  // namespace kvol::node
