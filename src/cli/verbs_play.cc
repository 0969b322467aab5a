// kvol play: one manifest on an embedded server, its containers' logs on stdout, everything torn
// down at the end. The server is this binary's `serve` as a child process (its own process group,
// so Ctrl-C reaches only play, which then tears down in order).
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "kvol/cli/image_import.h"
#include "kvol/cli/verbs.h"
#include "src/cli/verbs_common.h"

extern char** environ;

namespace kvol::cli {

using namespace internal;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signals{0};  // a second Ctrl-C cuts the teardown's waiting short

extern "C" void OnPlaySignal(int) {
  g_interrupted = true;
  ++g_signals;
}

// SIGINT/SIGTERM set g_interrupted while a play runs; the previous handlers come back after.
class SignalScope {
 public:
  SignalScope() {
    g_interrupted = false;
    g_signals = 0;
    struct sigaction sa {};
    sa.sa_handler = OnPlaySignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &oldInt_);
    sigaction(SIGTERM, &sa, &oldTerm_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &oldInt_, nullptr);
    sigaction(SIGTERM, &oldTerm_, nullptr);
  }

 private:
  struct sigaction oldInt_ {};
  struct sigaction oldTerm_ {};
};

struct PodRef {
  std::string ns, name;
  std::vector<std::string> containers;  // init containers first, then the containers
  std::vector<bool> isInit;
};

struct ObjRef {
  const api::ResourceInfo* info;
  std::string ns, name;
};

// The child `kvol serve`.
class ServerProcess {
 public:
  ~ServerProcess() { Stop(); }

  // Spawns it and waits for `kvol ready URL`; "" or an error message.
  std::string Start(const std::string& bin, const std::string& dataDir,
                    const std::string& imageDir) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    std::string log = dataDir + "/kvol-serve.log";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(
        &at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    std::vector<std::string> args = {bin,     "serve",    "--data-dir",
                                     dataDir, "--listen", "127.0.0.1:0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
      if (std::strncmp(*e, "KVOL_IMAGE_DIR=", 15) != 0) env.emplace_back(*e);
    }
    if (!imageDir.empty()) env.push_back("KVOL_IMAGE_DIR=" + imageDir);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = posix_spawn(&pid_, bin.c_str(), &fa, &at, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      pid_ = -1;
      return "cannot start " + bin + ": " + std::strerror(rc);
    }
    // Read the ready line.
    std::string got;
    auto deadline = Clock::now() + 120s;
    while (got.find('\n') == std::string::npos) {
      if (g_interrupted) break;
      if (Clock::now() > deadline) break;
      pollfd p{fds[0], POLLIN, 0};
      int n = poll(&p, 1, 100);
      if (n <= 0) continue;
      char b[512];
      ssize_t r = read(fds[0], b, sizeof b);
      if (r <= 0) break;
      got.append(b, static_cast<size_t>(r));
    }
    close(fds[0]);
    const std::string prefix = "kvol ready ";
    if (got.rfind(prefix, 0) != 0 || got.find('\n') == std::string::npos) {
      if (g_interrupted) return "interrupted";
      return "the server did not become ready (see " + log + ")";
    }
    url_ = got.substr(prefix.size(), got.find('\n') - prefix.size());
    return "";
  }

  // SIGTERM, then wait (SIGKILL after `patience`). Returns the exit status (-1 if none).
  int Stop(std::chrono::seconds patience = 90s) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    auto deadline = Clock::now() + patience;
    int status = 0;
    for (;;) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) break;
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// Whether anything is mounted at or below `dir` (then it must not be deleted).
bool HasMountsUnder(const std::string& dir) {
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    std::istringstream is(line);
    std::string id, parent, devno, root, mountPoint;
    is >> id >> parent >> devno >> root >> mountPoint;
    if (mountPoint == dir || mountPoint.rfind(dir + "/", 0) == 0) return true;
  }
  return false;
}

std::string Phase(const json& pod) {
  if (!pod.is_object() || !pod.contains("status") || !pod["status"].is_object()) return "";
  return pod["status"].value("phase", "");
}

// Whether the container has started (running or terminated), or, when the node agent reports
// no status for it, whether the pod is past Pending.
bool ContainerStarted(const json& pod, const std::string& name, bool init) {
  const json st = pod.value("status", json::object());
  const json list = st.value(init ? "initContainerStatuses" : "containerStatuses", json::array());
  for (const auto& cs : list) {
    if (!cs.is_object() || cs.value("name", "") != name) continue;
    const json state = cs.value("state", json::object());
    return state.contains("running") || state.contains("terminated") ||
           cs.value("lastState", json::object()).contains("terminated");
  }
  std::string phase = Phase(pod);
  return !phase.empty() && phase != "Pending";
}

bool Finished(const std::string& phase) { return phase == "Succeeded" || phase == "Failed"; }

// Prints lines as `pod/container | line` under one lock, keeping partial lines until complete.
class Printer {
 public:
  explicit Printer(std::ostream& out) : out_(out) {}
  void Data(const std::string& prefix, std::string& partial, std::string_view d) {
    partial.append(d.data(), d.size());
    size_t start = 0, nl;
    std::string lines;
    while ((nl = partial.find('\n', start)) != std::string::npos) {
      lines += prefix + partial.substr(start, nl + 1 - start);
      start = nl + 1;
    }
    partial.erase(0, start);
    if (lines.empty()) return;
    std::lock_guard<std::mutex> l(mu_);
    out_ << lines;
    out_.flush();
  }
  void Flush(const std::string& prefix, std::string& partial) {
    if (partial.empty()) return;
    std::lock_guard<std::mutex> l(mu_);
    out_ << prefix << partial << "\n";
    out_.flush();
    partial.clear();
  }

 private:
  std::mutex mu_;
  std::ostream& out_;
};

// Follows one container's log until it ends, the pod finishes without it, or `cancel`.
void FollowContainer(const Kubeconfig& cfg, const PodRef& p, size_t i, Printer& printer,
                     const std::atomic<bool>& cancel) {
  const std::string& c = p.containers[i];
  const std::string prefix = p.name + "/" + c + " | ";
  const api::ResourceInfo* pods = ResolveType("pods");
  const std::string podPath = ObjectPath(*pods, p.ns, p.name);
  ApiClient api(cfg);
  while (!cancel) {
    auto got = api.Do("GET", podPath);
    if (!got.ok() || got->status == 404) return;
    json pod = json::parse(got->body, nullptr, false);
    if (got->status == 200 && ContainerStarted(pod, c, p.isInit[i])) {
      std::string partial;
      HttpResult reply;
      Status st = StreamGet(
          cfg, podPath + "/log?container=" + QueryEscape(c) + "&follow=true",
          [&](std::string_view d) { printer.Data(prefix, partial, d); }, &cancel, &reply);
      printer.Flush(prefix, partial);
      if (st.ok()) return;  // the container's log ended (or we were cancelled)
    } else if (got->status == 200 && Finished(Phase(pod))) {
      return;  // finished without ever starting this container
    }
    for (int k = 0; k < 4 && !cancel; ++k) std::this_thread::sleep_for(50ms);
  }
}

// DELETE each object (404 is fine), then wait until they are gone or `patience` passes.
void DeleteAndWait(ApiClient& api, const std::vector<ObjRef>& objs, std::chrono::seconds patience,
                   std::ostream& err) {
  std::vector<const ObjRef*> pending;
  for (const auto& o : objs) {
    auto r = api.Do("DELETE", ObjectPath(*o.info, o.ns, o.name));
    if (!r.ok()) continue;
    if (r->status == 200 || r->status == 202) {
      err << KindGroup(*o.info) << " \"" << o.name << "\" deleted\n";
      pending.push_back(&o);
    }
  }
  auto deadline = Clock::now() + patience;
  while (!pending.empty() && Clock::now() < deadline && g_signals < 2) {
    std::vector<const ObjRef*> still;
    for (const auto* o : pending) {
      auto r = api.Do("GET", ObjectPath(*o->info, o->ns, o->name));
      if (r.ok() && r->status == 200) still.push_back(o);
    }
    pending.swap(still);
    if (!pending.empty()) std::this_thread::sleep_for(100ms);
  }
  for (const auto* o : pending) {
    err << "warning: " << KindGroup(*o->info) << " \"" << o->name
        << "\" is still terminating; stopping the server anyway\n";
  }
}

}  // namespace

int RunPlay(const PlayOptions& o, std::ostream& out, std::ostream& err) {
  if (o.file.empty()) {
    err << "error: must specify -f FILE\n";
    return 1;
  }
  auto text = ReadFileText(o.file);
  if (!text.ok()) {
    err << "error: " << text.status().message() << "\n";
    return 1;
  }
  auto docs = ParseManifests(*text);
  if (!docs.ok()) {
    err << "error: error parsing " << o.file << ": " << docs.status().message() << "\n";
    return 1;
  }
  std::vector<PodRef> pods;
  std::vector<ObjRef> podObjs, otherObjs;
  for (const auto& d : *docs) {
    const api::ResourceInfo* info = ResolveKind(d.value("apiVersion", ""), d.value("kind", ""));
    if (!info || !d.contains("metadata") || !d["metadata"].is_object()) continue;
    ObjRef ref{info, info->namespaced ? d["metadata"].value("namespace", "default") : "",
               d["metadata"].value("name", "")};
    if (info->group.empty() && info->kind == "Pod") {
      PodRef p{ref.ns, ref.name, {}, {}};
      json spec = d.value("spec", json::object());
      for (const char* f : {"initContainers", "containers"}) {
        for (const auto& c : spec.value(f, json::array())) {
          p.containers.push_back(c.value("name", ""));
          p.isInit.push_back(std::string(f) == "initContainers");
        }
      }
      pods.push_back(std::move(p));
      podObjs.push_back(ref);
    } else {
      otherObjs.insert(otherObjs.begin(), ref);  // delete in reverse order
    }
  }

  // The data dir.
  bool temp = o.dataDir.empty();
  std::string dir = o.dataDir;
  std::error_code ec;
  if (temp) {
    char tmpl[] = "/tmp/kvol-play-XXXXXX";
    if (!mkdtemp(tmpl)) {
      err << "error: cannot make a temporary data dir: " << std::strerror(errno) << "\n";
      return 1;
    }
    dir = tmpl;
  } else {
    fs::create_directories(dir, ec);
    dir = fs::absolute(dir, ec).string();
  }
  // Images: the play's server reads DIR/images; when it has none, use those of `imagesFrom`
  // (`kvol image import`'s default data dir unless given) through a symlink.
  std::string from = o.imagesFrom.empty() ? DefaultDataDir() : o.imagesFrom;
  std::string imageDir;
  if (fs::is_directory(from + "/images", ec) && !fs::exists(dir + "/images", ec) &&
      !fs::equivalent(from, dir, ec)) {
    imageDir = fs::absolute(from + "/images", ec).string();
    fs::create_directory_symlink(imageDir, dir + "/images", ec);
  }

  SignalScope signals;
  std::string bin =
      o.serverBinary.empty() ? fs::read_symlink("/proc/self/exe", ec).string() : o.serverBinary;
  ServerProcess server;
  int rc = 1;
  bool interrupted = false;
  std::string startErr = server.Start(bin, dir, imageDir);
  std::atomic<bool> cancel{false};
  std::atomic<int> running{0};  // followers still reading
  std::vector<std::thread> followers;
  Printer printer(out);
  std::optional<ApiClient> api;
  if (!startErr.empty()) {
    interrupted = g_interrupted;
    if (!interrupted) {
      err << "error: " << startErr << "\n";
      std::ifstream log(dir + "/kvol-serve.log");
      std::vector<std::string> tail;
      for (std::string l; std::getline(log, l);) {
        tail.push_back(l);
        if (tail.size() > 20) tail.erase(tail.begin());
      }
      for (const auto& l : tail) err << "  " << l << "\n";
    }
  } else {
    ClientOptions co;
    co.kubeconfig = dir + "/kubeconfig";
    int applied = RunApply(co, {o.file}, false, 0, err, err);
    auto cfg = LoadKubeconfig(co.kubeconfig);
    if (cfg.ok()) api.emplace(*cfg);
    if (applied == 0 && cfg.ok()) {
      for (const auto& p : pods) {
        for (size_t i = 0; i < p.containers.size(); ++i) {
          ++running;
          followers.emplace_back([&printer, &cancel, &running, i, p, kc = *cfg] {
            FollowContainer(kc, p, i, printer, cancel);
            --running;
          });
        }
      }
      // Wait for every pod to finish, or Ctrl-C / the timeout.
      auto deadline =
          o.timeoutSec > 0
              ? Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.timeoutSec * 1000))
              : Clock::time_point::max();
      std::map<std::string, std::string> phases;
      for (;;) {
        if (g_interrupted || Clock::now() > deadline) {
          interrupted = true;
          break;
        }
        bool allDone = true;
        for (const auto& p : pods) {
          auto r = api->Do("GET", ObjectPath(*ResolveType("pods"), p.ns, p.name));
          std::string phase = "Gone";
          if (r.ok() && r->status == 200) phase = Phase(json::parse(r->body, nullptr, false));
          phases[p.name] = phase;
          if (!Finished(phase) && phase != "Gone") allDone = false;
        }
        if (allDone) break;
        for (int k = 0; k < 4 && !g_interrupted; ++k) std::this_thread::sleep_for(50ms);
      }
      rc = 0;
      if (!interrupted) {
        for (const auto& p : pods) {
          err << "pod/" << p.name << " " << phases[p.name] << "\n";
          if (phases[p.name] != "Succeeded") rc = 1;
        }
      }
    }
  }
  // Let the followers print the last lines of finished containers, then cancel what is left.
  auto drain = Clock::now() + 10s;
  while (!interrupted && running > 0 && Clock::now() < drain && !g_interrupted) {
    std::this_thread::sleep_for(20ms);
  }
  cancel = true;
  for (auto& t : followers) t.join();

  if (api) {
    DeleteAndWait(*api, podObjs, 45s, err);
    DeleteAndWait(*api, otherObjs, 15s, err);
  }
  int serverExit = server.Stop();
  if (serverExit != 0 && startErr.empty()) {
    err << "warning: the server exited with status " << serverExit << " (see " << dir
        << "/kvol-serve.log)\n";
  }
  if (temp) {
    if (HasMountsUnder(dir)) {
      err << "warning: " << dir << " still has mounts; left in place\n";
    } else {
      fs::remove_all(dir, ec);
    }
  }
  if (interrupted) return 0;
  return rc;
}

}  // namespace kvol::cli
