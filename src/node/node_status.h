// Internal to kvol_node: the agent's Node object (registration and the 10 s heartbeat of its
// status through nodes/<name>/status), built from facts read from the host.
//
// Thread safety: NodeStatusReporter's methods are called from one thread (Start/Stop); its
// heartbeat runs on its own thread with its own ApiClient.
#pragma once

#include <atomic>
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
  // Creates the Node, or (it exists) merges our labels and replaces its status.
  Status Register();
  void StartHeartbeat();
  void Stop();

 private:
  Status PatchStatus(client::ApiClient& c, const api::json& status);
  void Heartbeat();

  client::Kubeconfig cfg_;
  std::string name_, zone_;
  int logPort_;
  HostInfo host_;
  int heartbeatSeconds_;
  std::string readySince_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kvol::node
