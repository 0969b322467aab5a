// The shim zygote (see shim_zygote.h).
#include "src/runtime/shim_zygote.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "kvol/os/fs.h"
#include "kvol/os/spawn.h"
#include "kvol/runtime/shim.h"
#include "src/runtime/shim_protocol.h"

extern char** environ;

namespace kvol::runtime {

namespace {

constexpr size_t kMaxRequest = 64 * 1024;
constexpr int kRequestFds = 3;  // stdout, stderr, ready

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Sends `data` with `fds` attached (SCM_RIGHTS). Returns false on error.
bool SendWithFds(int sock, const void* data, size_t len, const int* fds, int nfds) {
  iovec iov{const_cast<void*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kRequestFds)];
  if (nfds > 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<size_t>(nfds));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<size_t>(nfds));
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * static_cast<size_t>(nfds));
  }
  while (true) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(len);
  }
}

// Receives one message (close-on-exec fds). Returns its length, 0 at EOF, -1 on error; the fds
// received go to `fds` (the rest set to -1), *nfds says how many.
ssize_t RecvWithFds(int sock, char* buf, size_t cap, int* fds, int maxFds, int* nfds) {
  iovec iov{buf, cap};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kRequestFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  *nfds = 0;
  for (int i = 0; i < maxFds; ++i) fds[i] = -1;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const char* data = reinterpret_cast<const char*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      if (*nfds < maxFds) {
        fds[(*nfds)++] = fd;
      } else {
        ::close(fd);
      }
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    for (int i = 0; i < *nfds; ++i) ::close(fds[i]);
    *nfds = 0;
    errno = EMSGSIZE;
    return -1;
  }
  return n;
}

// The forked child: fds in place, then the shim. Never returns.
[[noreturn]] void RunChild(int sock, int sfd, const int* fds, std::vector<std::string> args) {
  ::close(sock);
  ::close(sfd);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int null = ::open("/dev/null", O_RDONLY);
  // Move the received fds above 3 first so that the dup2s below cannot clobber one another.
  int hi[kRequestFds];
  for (int i = 0; i < kRequestFds; ++i) hi[i] = ::fcntl(fds[i], F_DUPFD, 10);
  if (null < 0 || hi[0] < 0 || hi[1] < 0 || hi[2] < 0 || ::dup2(null, 0) < 0 ||
      ::dup2(hi[0], 1) < 0 || ::dup2(hi[1], 2) < 0 || ::dup2(hi[2], 3) < 0) {
    ::_exit(127);
  }
  ::close_range(4, ~0U, 0);
  ::prctl(PR_SET_NAME, "kvol-shim", 0, 0, 0);
  args.push_back(kShimReadyFd);
  args.push_back("3");
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  int rc = ShimMain(static_cast<int>(args.size()), argv.data());
  std::fflush(nullptr);
  ::_exit(rc);
}

}  // namespace

unsigned long long ProcStartTime(pid_t pid, bool* zombie) {
  if (zombie) *zombie = false;
  if (pid <= 0) return 0;
  auto stat = os::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return 0;
  auto rp = stat->rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream in(stat->substr(rp + 1));
  std::string field;
  unsigned long long start = 0;
  // After the command: field 3 (state) ... field 22 (starttime).
  for (int i = 3; i <= 22 && (in >> field); ++i) {
    if (i == 3 && zombie) *zombie = field == "Z";
    if (i == 22) start = std::strtoull(field.c_str(), nullptr, 10);
  }
  return start;
}

int ZygoteMain(int sock) {
  // Nothing the agent leaked (fds without close-on-exec) stays open here: 0-2 and the socket only.
  if (sock > 3) ::close_range(3, static_cast<unsigned>(sock) - 1, 0);
  ::close_range(static_cast<unsigned>(sock) + 1, ~0U, 0);
  ::prctl(PR_SET_NAME, "kvol-zygote", 0, 0, 0);
  if (::chdir("/") != 0) return 1;
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  std::vector<char> buf(kMaxRequest);
  while (true) {
    pollfd p[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
    int rc = ::poll(p, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return 1;
    if (p[1].revents) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) > 0) {
      }
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
    if (!p[0].revents) continue;
    int fds[kRequestFds];
    int nfds = 0;
    ssize_t n = RecvWithFds(sock, buf.data(), buf.size(), fds, kRequestFds, &nfds);
    if (n == 0) return 0;  // the runtime is gone
    if (n < 0) {
      if (errno == EMSGSIZE) continue;
      return 1;
    }
    int32_t reply;
    int pidfd = -1;
    if (nfds != kRequestFds) {
      reply = -EINVAL;
    } else {
      std::vector<std::string> args;
      size_t start = 0;
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        if (buf[i] == '\0') {
          args.emplace_back(buf.data() + start, i - start);
          start = i + 1;
        }
      }
      pid_t pid = ::fork();
      if (pid == 0) RunChild(sock, sfd, fds, std::move(args));
      reply = pid > 0 ? pid : -errno;
      // Opened while the child cannot have been reaped yet (only this loop reaps).
      if (pid > 0) pidfd = PidfdOpen(pid);
    }
    for (int i = 0; i < nfds; ++i) ::close(fds[i]);
    bool sent = SendWithFds(sock, &reply, sizeof reply, &pidfd, pidfd >= 0 ? 1 : 0);
    if (pidfd >= 0) ::close(pidfd);
    if (!sent) return 1;
  }
}

std::unique_ptr<ShimZygote> ShimZygote::Start(const std::string& exe, std::string* why) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    *why = std::string("socketpair: ") + std::strerror(errno);
    return nullptr;
  }
  std::string a0 = exe, a1 = kShimSubcommand, a2 = kShimZygote;
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  pid_t pid = -1;
  int rc;
  {
    os::SpawnSetup sp(/*newProcessGroup=*/false);
    posix_spawn_file_actions_addopen(&sp.fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&sp.fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&sp.fa, sv[1], 3);
    rc = ::posix_spawn(&pid, exe.c_str(), &sp.fa, &sp.attr, argv, environ);
  }
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    *why = "spawn " + exe + ": " + std::strerror(rc);
    return nullptr;
  }
  return std::unique_ptr<ShimZygote>(new ShimZygote(sv[0], pid));
}

ShimZygote::~ShimZygote() {
  ::close(sock_);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Result<SpawnedShim> ShimZygote::Spawn(const std::vector<std::string>& args, int outFd, int errFd,
                                      int readyFd) {
  std::string req;
  for (const std::string& a : args) {
    req += a;
    req += '\0';
  }
  if (req.size() > kMaxRequest) return Invalid("shim arguments too long");
  std::lock_guard<std::mutex> l(mu_);
  const int fds[kRequestFds] = {outFd, errFd, readyFd};
  if (!SendWithFds(sock_, req.data(), req.size(), fds, kRequestFds)) {
    return Unavailable(std::string("shim zygote: send: ") + std::strerror(errno));
  }
  pollfd p{sock_, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 10000);
  } while (rc < 0 && errno == EINTR);
  if (rc <= 0) return Internal("shim zygote: no reply");
  int32_t reply = 0;
  int got[kRequestFds];
  int nfds = 0;
  ssize_t n =
      RecvWithFds(sock_, reinterpret_cast<char*>(&reply), sizeof reply, got, kRequestFds, &nfds);
  if (n != static_cast<ssize_t>(sizeof reply)) {
    const int err = errno;
    for (int i = 0; i < nfds; ++i) ::close(got[i]);
    // A reset means the zygote died with our request still unread in its socket: nothing was
    // forked, so the caller may start the shim another way. (EOF means it had read the request.)
    if (n < 0 && err == ECONNRESET)
      return Unavailable("shim zygote: died before reading the request");
    return Internal("shim zygote: " + std::string(n == 0 ? "exited" : std::strerror(err)));
  }
  for (int i = 1; i < nfds; ++i) ::close(got[i]);
  if (reply <= 0) {
    if (nfds > 0) ::close(got[0]);
    return Internal(std::string("shim zygote: fork: ") + std::strerror(-reply));
  }
  SpawnedShim s;
  s.pid = reply;
  s.pidfd = nfds > 0 ? got[0] : -1;
  return s;
}

}  // namespace kvol::runtime
