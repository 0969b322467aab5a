// The controller half of a CSI-shaped storage driver (CSI's Controller service, in C++).
//
// - CreateVolume(name, capacity range, parameters, accessibility requirements) -> volume id,
//   capacity, accessible topology, volume context. Idempotent: the same name returns the same
//   volume (CSI: "MUST be idempotent"); a second call with an incompatible capacity fails with
//   kAlreadyExists.
// - DeleteVolume(id): idempotent; deleting a missing volume is OK.
// - ControllerExpandVolume(id, range) -> new capacity; shrinking is refused (kInvalid).
// - Capabilities are separate interfaces (callers ask with dynamic_cast; absence is normal):
//   Recycler scrubs a volume's contents (the deprecated Recycle reclaim policy);
//   NodeExpansionReporter says whether an expanded volume needs the node to finish (CSI's
//   node_expansion_required); Snapshotter / VolumeCloner (snapshotter.h): snapshots, and
//   CreateVolume from CreateVolumeRequest::contentSource (restore from a snapshot, clone).
//
// Errors are kvol::Status: kInvalid for bad arguments, kNotFound for a missing volume where that
// matters, kInternal for I/O failures (message names the path and errno text).
//
// Thread safety: implementations must allow concurrent calls for different volumes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::driver {

struct CapacityRange {
  int64_t requiredBytes = 0;  // 0: driver's choice
  int64_t limitBytes = 0;     // 0: no limit
};

// One topology segment set, e.g. {"kubernetes.io/hostname": "node-1"}.
using Topology = std::map<std::string, std::string>;

struct TopologyRequirement {
  std::vector<Topology> requisite;  // the volume must be accessible from one of these
  std::vector<Topology> preferred;  // in order of preference
};

struct CreateVolumeRequest {
  std::string name;  // the PV name (pvc-<claim uid>)
  CapacityRange capacity;
  std::map<std::string, std::string> parameters;  // StorageClass parameters
  TopologyRequirement accessibility;
  // CSI's volume_capabilities: the claim's spec.accessModes ("ReadWriteOnce", "ReadWriteMany"...)
  // and volumeMode Block. A driver refuses modes it cannot serve with kInvalid.
  std::vector<std::string> accessModes;
  bool block = false;
  // CSI's volume_content_source: the new volume starts with a snapshot's data (restore) or a copy
  // of another volume (clone). Exactly one field is set. Only drivers with the Snapshotter /
  // VolumeCloner capability (kvol/driver/snapshotter.h) are given one.
  struct ContentSource {
    std::string snapshotId;
    std::string volumeId;
  };
  std::optional<ContentSource> contentSource;
};

struct VolumeInfo {
  std::string volumeId;       // becomes spec.csi.volumeHandle
  int64_t capacityBytes = 0;  // 0: unknown / not enforced
  std::vector<Topology> accessibleTopology;
  std::map<std::string, std::string> volumeContext;  // becomes spec.csi.volumeAttributes
};

class ControllerDriver {
 public:
  virtual ~ControllerDriver() = default;
  virtual std::string Name() const = 0;  // e.g. "kvol.io/local"
  virtual Result<VolumeInfo> CreateVolume(const CreateVolumeRequest& req) = 0;
  virtual Status DeleteVolume(const std::string& volumeId) = 0;
  // Returns the new capacity in bytes.
  virtual Result<int64_t> ControllerExpandVolume(const std::string& volumeId,
                                                 const CapacityRange& range) = 0;
};

// Capability: scrub a volume's contents, keeping the volume (Recycle reclaim policy).
class Recycler {
 public:
  virtual ~Recycler() = default;
  virtual Status RecycleVolume(const std::string& volumeId) = 0;
};

// Capability: CSI's ControllerExpandVolumeResponse.node_expansion_required (absent: no node
// expansion is needed). The expand controller (kvol/controller/expander.h) asks it.
class NodeExpansionReporter {
 public:
  virtual ~NodeExpansionReporter() = default;
  virtual bool NodeExpansionRequired(const std::string& volumeId) = 0;
};

}  // namespace kvol::driver
