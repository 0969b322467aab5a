// NodeStatusReporter against a small fake API server that records every request: status writes
// are merge patches naming only the agent's fields (never status.volumesAttached, which the
// attach/detach controller owns), and status.volumesInUse follows the attach-required CSI volumes
// on disk within a poll, without waiting for the heartbeat.
#include "node_status.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "kvol/os/fs.h"
#include "src/os/test_scratch.h"

namespace kvol::node {
namespace {

using api::json;
using Clock = std::chrono::steady_clock;

struct Request {
  std::string method, target;
  json body;
};

// Answers POST /api/v1/nodes with 409 (already registered) and every PATCH with 200.
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
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      conns_.emplace_back([this, c] { Serve(c); });
    }
  }
  void Serve(int c) {
    std::string req;
    char buf[4096];
    size_t end;
    while ((end = req.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) {
        ::close(c);
        return;
      }
      req.append(buf, static_cast<size_t>(n));
    }
    size_t length = 0;
    for (const char* h : {"Content-Length: ", "content-length: "}) {
      size_t p = req.find(h);
      if (p != std::string::npos && p < end) length = std::stoul(req.substr(p + 16));
    }
    while (req.size() < end + 4 + length) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    Request r;
    r.method = req.substr(0, req.find(' '));
    size_t t = r.method.size() + 1;
    r.target = req.substr(t, req.find(' ', t) - t);
    r.body = json::parse(req.substr(end + 4), nullptr, false);
    {
      std::lock_guard<std::mutex> l(mu_);
      requests_.push_back(r);
    }
    const bool post = r.method == "POST";
    std::string body = post ? R"({"kind":"Status","code":409,"reason":"AlreadyExists"})" : "{}";
    std::string head = post ? "HTTP/1.1 409 Conflict\r\n" : "HTTP/1.1 200 OK\r\n";
    std::string out = head + "Content-Type: application/json\r\nConnection: close\r\n" +
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)!::write(c, out.data(), out.size());
    ::close(c);
  }

  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::mutex mu_;
  std::vector<Request> requests_;
};

void WriteVolData(const std::string& dir, const std::string& uid, const std::string& pv,
                  json data) {
  const std::string volDir = dir + "/pods/" + uid + "/volumes/kubernetes.io~csi/" + pv;
  ASSERT_TRUE(os::MakeDirs(volDir).ok());
  ASSERT_TRUE(os::WriteFileAtomic(volDir + "/vol_data.json", data.dump()).ok());
}

// The status patches sent so far.
std::vector<json> StatusPatches(FakeApi& api) {
  std::vector<json> out;
  for (const auto& r : api.requests()) {
    if (r.method == "PATCH" && r.target == "/api/v1/nodes/n1/status") out.push_back(r.body);
  }
  return out;
}

bool WaitForPatch(FakeApi& api, const json& want) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    for (const auto& p : StatusPatches(api)) {
      if (p == want) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(NodeStatusReporter, VolumesInUseFollowsTheDiskAndNeverTouchesVolumesAttached) {
  os::testing::Scratch s;
  ASSERT_FALSE(s.path().empty());
  const std::string dir = s.path();
  // A block volume staged for u1 and shared by u2, a pre-attachRequired block vol_data.json, and a
  // kvol.io/local volume (never attached: not listed).
  WriteVolData(
      dir, "u1", "pv-a",
      {{"driverName", "kvol.io/block"}, {"volumeHandle", "vol-a"}, {"attachRequired", true}});
  WriteVolData(
      dir, "u2", "pv-a",
      {{"driverName", "kvol.io/block"}, {"volumeHandle", "vol-a"}, {"attachRequired", true}});
  WriteVolData(dir, "u2", "pv-old", {{"driverName", "kvol.io/block"}, {"volumeHandle", "vol-old"}});
  WriteVolData(dir, "u3", "pv-l", {{"driverName", "kvol.io/local"}, {"volumeHandle", "pv-l"}});

  FakeApi api;
  client::Kubeconfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(api.port());
  NodeStatusReporter r(cfg, "n1", "a", 10250, HostInfo{}, /*heartbeatSeconds=*/3600);
  r.ReportVolumesInUseFrom(dir);
  ASSERT_TRUE(r.Register().ok());
  auto patches = StatusPatches(api);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0]["status"]["volumesInUse"],
            json::array({"kubernetes.io/csi/kvol.io/block^vol-a",
                         "kubernetes.io/csi/kvol.io/block^vol-old"}));
  EXPECT_TRUE(patches[0]["status"].contains("conditions"));
  EXPECT_FALSE(patches[0]["status"].contains("volumesAttached"));

  r.StartHeartbeat();
  // A new volume is about to be staged: reported at once, and that patch names nothing else.
  WriteVolData(
      dir, "u4", "pv-b",
      {{"driverName", "kvol.io/block"}, {"volumeHandle", "vol-b"}, {"attachRequired", true}});
  EXPECT_TRUE(WaitForPatch(
      api, {{"status",
             {{"volumesInUse", json::array({"kubernetes.io/csi/kvol.io/block^vol-a",
                                            "kubernetes.io/csi/kvol.io/block^vol-b",
                                            "kubernetes.io/csi/kvol.io/block^vol-old"})}}}}));
  // vol-a stays while one pod still has it; everything torn down: an empty list.
  ASSERT_TRUE(os::RemoveTreeOneFs(dir + "/pods/u1").ok());
  ASSERT_TRUE(os::RemoveTreeOneFs(dir + "/pods/u4").ok());
  ASSERT_TRUE(os::RemoveTreeOneFs(dir + "/pods/u2").ok());
  EXPECT_TRUE(WaitForPatch(api, {{"status", {{"volumesInUse", json::array()}}}}));
  const size_t n = StatusPatches(api).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(StatusPatches(api).size(), n);  // nothing changed: nothing written
  r.Stop();
  for (const auto& p : StatusPatches(api)) {
    EXPECT_FALSE(p["status"].contains("volumesAttached")) << p.dump();
  }
}

}  // namespace
}  // namespace kvol::node
