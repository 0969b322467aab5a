// The node half of a CSI-shaped storage driver (CSI's Node service, in C++): stage a volume once
// per node (attach, format, mount at a staging path), publish it into each pod (bind-mount the
// staged path at the pod's target path), unpublish, unstage. Paths the agent uses:
//   staging: DIR/plugins/kubernetes.io~csi/<pv-name>/globalmount
//   target:  DIR/pods/<pod-uid>/volumes/kubernetes.io~csi/<pv-name>/mount
// Every call is idempotent (CSI: publishing an already published target with the same arguments is
// OK; unpublishing/unstaging what is not there is OK).
//
// Errors: kvol::Status; kInvalid for bad arguments, kNotFound when the volume does not exist,
// kInternal for I/O failures (message names the path and errno text).
// Thread safety: calls for different volumes may run concurrently.
#pragma once

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

}  // namespace kvol::driver
