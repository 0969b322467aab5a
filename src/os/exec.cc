// Exec: posix_spawnp with piped stdin/stdout/stderr, a poll loop, and a timeout.
#include "kvol/os/exec.h"
#include "kvol/os/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "kvol/os/safe_path.h"
#include "src/os/os_internal.h"

extern char** environ;

namespace kvol::os {
namespace {

struct Pipe {
  Fd r, w;
};

Status MakePipe(Pipe& p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internal::ErrnoStatus("pipe", "for exec", errno);
  p.r = Fd(fds[0]);
  p.w = Fd(fds[1]);
  return Status::Ok();
}

void SetNonBlock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// RAII for the spawn attribute objects.
// Blocks SIGPIPE in this thread while we write the child's stdin (a child that exits without
// reading it must give EPIPE, not kill the agent), and swallows a SIGPIPE raised meanwhile.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    wasPending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    if (!wasPending_) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool wasPending_ = false;
};

// Reads what is available; returns false at EOF or on an error other than EAGAIN.
bool Drain(int fd, std::string& into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<ExecResult> Exec(const std::vector<std::string>& argv, const ExecOptions& opts) {
  if (argv.empty() || argv[0].empty()) return Invalid("exec: empty argv");
  if (!opts.cwd.empty()) {  // posix_spawnp would report a missing cwd as a missing program
    struct stat st;
    if (::stat(opts.cwd.c_str(), &st) != 0) {
      return internal::ErrnoStatus("exec " + argv[0] + ": working directory", opts.cwd, errno);
    }
  }
  Pipe in, out, err;
  KVOL_RETURN_IF_ERROR(MakePipe(in));
  KVOL_RETURN_IF_ERROR(MakePipe(out));
  KVOL_RETURN_IF_ERROR(MakePipe(err));

  // Every signal at its default in the child (SIGPIPE, SIGTERM... even if ignored here), and its
  // own process group, so a timeout kills what the child started too.
  SpawnSetup s(/*newProcessGroup=*/true);
  posix_spawn_file_actions_adddup2(&s.fa, in.r.get(), 0);
  posix_spawn_file_actions_adddup2(&s.fa, out.w.get(), 1);
  posix_spawn_file_actions_adddup2(&s.fa, err.w.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&s.fa, 3);  // fds some thread opened without CLOEXEC
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&s.fa, opts.cwd.c_str());

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envStrings;
  std::vector<char*> envp;
  if (!opts.env.empty()) {
    for (const auto& [k, v] : opts.env) envStrings.push_back(k + "=" + v);
    for (std::string& e : envStrings) envp.push_back(e.data());
    envp.push_back(nullptr);
  }

  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &s.fa, &s.attr, args.data(),
                        opts.env.empty() ? environ : envp.data());
  if (rc != 0) return internal::ErrnoStatus("exec", argv[0], rc);

  in.r = Fd();
  out.w = Fd();
  err.w = Fd();
  SigpipeGuard sigpipe;
  SetNonBlock(in.w.get());
  SetNonBlock(out.r.get());
  SetNonBlock(err.r.get());
  if (opts.stdinData.empty()) in.w = Fd();
  Fd pidFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // readable once it exits

  ExecResult res;
  size_t written = 0;
  // timeoutSec <= 0: no limit (a day stands in for it).
  const double limitSec = opts.timeoutSec > 0 ? opts.timeoutSec : 86400.0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(limitSec * 1000));
  bool exited = false;
  int status = 0;
  while (true) {
    if (!pidFd.valid() && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (exited) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      Drain(out.r.get(), res.out);
      Drain(err.r.get(), res.err);
      char secs[32];
      std::snprintf(secs, sizeof secs, "%g", opts.timeoutSec);
      return Status(Code::kTimeout, argv[0] + " timed out after " + secs + "s (killed)");
    }
    struct pollfd pf[4];
    int n = 0;
    int iOut = -1, iErr = -1, iIn = -1, iPid = -1;
    if (out.r.valid()) pf[iOut = n++] = {out.r.get(), POLLIN, 0};
    if (err.r.valid()) pf[iErr = n++] = {err.r.get(), POLLIN, 0};
    if (in.w.valid()) pf[iIn = n++] = {in.w.get(), POLLOUT, 0};
    if (pidFd.valid()) pf[iPid = n++] = {pidFd.get(), POLLIN, 0};
    int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1);
    if (!pidFd.valid() && ms > 20) ms = 20;  // no pidfd: poll waitpid
    int pr = ::poll(pf, static_cast<nfds_t>(n), ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return internal::ErrnoStatus("poll", "for " + argv[0], errno);
    }
    if (iOut >= 0 && pf[iOut].revents && !Drain(out.r.get(), res.out)) out.r = Fd();
    if (iErr >= 0 && pf[iErr].revents && !Drain(err.r.get(), res.err)) err.r = Fd();
    if (iIn >= 0 && pf[iIn].revents) {
      ssize_t w =
          ::write(in.w.get(), opts.stdinData.data() + written, opts.stdinData.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == opts.stdinData.size()) {
        in.w = Fd();  // done, or the child closed its stdin
      }
    }
    if (iPid >= 0 && pf[iPid].revents) {
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      exited = true;
    }
  }
  // What the child wrote before exiting is in the pipes; a grandchild that kept them open does
  // not make us wait.
  if (out.r.valid()) Drain(out.r.get(), res.out);
  if (err.r.valid()) Drain(err.r.get(), res.err);
  res.exitCode = ExitCodeOf(status);
  return res;
}

Result<ExecResult> ExecOk(const std::vector<std::string>& argv, const ExecOptions& opts) {
  KVOL_ASSIGN_OR_RETURN(ExecResult r, Exec(argv, opts));
  if (r.exitCode != 0) {
    std::string line = r.err.substr(0, r.err.find('\n'));
    return Internal(argv[0] + " failed (exit " + std::to_string(r.exitCode) + ")" +
                    (line.empty() ? "" : ": " + line));
  }
  return r;
}

}  // namespace kvol::os
