// Internal to kvol_node: the agent's Node object (registration and the 10 s heartbeat of its
// status through nodes/<name>/status), built from facts read from the host; and
// status.volumesInUse, the attach-required CSI volumes this node has on disk
// (volume::CsiVolumesInUse: from before they are staged until after they are unstaged), re-read
// every kVolumesInUsePoll and patched as soon as it changes.
// Every write is a JSON merge patch naming only the agent's own status fields, so
// status.volumesAttached (written by the attach/detach controller) is never clobbered.
//
// Thread safety: NodeStatusReporter's methods are called from one thread (Start/Stop); its
// heartbeat runs on its own thread with its own ApiClient.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "kvol/api/reflect.h"
#include "kvol/client/client.h"
#include "kvol/common/status.h"

namespace kvol::node {

struct HostInfo {
  int64_t cpus = 1;
  int64_t memoryKi = 0;     // MemTotal of /proc/meminfo
  int64_t ephemeralKi = 0;  // statvfs of DIR
  std::string kernelVersion, osImage, architecture, crunVersion, machineID, bootID;
};

// Reads nproc, /proc/meminfo, statvfs(dataDir), uname, /etc/os-release, `crun --version`.
HostInfo ReadHostInfo(const std::string& dataDir, const std::string& crunPath);

// The Node: labels (kubernetes.io/hostname, kubernetes.io/os=linux, topology.kubernetes.io/zone
// when zone is set) and status (capacity, allocatable, conditions, addresses, daemonEndpoints,
// nodeInfo), with `now` as heartbeat and transition time.
api::json BuildNode(const std::string& name, const std::string& zone, int logPort,
                    const HostInfo& h, const std::string& now);

class NodeStatusReporter {
 public:
  NodeStatusReporter(client::Kubeconfig cfg, std::string name, std::string zone, int logPort,
                     HostInfo host, int heartbeatSeconds);
  ~NodeStatusReporter();
  static constexpr std::chrono::milliseconds kVolumesInUsePoll{50};

  // Report status.volumesInUse from what is on disk under dataDir (call before Register).
  void ReportVolumesInUseFrom(std::string dataDir) { dataDir_ = std::move(dataDir); }
  // Creates the Node, or (it exists) merges our labels and merge-patches our status fields.
  Status Register();
  void StartHeartbeat();
  void Stop();

 private:
  Status PatchStatus(client::ApiClient& c, const api::json& status);
  void Heartbeat();
  // status.volumesInUse as the patch carries it (an empty list when nothing is in use).
  api::json VolumesInUse() const;

  client::Kubeconfig cfg_;
  std::string name_, zone_;
  int logPort_;
  HostInfo host_;
  int heartbeatSeconds_;
  std::string readySince_;
  std::string dataDir_;  // "" = volumesInUse not reported
  api::json lastInUse_;  // the list last written (null: none yet)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kvol::node
