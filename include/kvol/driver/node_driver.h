// The node half of a CSI-shaped storage driver (CSI's Node service, in C++): stage a volume once
// per node (attach, format, mount at a staging path), publish it into each pod (bind-mount the
// staged path at the pod's target path), unpublish, unstage. Paths the agent uses:
//   staging: DIR/plugins/kubernetes.io~csi/<pv-name>/globalmount
//   target:  DIR/pods/<pod-uid>/volumes/kubernetes.io~csi/<pv-name>/mount
// Every call is idempotent (CSI: publishing an already published target with the same arguments is
// OK; unpublishing/unstaging what is not there is OK).
//
// Capabilities are separate interfaces (asked with dynamic_cast; absence is normal):
// NodeExpander grows a staged volume after the controller expanded it (CSI's NodeExpandVolume).
//
// Errors: kvol::Status; kInvalid for bad arguments, kNotFound when the volume does not exist,
// kInternal for I/O failures (message names the path and errno text).
// Thread safety: calls for different volumes may run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "kvol/common/status.h"

namespace kvol::driver {

struct NodeStageRequest {
  std::string volumeId;  // spec.csi.volumeHandle
  std::string stagingPath;
  std::string fsType;                                // spec.csi.fsType ("" = the driver's default)
  bool block = false;                                // volumeMode Block
  std::map<std::string, std::string> volumeContext;  // spec.csi.volumeAttributes
};

struct NodePublishRequest {
  std::string volumeId;
  std::string stagingPath;  // "" when the driver does not stage
  std::string targetPath;   // a directory (filesystem) or a file to bind the device on (block)
  bool readOnly = false;
  bool block = false;
  std::map<std::string, std::string> volumeContext;
};

class NodeDriver {
 public:
  virtual ~NodeDriver() = default;
  virtual std::string Name() const = 0;   // "kvol.io/local"
  virtual bool NeedsStaging() const = 0;  // CSI's STAGE_UNSTAGE_VOLUME capability
  virtual Status NodeStageVolume(const NodeStageRequest& req) = 0;
  virtual Status NodeUnstageVolume(const std::string& volumeId, const std::string& stagingPath) = 0;
  virtual Status NodePublishVolume(const NodePublishRequest& req) = 0;
  virtual Status NodeUnpublishVolume(const std::string& volumeId,
                                     const std::string& targetPath) = 0;
};

struct NodeExpandRequest {
  std::string volumeId;     // spec.csi.volumeHandle
  std::string volumePath;   // a path the volume is published at ("" = none)
  std::string stagingPath;  // "" when the driver does not stage
  int64_t requiredBytes = 0;
  bool block = false;
};

// Capability: CSI's NodeExpandVolume. Called on the node where the volume is staged once the
// claim has condition FileSystemResizePending; returns the capacity the volume now offers.
// kUnavailable when the volume is not staged here or its filesystem can only grow when it is
// next staged (the message says so): the caller tries again after the next stage.
class NodeExpander {
 public:
  virtual ~NodeExpander() = default;
  virtual Result<int64_t> NodeExpandVolume(const NodeExpandRequest& req) = 0;
};

}  // namespace kvol::driver
