// Internal to kvol_runtime: a pre-started shim parent, so that starting a container's shim costs a
// fork of a small single-threaded process instead of an exec of the whole kvol binary (~3 ms of
// dynamic linking and static initialisation per container, more under load).
//
// The runtime starts `<selfExe> __shim --zygote` once, with one end of a socketpair as fd 3. For
// each container it sends one message: the shim's arguments ('\0'-separated) and three fds (the
// shim's stdout, stderr and ready pipe); the zygote forks, the child puts them on 1, 2 and 3,
// /dev/null on 0, closes the rest and runs ShimMain (which detaches with setsid, so the shim
// outlives the zygote and the agent). The zygote replies with the child's pid (or -errno) and a
// pidfd of it, opened before the child can be reaped (the zygote reaps its children through a
// signalfd). The zygote exits when the runtime's end of the socket closes (the runtime is
// destroyed or the agent dies): running shims are not affected.
//
// A shim forked this way has the zygote's command line, so the runtime recognises its shims by
// the start time in their pid file (shim_protocol.h), not by /proc/<pid>/cmdline.
//
// Thread safety: ShimZygote::Spawn may be called from any thread (one request at a time).
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::runtime {

// The zygote process's main loop (`__shim --zygote`); `sock` is its end of the socketpair.
int ZygoteMain(int sock);

struct SpawnedShim {
  pid_t pid = -1;
  int pidfd = -1;  // owned by the caller
};

class ShimZygote {
 public:
  // Starts the zygote; nullptr (and the reason in *why) when it cannot be started.
  static std::unique_ptr<ShimZygote> Start(const std::string& exe, std::string* why);
  ~ShimZygote();  // closes the socket and waits for the zygote to exit
  ShimZygote(const ShimZygote&) = delete;
  ShimZygote& operator=(const ShimZygote&) = delete;

  // Forks a shim running ShimMain(args) with outFd/errFd/readyFd as its fds 1, 2 and 3 (the
  // caller keeps and closes its own copies). Any error means the zygote is unusable (drop it):
  // kUnavailable when the request was not delivered (no shim was forked: spawn it another way),
  // another code when it was and the outcome is unknown (fail this start).
  Result<SpawnedShim> Spawn(const std::vector<std::string>& args, int outFd, int errFd,
                            int readyFd);

 private:
  ShimZygote(int sock, pid_t pid) : sock_(sock), pid_(pid) {}
  std::mutex mu_;
  int sock_ = -1;
  pid_t pid_ = -1;
};

// The start time of process `pid` (field 22 of /proc/<pid>/stat, clock ticks since boot), 0 when
// there is no such process; *zombie says whether it has exited and is not reaped yet.
unsigned long long ProcStartTime(pid_t pid, bool* zombie = nullptr);

}  // namespace kvol::runtime
