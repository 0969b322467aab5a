// Sandbox namespace files (see sandbox.h).
#include "src/runtime/sandbox.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "kvol/common/trace.h"
#include "kvol/os/fs.h"

namespace kvol::runtime {

namespace {

constexpr long kNsfsMagic = 0x6e736673;
const char* const kNames[] = {"net", "ipc", "uts"};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// The child: unshare, hostname, lo up, report (one byte: 0 or errno), wait for the parent to close
// its end of `hold`. Only async-signal-safe calls.
[[noreturn]] void Child(pid_t parent, int report, int hold, const char* hostname,
                        size_t hostnameLen) {
  // Every other descriptor goes first: a fork without exec keeps all of the agent's, and another
  // sandbox child forked at the same moment (the pool's spare and a pod's sandbox) would hold this
  // child's `hold` pipe open, so neither would ever see EOF and the agent would wait forever.
  const unsigned lo = static_cast<unsigned>(std::min(report, hold));
  const unsigned hi = static_cast<unsigned>(std::max(report, hold));
  if (lo > 3) ::syscall(SYS_close_range, 3U, lo - 1, 0U);
  if (hi > lo + 1) ::syscall(SYS_close_range, lo + 1, hi - 1, 0U);
  ::syscall(SYS_close_range, hi + 1, ~0U, 0U);
  // Gone with the thread that forked it (which waits for it), never left behind.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
  char err = 0;
  if (::unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
    err = static_cast<char>(errno);
  } else if (hostnameLen > 0 && ::sethostname(hostname, hostnameLen) != 0) {
    err = static_cast<char>(errno);
  } else {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof ifr);
    std::memcpy(ifr.ifr_name, "lo", 3);
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
      err = static_cast<char>(errno);
    } else {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
      if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = static_cast<char>(errno);
    }
  }
  if (::write(report, &err, 1) != 1) ::_exit(1);
  char c;
  while (::read(hold, &c, 1) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

bool IsSandbox(const std::string& dir) {
  bool all = true;
  for (const char* n : kNames) all = all && IsNamespaceFile(dir + "/" + n);
  return all;
}

// Sets the hostname of the UTS namespace bind-mounted at `utsFile`, from a thread of its own
// (setns changes the calling thread only; the thread ends right after).
Status SetHostnameIn(const std::string& utsFile, const std::string& hostname) {
  Status st;
  std::thread t([&] {
    int fd = ::open(utsFile.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      st = Internal(Errno("open " + utsFile));
      return;
    }
    if (::setns(fd, CLONE_NEWUTS) != 0) {
      st = Internal(Errno("join " + utsFile));
    } else if (::sethostname(hostname.data(), hostname.size()) != 0) {
      st = Internal(Errno("sethostname " + hostname));
    }
    ::close(fd);
  });
  t.join();
  return st;
}

// The kernel's limit on a hostname (HOST_NAME_MAX).
Status CheckHostname(const std::string& hostname) {
  if (hostname.size() > 64) return Invalid("hostname longer than 64 characters: " + hostname);
  return Status::Ok();
}

std::string ParentOf(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : p.substr(0, slash);
}

}  // namespace

bool IsNamespaceFile(const std::string& path) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == kNsfsMagic;
}

Status MakeSandboxNamespaces(const std::string& dir, const std::string& hostname) {
  if (IsSandbox(dir)) return Status::Ok();
  // A half-made sandbox (an earlier failure): start over.
  KVOL_RETURN_IF_ERROR(RemoveSandboxNamespaces(dir));
  KVOL_RETURN_IF_ERROR(os::MakeDirs(dir, 0700));
  for (const char* n : kNames) {
    std::string p = dir + "/" + n;
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
    if (fd < 0) return Internal(Errno("create " + p));
    ::close(fd);
  }
  KVOL_RETURN_IF_ERROR(CheckHostname(hostname));
  int report[2], hold[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Internal(Errno("pipe"));
  if (::pipe2(hold, O_CLOEXEC) != 0) {
    ::close(report[0]);
    ::close(report[1]);
    return Internal(Errno("pipe"));
  }
  const pid_t self = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    ::close(hold[1]);
    Child(self, report[1], hold[0], hostname.data(), hostname.size());
  }
  ::close(report[1]);
  ::close(hold[0]);
  Status st;
  if (pid < 0) {
    st = Internal(Errno("fork"));
  } else {
    char err = 1;
    ssize_t n;
    while ((n = ::read(report[0], &err, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) {
      st = Internal("sandbox child died");
    } else if (err != 0) {
      st = Internal(std::string("sandbox namespaces: ") + std::strerror(err));
    } else {
      for (const char* ns : kNames) {
        std::string src = "/proc/" + std::to_string(pid) + "/ns/" + ns;
        std::string dst = dir + "/" + ns;
        if (::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) != 0) {
          st = Internal(Errno("bind " + src + " on " + dst));
          break;
        }
      }
    }
  }
  ::close(report[0]);
  ::close(hold[1]);  // the child exits
  if (pid > 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (!st.ok()) {
    Status cleanup = RemoveSandboxNamespaces(dir);
    (void)cleanup;
  }
  return st;
}

Status RemoveSandboxNamespaces(const std::string& dir) {
  for (const char* n : kNames) {
    std::string p = dir + "/" + n;
    while (IsNamespaceFile(p)) {
      if (::umount2(p.c_str(), MNT_DETACH) != 0) return Internal(Errno("umount " + p));
    }
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Internal(Errno("remove " + p));
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Internal(Errno("remove " + dir));
  return Status::Ok();
}

SandboxPool::SandboxPool(std::string spareDir) : spareDir_(std::move(spareDir)) {
  thread_ = std::thread([this] { Run(); });
}

SandboxPool::~SandboxPool() { Close(); }

bool SandboxPool::HasSpare() {
  std::lock_guard<std::mutex> l(mu_);
  return ready_;
}

void SandboxPool::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> l(mu_);
  ready_ = false;
  Status st = RemoveSandboxNamespaces(spareDir_);
  (void)st;
}

Status SandboxPool::Take(const std::string& dir, const std::string& hostname) {
  if (IsSandbox(dir)) return Status::Ok();
  KVOL_RETURN_IF_ERROR(CheckHostname(hostname));
  std::unique_lock<std::mutex> l(mu_);
  Status st = Unavailable("no spare sandbox");
  if (ready_) {
    ready_ = false;
    // A half-made sandbox of an earlier attempt goes first; rename needs the parent.
    st = RemoveSandboxNamespaces(dir);
    if (st.ok()) st = os::MakeDirs(ParentOf(dir), 0755);
    if (st.ok() && ::rename(spareDir_.c_str(), dir.c_str()) != 0) {
      st = Internal(Errno("move " + spareDir_ + " to " + dir));
      Status drop = RemoveSandboxNamespaces(spareDir_);
      (void)drop;
    } else if (st.ok() && !hostname.empty()) {
      st = SetHostnameIn(dir + "/uts", hostname);
      if (!st.ok()) {
        Status drop = RemoveSandboxNamespaces(dir);
        (void)drop;
      }
    }
  }
  if (!closed_) {
    want_ = true;
    cv_.notify_all();
  }
  l.unlock();
  if (NodeTraceOn()) {  // the pod's uid is the name of the sandbox dir's parent
    const std::string pod = ParentOf(dir);
    NodeTrace(pod.substr(pod.rfind('/') + 1), st.ok() ? "sandbox from spare" : "sandbox made");
  }
  if (st.ok()) return st;
  return MakeSandboxNamespaces(dir, hostname);
}

void SandboxPool::Run() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return closed_ || (want_ && !ready_); });
    if (closed_) return;
    // Not during the start of the pod that took the last spare: making one (a fork of the agent,
    // a network namespace) would take a CPU from that pod's volumes and crun.
    if (cv_.wait_for(l, kRefillDelay, [this] { return closed_; })) return;
    want_ = false;
    l.unlock();
    // Leftovers (a dead agent's spare, a failed attempt) first.
    Status st = RemoveSandboxNamespaces(spareDir_);
    if (st.ok()) st = MakeSandboxNamespaces(spareDir_, "");
    l.lock();
    // On failure the next Take makes its sandbox on the spot and asks again.
    ready_ = st.ok();
  }
}

}  // namespace kvol::runtime
