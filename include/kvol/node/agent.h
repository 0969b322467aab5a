// The node agent (kvol::node): kvol's kubelet. It reaches the cluster only through the Kubernetes
// API (kvol::client::ApiClient), the same way inside `kvol serve` as in `kvol node`:
// - registers its Node (labels kubernetes.io/hostname, kubernetes.io/os, topology zone; capacity,
//   addresses, nodeInfo, daemonEndpoints.kubeletEndpoint.Port = the log server's port; Ready
//   condition) and heartbeats its status every 10 s;
// - list+watches ConfigMaps, Secrets, PVCs and PVs (the volume plugins' ObjectSource; a change
//   reaches VolumeManager::ObjectChanged at once) and the pods with spec.nodeName=<node>;
// - runs one worker per pod: sandbox, volumes (VolumeManager), image, init containers in order,
//   then containers (crun via runtime::Runtime), restart policy with the kubelet's crash-loop
//   back-off (first restart at once, then 10 s doubling to 300 s; reset after 10 min running),
//   pod status (phase, conditions, containerStatuses) written through pods/<name>/status only
//   when it changed; graceful deletion (deletionTimestamp: stop with the grace period, tear down,
//   then DELETE gracePeriodSeconds=0 with a uid precondition);
// - serves container logs on 127.0.0.1:<port> (HTTP/1.1, bearer token = the API token):
//     GET /containerLogs/<namespace>/<pod>/<container>
//         ?follow=true|false&tailLines=N&previous=true|false&timestamps=true|false
//          &sinceSeconds=N&limitBytes=N
//   200 text/plain (chunked while following, until the container exits or the client goes);
//   400 for a bad query, 401 without the token, 404 for an unknown pod/container; plain-text
//   error bodies, as the kubelet answers. podIP is left empty (the pod network has only
//   loopback); hostIP is 127.0.0.1.
// - restart: containers the runtime still has for pods bound here are adopted (not restarted);
//   others are stopped and removed; the VolumeManager reconstructs volumes.
//
// Thread safety: Start and Stop are called from one thread; everything else is internal.
// Ownership: the Agent owns its threads, runtime, volume manager and log server.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::node {

struct NodeOptions {
  std::string server;                         // API server URL, "http://127.0.0.1:41234"
  std::string token;                          // the API bearer token
  std::string certificateAuthority;           // PEM file of the CA of an https server ("" = none)
  std::string dataDir;                        // DIR
  std::string nodeName;                       // "" = the hostname, lowercased, DNS-1123
  std::string zone;                           // topology.kubernetes.io/zone ("" = none)
  std::vector<std::string> allowedHostPaths;  // hostPath prefixes ("" list = all allowed)
  std::string blockPool;                      // --block-pool (for the block driver)
  // Runtime settings (tests): the kvol binary that runs the container shim ("" = this process's
  // executable) and the crun binary.
  std::string selfExe;
  std::string crunPath = "crun";
  int heartbeatSeconds = 10;
  // --protect-kernel-defaults: leave the host's kernel settings as they are. Otherwise Start sets
  // the cgroup2 option `favordynmods` (kvol/os/cgroup_tuning.h), which takes an RCU grace period
  // (a few ms idle, tens under load) off every container start.
  bool protectKernelDefaults = false;
};

class Agent {
 public:
  explicit Agent(NodeOptions opts);
  ~Agent();  // Stop(false) when still running
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the caches, the log server, registers the Node (returns once it is registered and the
  // pods bound here have been listed and handed to their workers).
  Status Start();
  // cleanStop (SIGTERM): every pod's containers stopped with their grace periods and removed,
  // every volume unmounted (VolumeManager::UnmountAll), sandboxes removed; pods stay in the store.
  // !cleanStop: threads end, containers and mounts are left as they are (like a crash).
  void Stop(bool cleanStop);

  const std::string& nodeName() const;
  int logPort() const;  // the log server's port (after Start)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `kvol node`: runs an Agent until SIGTERM/SIGINT. Prints exactly `kvol node ready <name>` on
// stdout once the Node is registered; logs go to stderr. Returns 0 after a clean stop, 1 when the
// agent could not start (`kvol: <message>` on stderr).
int RunNode(const NodeOptions& opts);

}  // namespace kvol::node
