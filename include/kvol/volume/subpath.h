// subPath and subPathExpr, resolved safely (kvol::volume). A container's volumeMount with a subPath
// gets a bind mount of the opened sub-directory/file (os::OpenBeneath + os::BindMountFd), so no
// symlink inside the volume can make the container see something outside it (CVE-2017-1002101,
// CVE-2021-25741). The bind lives at DIR/pods/<uid>/volume-subpaths/<volume>/<container>/<index>
// (the kubelet's layout) and is what the runtime mounts into the container.
//
// Thread safety: stateless.
#pragma once

#include <map>
#include <string>

#include "kvol/common/status.h"

namespace kvol::os {
class Mounter;
}

namespace kvol::volume {

// Expands $(VAR) in a subPathExpr from the container's environment (Kubernetes' expansion rules:
// $$ escapes, an unknown $(X) stays as written). The result must still be a relative path without
// "..": kInvalid otherwise.
Result<std::string> ExpandSubPathExpr(const std::string& expr,
                                      const std::map<std::string, std::string>& env);

// Resolves `subPath` inside `volumeHostPath` (creating missing directories, as the kubelet does,
// unless the volume is read-only) and bind-mounts it at the kubelet path above; returns that path.
// Idempotent. A symlink anywhere on the way is refused with kForbidden and a message naming
// the subPath.
Result<std::string> PrepareSubPath(os::Mounter& m, const std::string& podDir,
                                   const std::string& volumeHostPath, const std::string& subPath,
                                   const std::string& volumeName, const std::string& containerName,
                                   int mountIndex, bool readOnly);

// Unmounts and removes DIR/pods/<uid>/volume-subpaths (all of a pod's subPath binds).
Status CleanupSubPaths(os::Mounter& m, const std::string& podDir);

}  // namespace kvol::volume
