// The container runtime (kvol::runtime): pods' containers run by crun from one OCI bundle per
// container, each supervised by a small shim process (`kvol __shim`, forked by a pre-started zygote;
// see shim.h) that outlives the agent: the agent can be killed and restarted and find its
// containers again (List + Status), as the kubelet does with conmon.
//
// - Sandbox: the namespaces the containers of one pod share (network with only loopback, IPC,
//   UTS with the pod's hostname) are kept as bind-mounted namespace files under
//   DIR/pods/<uid>/sandbox/{net,ipc,uts}: no pause process is needed.
// - A container's root filesystem is an overlay: lower = the image's rootfs (read-only), upper +
//   work = DIR/pods/<uid>/containers/<name>/layer-<restartCount>/{upper,work}, so what a
//   container writes outside its volumes is gone when it restarts (a new restart count) and the
//   layer is removed with Remove.
// - Mounts are bind mounts (read-only when asked: MS_RDONLY on the bind), devices are bind-mounted
//   device nodes (volumeMode Block).
// - crun runs inside a private mount namespace (slave propagation, so later host mounts show up)
//   in which /sys/fs/cgroup/unified is unmounted: this VM's hybrid cgroups make crun refuse
//   containers otherwise (../shared/reference/podman-and-crun-facts.md). rlimits are capped at the
//   hard limits. crun's state lives in DIR/run/crun.
// - Logs: the shim writes the container's stdout/stderr to logPath in the CRI format (cri_log.h).
// - DIR is bind-mounted onto itself and made rshared on first use (as the kubelet does with its
//   root dir), so mounts and unmounts under DIR reach the shims' slave mount namespaces (this VM's
//   mounts are all private otherwise). Tearing a node down unmounts DIR last.
// - The exit handler runs on a runtime thread when a container's shim exits (the exit status is
//   recorded by then); it is also called for shims a previous agent started (found at startup).
//
// Thread safety: all methods may be called concurrently for different containers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::runtime {

struct Sandbox {
  std::string podUid;
  std::string netns, ipcns, utsns;  // paths of the bind-mounted namespace files
};

struct BindMount {
  std::string hostPath;       // directory, file, or (device=true) a block device node
  std::string containerPath;  // absolute path in the container
  bool readOnly = false;
  bool device = false;
};

struct ContainerConfig {
  std::string id;  // unique on the node: "<pod-uid>_<container>_<restartCount>"
  std::string podUid, podName, podNamespace, containerName;
  int restartCount = 0;
  std::string imageRootfs;        // lower dir (the image store's rootfs)
  std::string containerDir;       // DIR/pods/<uid>/containers/<name>
  std::string logPath;            // containerDir/<restartCount>.log
  std::vector<std::string> args;  // argv, resolved (command/args over entrypoint/cmd)
  std::vector<std::string> env;   // "K=V", PATH included
  std::string workingDir;         // "" = "/"
  std::vector<BindMount> mounts;
  Sandbox sandbox;
  std::string hostname;  // the pod's name
  bool privileged = false;
  bool readOnlyRootfs = false;
  int64_t uid = 0, gid = 0;
};

enum class State { kUnknown, kCreated, kRunning, kExited };

struct ContainerStatus {
  std::string id;
  State state = State::kUnknown;
  int exitCode = 0;       // when exited; 128+N when killed by signal N
  std::string reason;     // "Completed", "Error", "OOMKilled", "StartError" (exited)
  std::string message;    // the runtime's error text for StartError
  std::string startedAt;  // RFC 3339, UTC ("2026-11-27T07:24:34Z")
  std::string finishedAt;
  int pid = 0;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Idempotent; hostname set in the UTS namespace, loopback up in the network namespace.
  virtual Result<Sandbox> EnsureSandbox(const std::string& podDir, const std::string& podUid,
                                        const std::string& hostname) = 0;
  // Unmounts and removes the namespace files. Containers must be gone.
  virtual Status RemoveSandbox(const std::string& podDir) = 0;
  // Creates the bundle and starts the container under its shim; returns once the container's
  // process runs (or has already failed: then Status shows kExited with StartError).
  virtual Status Start(const ContainerConfig& c) = 0;
  virtual Result<ContainerStatus> Inspect(const std::string& id) = 0;
  // SIGTERM, up to graceSeconds, then SIGKILL; returns once it has exited. OK when not running.
  // As in Kubernetes, a container's pid 1 without a TERM handler (e.g. a bare `sleep`) ignores
  // SIGTERM (the kernel protects a pid namespace's init) and is killed after the grace period.
  virtual Status Stop(const std::string& id, int graceSeconds) = 0;
  // Deletes an exited container: crun state, bundle, its overlay layer. Its log stays.
  virtual Status Remove(const std::string& id) = 0;
  // The ids of every container this node's runtime knows (running or exited), for reconstruction:
  // every container started and not yet Removed (its state dir DIR/run/containers/<id> exists,
  // whether crun still has it or not), plus any id crun itself still has state for. Sorted.
  virtual Result<std::vector<std::string>> List() = 0;
  // Called (from a runtime thread) with a container's id when it exits. Set before Start.
  virtual void SetExitHandler(std::function<void(const std::string& id)> onExit) = 0;
  // A clean node stop, once every container is removed and every volume unmounted: undoes the
  // rshared self-bind of DIR (this run's or a crashed run's: a bind of DIR on the filesystem it
  // lives on; a DIR that is its own filesystem is left alone). kConflict if mounts remain below.
  virtual Status ReleaseDataDir() = 0;
};

struct RuntimeOptions {
  std::string dataDir;  // DIR (crun state in DIR/run/crun, bundles under the pod dirs)
  std::string selfExe;  // the kvol binary that runs the shim ("" = /proc/self/exe)
  std::string crunPath = "crun";
};

std::unique_ptr<Runtime> NewCrunRuntime(const RuntimeOptions& opts);

}  // namespace kvol::runtime
