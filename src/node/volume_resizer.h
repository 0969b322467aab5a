// Internal to kvol_node: the node's part of volume expansion (the kubelet's NodeExpandVolume
// step). The expand controller grows the volume and, when the driver needs the node to finish,
// sets the claim's condition FileSystemResizePending. Here, for such a claim whose bound PV is a
// CSI volume of a node driver with the NodeExpander capability (kvol/driver/node_driver.h) and is
// staged on this node (its staging directory DIR/plugins/kubernetes.io~csi/<pv>/globalmount
// exists), the driver's NodeExpandVolume runs; when it succeeds the claim's status is patched
// (merge patch of persistentvolumeclaims/<name>/status, with the claim's resourceVersion):
// capacity.storage = status.allocatedResources.storage (else the PV's capacity), condition
// FileSystemResizePending removed. A driver error (kvol.io/block's ext4: "grows when the volume is
// next staged") leaves the claim pending; Resync() (after a pod's volumes were set up, so after a
// stage) tries every pending claim again.
//
// Thread safety: ClaimChanged/Resync from any thread; the work runs on the ApiQueue's thread.
// The ObjectSource, queue and drivers must outlive the resizer.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "agent_api.h"
#include "kvol/driver/node_driver.h"
#include "kvol/volume/plugin.h"

namespace kvol::node {

class VolumeResizer {
 public:
  VolumeResizer(std::string dataDir, volume::ObjectSource& objects, ApiQueue& queue,
                std::map<std::string, driver::NodeDriver*> drivers);

  // Every change of a claim (from the watch cache).
  void ClaimChanged(const api::json& claim);
  void Resync();

 private:
  void Post(const std::string& ns, const std::string& name);
  void Expand(client::ApiClient& c, const std::string& ns, const std::string& name);

  std::string dataDir_;
  volume::ObjectSource& objects_;
  ApiQueue& queue_;
  std::map<std::string, driver::NodeDriver*> drivers_;
  std::mutex mu_;
  std::set<std::pair<std::string, std::string>> pending_;  // (namespace, name)
};

}  // namespace kvol::node
