// Pod sandboxes as bind-mounted namespace files (kvol::runtime, internal): DIR/sandbox/{net,ipc,
// uts}. Made by a forked child that unshares the three namespaces, sets the hostname, brings `lo`
// up and waits while the parent (in the host mount namespace) bind-mounts /proc/<child>/ns/* onto
// the files. The child only makes async-signal-safe system calls, so forking from a multithreaded
// process is safe. Idempotent: files that already hold namespace mounts are kept.
// Thread safety: callers serialise calls for the same directory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "kvol/common/status.h"

namespace kvol::runtime {

// Creates (or keeps) the namespace files in `sandboxDir`.
Status MakeSandboxNamespaces(const std::string& sandboxDir, const std::string& hostname);
// Unmounts and removes the files and the directory; OK when already gone.
Status RemoveSandboxNamespaces(const std::string& sandboxDir);
// True when `path` is a bind-mounted namespace file (nsfs).
bool IsNamespaceFile(const std::string& path);

// One spare sandbox, made ahead of time on a background thread, so that a pod's sandbox costs a
// rename and a sethostname (from a short-lived thread that joins the spare's UTS namespace)
// instead of a fork of the agent, three new namespaces (the network namespace is the slow one)
// and three bind mounts: ~3-5 ms off each pod start. A spare is used once, by one pod. The
// files a dead agent's pool left in `spareDir` are removed when the next pool starts.
// Thread safety: Take and Close may be called from any thread.
class SandboxPool {
 public:
  // `spareDir` must be on the filesystem of the pods' sandbox directories (rename). Nothing is
  // made before the first Take (the caller may still have to prepare the filesystem).
  explicit SandboxPool(std::string spareDir);
  ~SandboxPool();  // Close()
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // Makes `dir` a sandbox with `hostname`: the spare when one is ready, else made on the spot
  // (MakeSandboxNamespaces); then a new spare is made in the background. A `dir` that already
  // holds a sandbox is kept.
  Status Take(const std::string& dir, const std::string& hostname);
  // True when a spare is ready (the next Take will use it).
  bool HasSpare();
  // Stops the background thread and removes the spare; Take afterwards makes sandboxes on the
  // spot. Idempotent.
  void Close();

 private:
  void Run();

  // How long after a Take the next spare is made: after a typical pod start (~20-30 ms), so
  // that the two do not compete for the CPUs. A Take that finds no spare makes its own.
  static constexpr std::chrono::milliseconds kRefillDelay{150};

  const std::string spareDir_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool want_ = false;    // the background thread should make a spare
  bool ready_ = false;   // spareDir_ holds a complete sandbox
  bool closed_ = false;  // no more spares
  std::thread thread_;
};

}  // namespace kvol::runtime
