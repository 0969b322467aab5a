// The crun runtime (see include/kvol/runtime/runtime.h).
//
// On disk, besides the pod directories:
//   DIR/run/crun/                     crun's state (--root)
//   DIR/run/containers/<id>/          one per container until Remove:
//       meta.json   {"bundle","layer","rootfs","log"}: where the rest is (read after a restart)
//       shim.pid    the shim's pid (written by the shim)
//       shim.log    the shim's own stderr
//       exit.json   written by the shim when the container has exited (or failed to start)
//   <bundle>/started.json, crun.log, container.pid  (written by the shim and crun)
//
// DIR is bind-mounted onto itself and made rshared on first use (as the kubelet does with its
// root directory): the shims' mount namespaces are slaves of the host's, so this is what makes
// mounts and unmounts under DIR made later (other containers' overlays, sandbox files, volumes)
// reach them; this VM's mounts are all private otherwise.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "kvol/common/trace.h"
#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/os/spawn.h"
#include "kvol/runtime/runtime.h"
#include "src/runtime/oci_spec.h"
#include "src/runtime/quick_file.h"
#include "src/runtime/sandbox.h"
#include "src/runtime/shim_protocol.h"
#include "src/runtime/shim_zygote.h"

extern char** environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace kvol::runtime {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool ValidId(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos &&
         id.size() < 200;
}

struct Meta {
  std::string id, bundle, layer, rootfs, log;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

State ParseCrunStatus(const std::string& s) {
  if (s == "created") return State::kCreated;
  if (s == "running" || s == "paused") return State::kRunning;
  if (s == "stopped") return State::kExited;
  return State::kUnknown;
}

class CrunRuntime final : public Runtime {
 public:
  explicit CrunRuntime(RuntimeOptions o) : opts_(std::move(o)) {
    if (opts_.selfExe.empty()) opts_.selfExe = "/proc/self/exe";
    if (opts_.crunPath.empty()) opts_.crunPath = "crun";
    crunRoot_ = opts_.dataDir + "/run/crun";
    metaRoot_ = opts_.dataDir + "/run/containers";
    wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pool_ = std::make_unique<SandboxPool>(opts_.dataDir + "/run/sandbox-spare");
    // Started now, so that the first container's shim is already a fork away.
    Zygote();
    AdoptRunningShims();
    watcher_ = std::thread([this] { WatchLoop(); });
  }

  ~CrunRuntime() override {
    pool_->Close();
    stopping_ = true;
    Wake();
    watcher_.join();
    for (auto& [fd, id] : tracked_) ::close(fd);
    ::close(wakeFd_);
    zygote_.reset();
  }

  Result<Sandbox> EnsureSandbox(const std::string& podDir, const std::string& podUid,
                                const std::string& hostname) override {
    KVOL_RETURN_IF_ERROR(EnsureSharedDataDir());
    std::lock_guard<std::mutex> l(sandboxMu_);
    const std::string dir = podDir + "/sandbox";
    KVOL_RETURN_IF_ERROR(pool_->Take(dir, hostname));
    return Sandbox{podUid, dir + "/net", dir + "/ipc", dir + "/uts"};
  }

  Status RemoveSandbox(const std::string& podDir) override {
    std::lock_guard<std::mutex> l(sandboxMu_);
    return RemoveSandboxNamespaces(podDir + "/sandbox");
  }

  Status Start(const ContainerConfig& c) override;
  Result<ContainerStatus> Inspect(const std::string& id) override;
  Status Stop(const std::string& id, int graceSeconds) override;
  Status Remove(const std::string& id) override;
  Result<std::vector<std::string>> List() override;

  Status ReleaseDataDir() override;
  void SetExitHandler(std::function<void(const std::string& id)> onExit) override {
    std::lock_guard<std::mutex> l(mu_);
    onExit_ = std::move(onExit);
  }

 private:
  std::string MetaDir(const std::string& id) const { return metaRoot_ + "/" + id; }
  std::string ExitFile(const std::string& id) const { return MetaDir(id) + "/exit.json"; }

  Status EnsureSharedDataDir();
  Result<Meta> LoadMeta(const std::string& id);
  Result<os::ExecResult> Crun(std::vector<std::string> args, double timeoutSec = 30);
  // The shim's pid and a pidfd of it (-1 when none could be opened).
  Result<SpawnedShim> SpawnShim(const ContainerConfig& c, const Meta& m, int readyW);
  // The zygote (started when there is none); null when it cannot be started.
  std::shared_ptr<ShimZygote> Zygote();
  void DropZygote(const std::shared_ptr<ShimZygote>& z, const std::string& why);
  Status WaitReady(int readyR, pid_t shim, const std::string& id);
  // The shim's pid when it is alive (its pid file names a live `__shim` process for this id).
  pid_t LiveShim(const std::string& id);
  // Waits until the exit file exists or the shim is gone; true when the exit file exists.
  bool WaitExited(const std::string& id, Clock::time_point deadline);
  void UnmountRootfs(const std::string& rootfs);
  void Track(const std::string& id, pid_t pid, int pidfd = -1);
  void Untrack(const std::string& id);
  void AdoptRunningShims();
  void Wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wakeFd_, &one, sizeof one);
    (void)n;
  }
  void WatchLoop();

  RuntimeOptions opts_;
  std::string crunRoot_, metaRoot_;
  std::mutex sharedMu_;
  bool shared_ = false;
  std::mutex sandboxMu_;
  std::unique_ptr<SandboxPool> pool_;   // spare sandboxes under DIR/run (made once DIR is shared)
  std::mutex mu_;                       // guards tracked_ and onExit_
  std::map<int, std::string> tracked_;  // shim pidfd -> container id
  std::function<void(const std::string&)> onExit_;
  int wakeFd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
  std::mutex zygoteMu_;
  std::shared_ptr<ShimZygote> zygote_;
  bool zygoteFailed_ = false;  // do not retry a zygote that cannot start
};

Status CrunRuntime::EnsureSharedDataDir() {
  std::lock_guard<std::mutex> l(sharedMu_);
  if (shared_) return Status::Ok();
  KVOL_RETURN_IF_ERROR(os::MakeDirs(crunRoot_, 0700));
  KVOL_RETURN_IF_ERROR(os::MakeDirs(metaRoot_, 0700));
  auto mp = os::IsMountPoint(opts_.dataDir);
  if (!mp.ok()) return mp.status();
  if (!*mp && ::mount(opts_.dataDir.c_str(), opts_.dataDir.c_str(), nullptr, MS_BIND | MS_REC,
                      nullptr) != 0) {
    return Internal(Errno("bind " + opts_.dataDir + " on itself"));
  }
  if (::mount(nullptr, opts_.dataDir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) != 0) {
    return Internal(Errno("make " + opts_.dataDir + " rshared"));
  }
  shared_ = true;
  return Status::Ok();
}

Status CrunRuntime::ReleaseDataDir() {
  pool_->Close();  // its spare is mounted below DIR
  std::lock_guard<std::mutex> l(sharedMu_);
  auto mounts = os::ReadMountInfo();
  if (!mounts.ok()) return mounts.status();
  const os::MountInfo* self = nullptr;
  for (const auto& m : *mounts) {
    if (m.mountPoint == opts_.dataDir) self = &m;  // the last one is the top of the stack
  }
  if (self == nullptr) return Status::Ok();
  struct stat parent {};
  const std::string up = opts_.dataDir + "/..";
  if (::stat(up.c_str(), &parent) != 0) return Internal(Errno("stat " + up));
  // Only a bind of DIR onto itself (same device as its parent directory) is ours to undo.
  if (makedev(self->major, self->minor) != parent.st_dev) return Status::Ok();
  for (const auto& m : *mounts) {
    if (m.mountPoint.size() > opts_.dataDir.size() &&
        m.mountPoint.compare(0, opts_.dataDir.size() + 1, opts_.dataDir + "/") == 0) {
      return Conflict("cannot release " + opts_.dataDir + ": " + m.mountPoint +
                      " is still mounted below it");
    }
  }
  // Detached, not unmounted: files of DIR the process still holds open through the bind (the
  // store's SQLite connections of `kvol serve`) would make a plain umount EBUSY. Nothing is
  // mounted below it any more (checked above), so detaching hides nothing.
  if (::umount2(opts_.dataDir.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
    return Internal(Errno("unmount " + opts_.dataDir));
  }
  shared_ = false;
  return Status::Ok();
}

Result<Meta> CrunRuntime::LoadMeta(const std::string& id) {
  if (!ValidId(id)) return NotFound("container \"" + id + "\" not found");
  auto text = os::ReadFile(MetaDir(id) + "/meta.json");
  if (!text.ok()) {
    if (text.status().IsNotFound()) return NotFound("container \"" + id + "\" not found");
    return text.status();
  }
  try {
    json j = json::parse(*text);
    Meta m;
    m.id = id;
    m.bundle = j.at("bundle").get<std::string>();
    m.layer = j.at("layer").get<std::string>();
    m.rootfs = j.at("rootfs").get<std::string>();
    m.log = j.at("log").get<std::string>();
    return m;
  } catch (const std::exception& e) {
    return Internal("container " + id + ": bad meta.json: " + e.what());
  }
}

Result<os::ExecResult> CrunRuntime::Crun(std::vector<std::string> args, double timeoutSec) {
  std::vector<std::string> argv = {opts_.crunPath, "--root", crunRoot_};
  argv.insert(argv.end(), args.begin(), args.end());
  os::ExecOptions eo;
  eo.timeoutSec = timeoutSec;
  return os::Exec(argv, eo);
}

std::shared_ptr<ShimZygote> CrunRuntime::Zygote() {
  std::lock_guard<std::mutex> l(zygoteMu_);
  if (!zygote_ && !zygoteFailed_) {
    std::string why;
    zygote_ = ShimZygote::Start(opts_.selfExe, &why);
    if (!zygote_) {
      zygoteFailed_ = true;
      std::fprintf(stderr, "kvol runtime: no shim zygote (%s): shims are exec'd\n", why.c_str());
    }
  }
  return zygote_;
}

void CrunRuntime::DropZygote(const std::shared_ptr<ShimZygote>& z, const std::string& why) {
  std::fprintf(stderr, "kvol runtime: %s; a new shim zygote starts next\n", why.c_str());
  std::lock_guard<std::mutex> l(zygoteMu_);
  if (zygote_ == z) zygote_.reset();
}

Result<SpawnedShim> CrunRuntime::SpawnShim(const ContainerConfig& c, const Meta& m, int readyW) {
  const std::string md = MetaDir(c.id);
  const std::string shimLog = md + "/shim.log";
  std::vector<std::string> args = {kShimBundle, m.bundle,       kShimId,  c.id,
                                   kShimRoot,   crunRoot_,      kShimLog, m.log,
                                   kShimExit,   ExitFile(c.id), kShimPid, md + "/shim.pid",
                                   kShimCrun,   opts_.crunPath};
  if (auto z = Zygote()) {
    int logFd = ::open(shimLog.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (logFd < 0) return Internal(Errno("open " + shimLog));
    // Traced: the shim's lines (stderr) join the agent's timeline.
    auto r = z->Spawn(args, logFd, NodeTraceOn() ? 2 : logFd, readyW);
    ::close(logFd);
    if (r.ok()) return *r;
    DropZygote(z, r.status().message());
    // Delivered but unanswered: a shim may have been forked, so do not start a second one.
    if (r.status().code() != Code::kUnavailable) return r.status();
  }
  std::vector<std::string> argv = {opts_.selfExe, kShimSubcommand};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(kShimReadyFd);
  argv.push_back("3");
  std::vector<char*> cargv;
  for (std::string& s : argv) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  os::SpawnSetup sp(/*newProcessGroup=*/false);
  posix_spawn_file_actions_addopen(&sp.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&sp.fa, 1, shimLog.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  if (!NodeTraceOn()) posix_spawn_file_actions_adddup2(&sp.fa, 1, 2);
  posix_spawn_file_actions_adddup2(&sp.fa, readyW, 3);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, opts_.selfExe.c_str(), &sp.fa, &sp.attr, cargv.data(), environ);
  if (rc != 0) return Internal("spawn shim " + opts_.selfExe + ": " + std::strerror(rc));
  // Our child: it stays a zombie until reaped, so the pidfd names it even if it exited already.
  return SpawnedShim{pid, PidfdOpen(pid)};
}

Status CrunRuntime::WaitReady(int readyR, pid_t shim, const std::string& id) {
  std::string got;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (got.find('\n') == std::string::npos) {
    int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (ms <= 0) return Status(Code::kTimeout, "container " + id + ": the shim did not report");
    pollfd p{readyR, POLLIN, 0};
    int rc = ::poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char buf[64];
    ssize_t n = ::read(readyR, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the shim closed the pipe (died?)
    got.append(buf, static_cast<size_t>(n));
  }
  if (got == std::string(kReadyOk) + "\n" || got == std::string(kReadyFail) + "\n") {
    return Status::Ok();  // on "fail" the exit file holds the StartError
  }
  if (os::Exists(ExitFile(id))) return Status::Ok();
  auto log = os::ReadFile(MetaDir(id) + "/shim.log");
  return Internal("container " + id + ": the shim (pid " + std::to_string(shim) +
                  ") exited without reporting: " + (log.ok() ? Trim(*log) : ""));
}

Status CrunRuntime::Start(const ContainerConfig& c) {
  if (!ValidId(c.id)) return Invalid("container id \"" + c.id + "\" is not a valid file name");
  if (c.args.empty()) return Invalid("container " + c.id + ": no command");
  if (c.containerDir.empty() || c.imageRootfs.empty() || c.logPath.empty()) {
    return Invalid("container " + c.id + ": containerDir, imageRootfs and logPath are required");
  }
  KVOL_RETURN_IF_ERROR(EnsureSharedDataDir());
  NodeTrace(c.id, "rt start");
  const std::string md = MetaDir(c.id);
  if (os::Exists(md + "/meta.json")) {
    return AlreadyExists("container \"" + c.id + "\" already exists");
  }
  const std::string n = std::to_string(c.restartCount);
  Meta m;
  m.id = c.id;
  m.layer = c.containerDir + "/layer-" + n;
  m.bundle = c.containerDir + "/bundle-" + n;
  m.rootfs = m.layer + "/rootfs";
  m.log = c.logPath;
  // Leftovers of an attempt that died half-way (no meta.json yet): start from scratch.
  UnmountRootfs(m.rootfs);
  for (const std::string& d : {m.layer, m.bundle, md}) KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(d));
  for (const std::string& d : {m.layer + "/work", m.rootfs, m.bundle, md}) {
    KVOL_RETURN_IF_ERROR(os::MakeDirs(d, 0700));
  }
  // The overlay's root directory has the upper dir's owner and mode: take the image root's.
  struct stat lower {};
  if (::stat(c.imageRootfs.c_str(), &lower) != 0) {
    return NotFound(Errno("image rootfs " + c.imageRootfs));
  }
  KVOL_RETURN_IF_ERROR(os::MakeDirs(m.layer + "/upper", lower.st_mode & 07777));
  if (::chown((m.layer + "/upper").c_str(), lower.st_uid, lower.st_gid) != 0) {
    return Internal(Errno("chown " + m.layer + "/upper"));
  }
  auto slash = c.logPath.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    KVOL_RETURN_IF_ERROR(os::MakeDirs(c.logPath.substr(0, slash), 0755));
  }
  // Undo everything on failure.
  bool mounted = false;
  auto fail = [&](Status st) {
    if (mounted) UnmountRootfs(m.rootfs);
    Status a = os::RemoveTreeOneFs(m.layer), b = os::RemoveTreeOneFs(m.bundle),
           d = os::RemoveTreeOneFs(md);
    (void)a, (void)b, (void)d;
    return st;
  };
  NodeTrace(c.id, "rt dirs made");
  const std::string ovl =
      "lowerdir=" + c.imageRootfs + ",upperdir=" + m.layer + "/upper,workdir=" + m.layer + "/work";
  if (::mount("overlay", m.rootfs.c_str(), "overlay", 0, ovl.c_str()) != 0) {
    return fail(Internal(Errno("mount overlay on " + m.rootfs)));
  }
  mounted = true;
  NodeTrace(c.id, "rt overlay mounted");
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  json spec = BuildOciSpec(c, m.rootfs, nofile.rlim_max);
  Status st = WriteFileQuick(m.bundle + "/config.json", spec.dump(2) + "\n", 0600);
  if (!st.ok()) return fail(st);
  json meta = {{"bundle", m.bundle}, {"layer", m.layer}, {"rootfs", m.rootfs}, {"log", m.log}};
  st = WriteFileQuick(md + "/meta.json", meta.dump() + "\n", 0600);
  if (!st.ok()) return fail(st);

  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail(Internal(Errno("pipe")));
  // Above 3, so that the child's dup2 onto 3 always clears close-on-exec.
  int readyW = ::fcntl(ready[1], F_DUPFD_CLOEXEC, 10);
  ::close(ready[1]);
  ready[1] = readyW;
  if (readyW < 0) {
    ::close(ready[0]);
    return fail(Internal(Errno("dup")));
  }
  NodeTrace(c.id, "rt bundle written");
  auto shim = SpawnShim(c, m, ready[1]);
  NodeTrace(c.id, "rt shim spawned");
  ::close(ready[1]);
  if (!shim.ok()) {
    ::close(ready[0]);
    return fail(shim.status());
  }
  Track(c.id, shim->pid, shim->pidfd);
  st = WaitReady(ready[0], shim->pid, c.id);
  NodeTrace(c.id, "rt ready");
  ::close(ready[0]);
  return st;
}

pid_t CrunRuntime::LiveShim(const std::string& id) {
  auto text = os::ReadFile(MetaDir(id) + "/shim.pid");
  if (!text.ok()) return 0;
  char* end = nullptr;
  const pid_t pid = static_cast<pid_t>(std::strtol(text->c_str(), &end, 10));
  if (pid <= 0) return 0;
  const unsigned long long want = std::strtoull(end, nullptr, 10);
  bool zombie = false;
  const unsigned long long start = ProcStartTime(pid, &zombie);
  if (start == 0 || zombie) return 0;             // gone, or exited and not reaped yet
  if (want != 0) return start == want ? pid : 0;  // a reused pid has another start time
  // An older shim's pid file (no start time): argv <exe> __shim ... --id <id> ...
  auto cmd = os::ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmd.ok()) return 0;
  std::string idArg = std::string(kShimId) + '\0' + id + '\0';
  if (cmd->find(std::string(kShimSubcommand) + '\0') == std::string::npos ||
      cmd->find(idArg) == std::string::npos) {
    return 0;
  }
  return pid;
}

Result<ContainerStatus> CrunRuntime::Inspect(const std::string& id) {
  KVOL_ASSIGN_OR_RETURN(Meta m, LoadMeta(id));
  ContainerStatus s;
  s.id = id;
  const pid_t shim = LiveShim(id);  // before reading the exit file: see below
  auto exitText = os::ReadFile(ExitFile(id));
  if (exitText.ok()) {
    try {
      json j = json::parse(*exitText);
      s.state = State::kExited;
      s.exitCode = j.value("exitCode", 0);
      s.reason = j.value("reason", "");
      s.message = j.value("message", "");
      s.startedAt = j.value("startedAt", "");
      s.finishedAt = j.value("finishedAt", "");
      return s;
    } catch (const std::exception& e) {
      return Internal("container " + id + ": bad exit file: " + e.what());
    }
  }
  auto started = os::ReadFile(m.bundle + "/" + kStartedFile);
  if (shim > 0) {
    // The shim was alive before the exit file was found missing: the container has not been
    // reported as exited yet.
    if (!started.ok()) {
      s.state = State::kCreated;
      return s;
    }
    try {
      json j = json::parse(*started);
      s.state = State::kRunning;
      s.startedAt = j.value("startedAt", "");
      s.pid = j.value("pid", 0);
      return s;
    } catch (const std::exception& e) {
      return Internal("container " + id + ": bad started file: " + e.what());
    }
  }
  // The shim is gone without an exit file (killed?): ask crun.
  auto r = Crun({"state", id});
  if (r.ok() && r->exitCode == 0) {
    try {
      json j = json::parse(r->out);
      s.state = ParseCrunStatus(j.value("status", ""));
      s.pid = j.value("pid", 0);
    } catch (const std::exception&) {
      s.state = State::kUnknown;
    }
  }
  if (s.state == State::kExited || s.state == State::kUnknown || !r.ok() || r->exitCode != 0) {
    s.state = State::kExited;
    s.exitCode = 255;
    s.reason = "Error";
    s.message = "the container's shim exited without recording the exit status";
  }
  return s;
}

bool CrunRuntime::WaitExited(const std::string& id, Clock::time_point deadline) {
  const std::string ef = ExitFile(id);
  int n = 0;
  while (true) {
    if (os::Exists(ef)) return true;
    // Every 100 ms, also check that a shim is still there to write it.
    if (++n % 20 == 0 && LiveShim(id) == 0) return os::Exists(ef);
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status CrunRuntime::Stop(const std::string& id, int graceSeconds) {
  KVOL_ASSIGN_OR_RETURN(Meta m, LoadMeta(id));
  (void)m;
  if (os::Exists(ExitFile(id))) return Status::Ok();
  if (LiveShim(id) == 0) {
    // No shim: kill whatever crun still runs, nobody will write the exit file.
    auto r = Crun({"kill", id, "KILL"});
    (void)r;
    return Status::Ok();
  }
  auto term = Crun({"kill", id, "TERM"});
  if (!term.ok()) return term.status();
  const auto graceEnd = Clock::now() + std::chrono::seconds(graceSeconds < 0 ? 0 : graceSeconds);
  if (WaitExited(id, graceEnd)) return Status::Ok();
  auto kill = Crun({"kill", id, "KILL"});
  if (!kill.ok()) return kill.status();
  if (WaitExited(id, Clock::now() + std::chrono::seconds(10))) return Status::Ok();
  if (LiveShim(id) == 0) return Status::Ok();
  return Status(Code::kTimeout, "container " + id + " did not exit 10 s after SIGKILL");
}

void CrunRuntime::UnmountRootfs(const std::string& rootfs) {
  for (int i = 0; i < 8; ++i) {
    if (::umount2(rootfs.c_str(), 0) == 0) continue;
    if (errno == EBUSY && ::umount2(rootfs.c_str(), MNT_DETACH) == 0) continue;
    break;  // EINVAL: not a mount point (any more)
  }
}

Status CrunRuntime::Remove(const std::string& id) {
  auto mr = LoadMeta(id);
  if (!mr.ok()) {
    if (!mr.status().IsNotFound() || !ValidId(id)) return mr.status();
    auto r = Crun({"delete", "--force", id});  // only crun may still know it
    (void)r;
    return os::RemoveTreeOneFs(MetaDir(id));
  }
  const Meta& m = *mr;
  if (!os::Exists(ExitFile(id)) && LiveShim(id) != 0) {
    return Conflict("container " + id + " is still running; stop it first");
  }
  auto del = Crun({"delete", "--force", id});
  if (!del.ok()) return del.status();
  if (del->exitCode != 0 && del->err.find("does not exist") == std::string::npos &&
      del->err.find("No such file") == std::string::npos) {
    return Internal("crun delete " + id + ": " + Trim(del->err));
  }
  Untrack(id);
  UnmountRootfs(m.rootfs);
  KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(m.layer));
  KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(m.bundle));
  return os::RemoveTreeOneFs(MetaDir(id));
}

Result<std::vector<std::string>> CrunRuntime::List() {
  std::set<std::string> ids;
  if (DIR* d = ::opendir(metaRoot_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && os::Exists(metaRoot_ + "/" + n + "/meta.json")) ids.insert(n);
    }
    ::closedir(d);
  }
  if (os::Exists(crunRoot_)) {
    auto r = Crun({"list", "-f", "json"});
    if (r.ok() && r->exitCode == 0) {
      try {
        json j = json::parse(r->out.empty() ? "[]" : r->out);
        for (const json& c : j) ids.insert(c.value("id", ""));
      } catch (const std::exception&) {
      }
    }
  }
  ids.erase("");
  return std::vector<std::string>(ids.begin(), ids.end());
}

void CrunRuntime::Track(const std::string& id, pid_t pid, int pidfd) {
  int fd = pidfd >= 0 ? pidfd : PidfdOpen(pid);
  if (fd < 0) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    tracked_[fd] = id;
  }
  Wake();
}

void CrunRuntime::Untrack(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = tracked_.begin(); it != tracked_.end(); ++it) {
    if (it->second == id) {
      // Keep reaping: a child shim that is still running must not become a zombie forever.
      siginfo_t si{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(it->first), &si,
               WEXITED | WNOHANG);
      ::close(it->first);
      tracked_.erase(it);
      break;
    }
  }
  Wake();
}

void CrunRuntime::AdoptRunningShims() {
  DIR* d = ::opendir(metaRoot_.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string id = e->d_name;
    if (id == "." || id == ".." || os::Exists(ExitFile(id))) continue;
    if (pid_t pid = LiveShim(id); pid > 0) Track(id, pid);
  }
  ::closedir(d);
}

void CrunRuntime::WatchLoop() {
  while (!stopping_) {
    std::vector<pollfd> fds = {{wakeFd_, POLLIN, 0}};
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& [fd, id] : tracked_) fds.push_back({fd, POLLIN, 0});
    }
    int rc = ::poll(fds.data(), fds.size(), -1);
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      uint64_t v;
      ssize_t n = ::read(wakeFd_, &v, sizeof v);
      (void)n;
    }
    std::vector<std::string> exited;
    std::function<void(const std::string&)> handler;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        auto it = tracked_.find(fds[i].fd);
        if (it == tracked_.end()) continue;  // untracked meanwhile
        pollfd again{it->first, POLLIN, 0};  // the fd may have been closed and reused
        if (::poll(&again, 1, 0) != 1) continue;
        siginfo_t si{};
        // Reap it when it is our child (started by this process); ECHILD otherwise.
        ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(it->first), &si,
                 WEXITED | WNOHANG);
        exited.push_back(it->second);
        ::close(it->first);
        tracked_.erase(it);
      }
      handler = onExit_;
    }
    if (handler) {
      for (const std::string& id : exited) handler(id);
    }
  }
}

}  // namespace

std::unique_ptr<Runtime> NewCrunRuntime(const RuntimeOptions& opts) {
  return std::make_unique<CrunRuntime>(opts);
}

}  // namespace kvol::runtime
