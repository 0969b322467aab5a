// The per-container shim (see include/kvol/runtime/shim.h and shim_protocol.h).
//
// Sequence: setsid; a private mount namespace (slave) without /sys/fs/cgroup/unified; become a
// child subreaper; write the pid file; run the container with its stdout/stderr on two
// pipes and crun's own errors in <bundle>/crun.log (so start errors never mix with the
// container's output) by `crun run --detach`; report "ok" on the ready fd; copy the pipes into the
// CRI log until the container (re-parented to us) has exited and the pipes are drained; write the
// exit file atomically; exit. Start failures (crun run failing) give reason StartError, exit code
// 128 and crun's error text as message.
#include "kvol/runtime/shim.h"
#include "kvol/os/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "kvol/common/trace.h"
#include "kvol/os/fs.h"
#include "kvol/runtime/cri_log.h"
#include "src/runtime/cri_time.h"
#include "src/runtime/quick_file.h"
#include "src/runtime/shim_protocol.h"
#include "src/runtime/shim_zygote.h"

extern char** environ;

namespace kvol::runtime {

namespace {

struct Args {
  std::string bundle, id, root, log, exitFile, pidFile, crun = "crun";
  int readyFd = -1;
};

void Logf(const std::string& msg) {
  std::string line = FormatRfc3339Nano(NowRealtime()) + " shim: " + msg + "\n";
  ssize_t n = ::write(2, line.data(), line.size());
  (void)n;
}

void NoopHandler(int) {}

void Ready(Args& a, const char* word) {
  if (a.readyFd < 0) return;
  std::string s = std::string(word) + "\n";
  ssize_t n = ::write(a.readyFd, s.data(), s.size());  // EPIPE when the agent is gone: fine
  (void)n;
  ::close(a.readyFd);
  a.readyFd = -1;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// crun's error text from its --log file (one message per line; the last ones matter).
std::string CrunErrors(const std::string& path, const std::string& fallback) {
  auto r = os::ReadFile(path);
  std::string s = r.ok() ? Trim(*r) : "";
  return s.empty() ? fallback : s;
}

struct ExitInfo {
  int exitCode = 0;
  std::string reason, message, startedAt, finishedAt;
};

bool WriteExit(const Args& a, const ExitInfo& e) {
  nlohmann::json j = {{"exitCode", e.exitCode},
                      {"reason", e.reason},
                      {"message", e.message},
                      {"startedAt", e.startedAt},
                      {"finishedAt", e.finishedAt}};
  Status st = WriteFileQuick(a.exitFile, j.dump() + "\n", 0644);
  if (!st.ok()) Logf("writing the exit file: " + st.ToString());
  return st.ok();
}

int StatusToCode(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

// posix_spawn of crun with stdin /dev/null, stdout/stderr as given, in its own process group,
// with default signal dispositions and an empty signal mask. Returns the pid or -errno.
pid_t SpawnCrun(const std::vector<std::string>& argv, int outFd, int errFd) {
  os::SpawnSetup s(/*newProcessGroup=*/true);
  posix_spawn_file_actions_addopen(&s.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.fa, outFd, 1);
  posix_spawn_file_actions_adddup2(&s.fa, errFd, 2);
  std::vector<char*> cargv;
  for (const std::string& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &s.fa, &s.attr, cargv.data(), environ);
  return rc == 0 ? pid : -rc;
}

// Waits for `pid`, remembering every other child reaped meanwhile (the container may be one).
int WaitFor(pid_t pid, std::map<pid_t, int>& reaped) {
  while (true) {
    int ws = 0;
    pid_t p = ::waitpid(-1, &ws, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      return 255 << 8;
    }
    if (p == pid) return ws;
    reaped[p] = ws;
  }
}

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 0; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == kShimBundle) {
      a.bundle = v;
    } else if (k == kShimId) {
      a.id = v;
    } else if (k == kShimRoot) {
      a.root = v;
    } else if (k == kShimLog) {
      a.log = v;
    } else if (k == kShimExit) {
      a.exitFile = v;
    } else if (k == kShimPid) {
      a.pidFile = v;
    } else if (k == kShimCrun) {
      a.crun = v;
    } else if (k == kShimReadyFd) {
      a.readyFd = std::atoi(v.c_str());
    } else {
      return false;
    }
  }
  return !a.bundle.empty() && !a.id.empty() && !a.root.empty() && !a.log.empty() &&
         !a.exitFile.empty() && !a.pidFile.empty();
}

int StartFailed(Args& a, const std::string& message) {
  Logf("start failed: " + message);
  ExitInfo e;
  e.exitCode = kStartErrorExitCode;
  e.reason = "StartError";
  e.message = message;
  e.startedAt = FormatRfc3339(0);
  e.finishedAt = FormatRfc3339(NowRealtime());
  WriteExit(a, e);
  Ready(a, kReadyFail);
  return 1;
}

}  // namespace

int ShimMain(int argc, char** argv) {
  if (argc == 1 && std::strcmp(argv[0], kShimZygote) == 0) return ZygoteMain(3);
  Args a;
  if (!ParseArgs(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: __shim --bundle B --id ID --root CRUNROOT --log LOG --exit EXITFILE "
                 "--pid PIDFILE [--crun PATH] [--ready-fd N]  |  __shim --zygote\n");
    return 2;
  }
  NodeTrace(a.id, "shim main");
  // Signals: handlers (not SIG_IGN, which crun and the container would inherit) so that a
  // SIGTERM/SIGINT/SIGHUP does not kill the shim and a gone reader gives EPIPE, not death.
  struct sigaction sa {};
  sa.sa_handler = NoopHandler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);

  // Nothing the agent leaked (fds without close-on-exec) stays open here but the ready fd.
  if (a.readyFd > 3) ::close_range(3, static_cast<unsigned>(a.readyFd) - 1, 0);
  ::close_range(a.readyFd >= 3 ? static_cast<unsigned>(a.readyFd) + 1 : 3, ~0U, 0);
  ::setsid();
  if (::unshare(CLONE_NEWNS) != 0)
    return StartFailed(a, std::string("unshare: ") + strerror(errno));
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return StartFailed(a, std::string("make / rslave: ") + strerror(errno));
  }
  if (::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return StartFailed(a, std::string("umount /sys/fs/cgroup/unified: ") + strerror(errno));
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  const pid_t self = ::getpid();
  Status st = WriteFileQuick(
      a.pidFile, std::to_string(self) + " " + std::to_string(ProcStartTime(self)) + "\n", 0644);
  if (!st.ok()) return StartFailed(a, st.ToString());

  auto writer = CriLogWriter::Open(a.log);
  if (!writer.ok()) return StartFailed(a, writer.status().ToString());

  int outP[2], errP[2];
  if (::pipe2(outP, O_CLOEXEC) != 0 || ::pipe2(errP, O_CLOEXEC) != 0) {
    return StartFailed(a, std::string("pipe: ") + strerror(errno));
  }
  const std::string crunLog = a.bundle + "/crun.log";
  const std::string ctrPidFile = a.bundle + "/container.pid";
  ::unlink(crunLog.c_str());
  std::map<pid_t, int> reaped;

  // `crun run --detach` = create + start in one crun process: it returns once the container's
  // process runs (exit 0) or failed to (crun's error text in crunLog), leaving the container to
  // us, its subreaper.
  NodeTrace(a.id, "shim crun spawn");
  pid_t run = SpawnCrun({a.crun, "--root", a.root, "--log=file:" + crunLog, "run", "--detach",
                         "--bundle", a.bundle, "--pid-file", ctrPidFile, a.id},
                        outP[1], errP[1]);
  ::close(outP[1]);
  ::close(errP[1]);
  if (run < 0) return StartFailed(a, "exec " + a.crun + ": " + strerror(-run));
  int rws = WaitFor(run, reaped);
  NodeTrace(a.id, "shim crun exited");
  if (StatusToCode(rws) != 0) {
    // What crun's child wrote to the pipes before failing is crun's message again: not the
    // container's output, so it stays out of the log.
    return StartFailed(
        a, CrunErrors(crunLog, "crun run failed (exit " + std::to_string(StatusToCode(rws)) + ")"));
  }
  auto pidText = os::ReadFile(ctrPidFile);
  pid_t ctr = pidText.ok() ? static_cast<pid_t>(std::atoi(pidText->c_str())) : 0;
  if (ctr <= 0) return StartFailed(a, "crun run wrote no pid file");
  const int64_t startedAt = NowRealtime();
  {
    nlohmann::json j = {{"startedAt", FormatRfc3339(startedAt)}, {"pid", ctr}};
    Status s = WriteFileQuick(a.bundle + "/" + kStartedFile, j.dump() + "\n", 0644);
    if (!s.ok()) Logf("writing the started file: " + s.ToString());
  }
  Ready(a, kReadyOk);
  NodeTrace(a.id, "shim ready sent");

  // Copy the pipes until the container has exited and both pipes are at EOF (every process
  // holding them is gone; the pid namespace dies with its init). SIGCHLD through a signalfd.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  int ctrStatus = -1;
  if (auto it = reaped.find(ctr); it != reaped.end()) ctrStatus = it->second;
  int fds[2] = {outP[0], errP[0]};
  const char* names[2] = {"stdout", "stderr"};
  int64_t exitedAt = 0;
  char buf[64 * 1024];
  while (true) {
    // Reap whatever has exited (also before the first poll: SIGCHLD may have come already).
    while (ctrStatus < 0) {
      int ws = 0;
      pid_t p = ::waitpid(-1, &ws, WNOHANG);
      if (p <= 0) break;
      if (p == ctr) ctrStatus = ws;
    }
    if (ctrStatus >= 0 && exitedAt == 0) exitedAt = NowRealtime();
    if (fds[0] < 0 && fds[1] < 0 && ctrStatus >= 0) break;
    // Once the container is gone, give stragglers holding the pipes 2 s, then stop reading.
    if (exitedAt != 0 && NowRealtime() - exitedAt > 2000000000LL) break;
    pollfd p[3] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}, {sfd, POLLIN, 0}};
    int rc = ::poll(p, 3, exitedAt ? 100 : -1);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    if (p[2].revents) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) > 0) {
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || !p[i].revents) continue;
      ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n > 0) {
        Status ws = writer->Write(names[i], buf, static_cast<size_t>(n));
        if (!ws.ok()) Logf(ws.ToString());
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  Status fs = writer->Flush();
  if (!fs.ok()) Logf(fs.ToString());
  ExitInfo e;
  e.exitCode = StatusToCode(ctrStatus < 0 ? (255 << 8) : ctrStatus);
  e.reason = e.exitCode == 0 ? "Completed" : "Error";
  e.startedAt = FormatRfc3339(startedAt);
  e.finishedAt = FormatRfc3339(exitedAt ? exitedAt : NowRealtime());
  WriteExit(a, e);
  return 0;
}

}  // namespace kvol::runtime
