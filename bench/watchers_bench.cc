// Watch fan-out against a real `kvol serve` (DESIGN.md / issue 4: 1,000 concurrent watchers each
// receiving one update, p99 < 50 ms). Starts `kvol serve` on a fresh data dir, creates one claim
// (storageClassName "none": the binder leaves it Pending), opens KVOL_WATCHERS (default 1000)
// watches on the claims of its namespace as raw HTTP/1.1 GETs (?watch=true&resourceVersion=...),
// each on its own socket, all read by one epoll thread. Each iteration merge-patches a label
// `bench-iter` onto the claim; every watcher's delay is from the PATCH's reply returning to the
// first byte of that watcher's MODIFIED event carrying the new label (a watcher that saw the event
// before the reply counts 0). Counters: p50/p99/max over all watchers and iterations (ms), and
// the same from the PATCH being sent (p50_from_send, p99_from_send).
// Needs nofile > KVOL_WATCHERS + slack (bench/api_watchers.sh sets `ulimit -n 20000`); KVOL_BIN
// names the kvol binary (default: the release build beside this one).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/serve_process.h"
#include "kvol/client/client.h"

namespace {

using kvol::client::ApiClient;
using kvol::client::json;
using Clock = std::chrono::steady_clock;

const char* kNs = "default";
const char* kClaim = "watched";

// N raw watch connections and the epoll thread that reads them. Each watcher records when its
// buffer first holds the marker of the current iteration.
class Watchers {
 public:
  ~Watchers() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    for (int fd : fds_) ::close(fd);
    if (ep_ >= 0) ::close(ep_);
  }

  // Opens n watches from resourceVersion rv; waits for every response header. "" or an error.
  std::string Open(int port, int n, const std::string& rv) {
    ep_ = ::epoll_create1(0);
    std::string req = std::string("GET /api/v1/namespaces/") + kNs +
                      "/persistentvolumeclaims?watch=true&resourceVersion=" + rv +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n";
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bufs_.resize(n);
    seen_.assign(n, Clock::time_point{});
    headers_.assign(n, false);
    for (int i = 0; i < n; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return "socket: " + std::string(strerror(errno));
      fds_.push_back(fd);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return "connect #" + std::to_string(i) + ": " + strerror(errno);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size()))
        return "write failed";
      ::fcntl(fd, F_SETFL, O_NONBLOCK);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(i);
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
    reader_ = std::thread([this] { Read(); });
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (headersSeen_.load() < n) {
      if (!error_.empty()) return error_;
      if (Clock::now() > deadline)
        return "only " + std::to_string(headersSeen_.load()) + " watches answered";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return "";
  }

  // Starts an iteration: from now on watchers look for `"bench-iter":"<iter>"`.
  void Arm(int iter) {
    std::lock_guard<std::mutex> l(mu_);
    marker_ = "\"bench-iter\":\"" + std::to_string(iter) + "\"";
    std::fill(seen_.begin(), seen_.end(), Clock::time_point{});
    got_ = 0;
  }
  // Waits until every watcher saw the marker (true) or the deadline passes.
  bool Wait(Clock::time_point deadline) {
    while (true) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (got_ == static_cast<int>(fds_.size())) return true;
      }
      if (Clock::now() > deadline || !error_.empty()) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  std::vector<Clock::time_point> Seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }
  int Got() {
    std::lock_guard<std::mutex> l(mu_);
    return got_;
  }
  std::string Error() { return error_; }

 private:
  void Read() {
    std::vector<epoll_event> evs(256);
    char buf[65536];
    while (!stop_) {
      int k = ::epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 50);
      auto now = Clock::now();
      for (int j = 0; j < k; ++j) {
        uint32_t i = evs[j].data.u32;
        while (true) {
          ssize_t r = ::read(fds_[i], buf, sizeof buf);
          if (r > 0) {
            bufs_[i].append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0 && error_.empty()) error_ = "watch #" + std::to_string(i) + " closed";
          if (r == 0) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fds_[i], nullptr);
          break;
        }
        std::string& b = bufs_[i];
        if (!headers_[i]) {
          auto h = b.find("\r\n\r\n");
          if (h == std::string::npos) continue;
          if (b.compare(0, 12, "HTTP/1.1 200") != 0) {
            error_ = "watch answered: " + b.substr(0, b.find("\r\n"));
            continue;
          }
          headers_[i] = true;
          b.erase(0, h + 4);
          headersSeen_++;
        }
        std::lock_guard<std::mutex> l(mu_);
        if (!marker_.empty() && seen_[i] == Clock::time_point{} &&
            b.find(marker_) != std::string::npos) {
          seen_[i] = now;
          got_++;
        }
        // Keep only the unfinished tail (an event line may span reads).
        auto nl = b.rfind('\n');
        if (nl != std::string::npos) b.erase(0, nl + 1);
      }
    }
  }

  int ep_ = -1;
  std::vector<int> fds_;
  std::vector<std::string> bufs_;
  std::vector<bool> headers_;
  std::atomic<int> headersSeen_{0};
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mu_;
  std::string marker_;
  std::vector<Clock::time_point> seen_;
  int got_ = 0;
  std::string error_;  // set once by the reader thread, read after it
};

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void BM_WatchFanout(benchmark::State& state) {
  // The server inherits the raised open-file limit (1,000 watches).
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  kvol::bench::ServeProcess srv("kvol-watchbench");
  if (!srv.error.empty()) {
    state.SkipWithError(srv.error.c_str());
    return;
  }
  const char* env = std::getenv("KVOL_WATCHERS");
  int n = env != nullptr ? std::atoi(env) : 1000;
  std::string base = std::string("/api/v1/namespaces/") + kNs + "/persistentvolumeclaims";
  json claim = {{"apiVersion", "v1"},
                {"kind", "PersistentVolumeClaim"},
                {"metadata", {{"name", kClaim}}},
                {"spec",
                 {{"storageClassName", "none"},
                  {"accessModes", {"ReadWriteOnce"}},
                  {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  auto cr = srv.api->Do("POST", base, claim.dump(), "application/json");
  if (!cr.ok() || cr->status != 201) {
    state.SkipWithError("cannot create the claim");
    return;
  }
  // Let the binder settle the new claim (its status write would be one more MODIFIED event;
  // harmless, the marker tells events apart), then watch from the current revision.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto got = srv.api->Do("GET", base + "/" + kClaim);
  if (!got.ok() || got->status != 200) {
    state.SkipWithError("cannot read the claim");
    return;
  }
  std::string rv = json::parse(got->body)["metadata"]["resourceVersion"].get<std::string>();
  Watchers w;
  auto t0 = Clock::now();
  if (auto e = w.Open(srv.port(), n, rv); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  double openMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::vector<double> fromReply, fromSend;
  int iter = 0, missed = 0;
  for (auto _ : state) {
    ++iter;
    w.Arm(iter);
    json patch = {{"metadata", {{"labels", {{"bench-iter", std::to_string(iter)}}}}}};
    auto sent = Clock::now();
    auto r =
        srv.api->Do("PATCH", base + "/" + kClaim, patch.dump(), "application/merge-patch+json");
    auto replied = Clock::now();
    if (!r.ok() || r->status != 200) {
      state.SkipWithError("patch failed");
      break;
    }
    bool all = w.Wait(replied + std::chrono::seconds(10));
    auto seen = w.Seen();
    Clock::time_point last = replied;
    for (auto t : seen) {
      if (t == Clock::time_point{}) continue;
      last = std::max(last, t);
      fromReply.push_back(
          std::max(0.0, std::chrono::duration<double, std::milli>(t - replied).count()));
      fromSend.push_back(std::chrono::duration<double, std::milli>(t - sent).count());
    }
    if (!all) missed += n - w.Got();
    state.SetIterationTime(std::chrono::duration<double>(last - sent).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the server go idle
  }
  if (!w.Error().empty()) state.SkipWithError(w.Error().c_str());
  state.counters["watchers"] = n;
  state.counters["open_all_ms"] = openMs;
  state.counters["missed"] = missed;
  state.counters["p50_ms"] = Pct(fromReply, 0.50);
  state.counters["p99_ms"] = Pct(fromReply, 0.99);
  state.counters["max_ms"] = Pct(fromReply, 1.0);
  state.counters["p50_from_send"] = Pct(fromSend, 0.50);
  state.counters["p99_from_send"] = Pct(fromSend, 0.99);
  long rss = 0;
  if (FILE* f = std::fopen(("/proc/" + std::to_string(srv.pid) + "/status").c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr)
      if (std::sscanf(line, "VmRSS: %ld", &rss) == 1) break;
    std::fclose(f);
  }
  state.counters["server_rss_MiB"] = static_cast<double>(rss) / 1024.0;
}
BENCHMARK(BM_WatchFanout)->Iterations(20)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
