// Internal to kvol_node: which claims to re-examine when an attach/detach fact changes, so a pod
// waiting in persistentVolumeClaim's SetUp (for its VolumeAttachment, or for its volume to appear
// in this Node's status.volumesInUse) retries at once: the agent calls
// VolumeManager::ObjectChanged({"persistentvolumeclaims", ns, name}) for each ref returned.
//
// Pure functions over cached objects; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/volume/plugin.h"

namespace kvol::node {

// The claim of the PV a VolumeAttachment names (spec.source.persistentVolumeName -> that PV's
// spec.claimRef), looked up in `objects`; empty when the VolumeAttachment is for another node
// than `nodeName`, names no PV, or the PV has no claimRef.
std::vector<volume::ObjectRef> ClaimsOfAttachment(const api::json& va, const std::string& nodeName,
                                                  volume::ObjectSource& objects);

// The claims of the CSI PVs among `pvs` whose api::UniqueVolumeName(driver, handle) is in `names`.
std::vector<volume::ObjectRef> ClaimsOfVolumes(const std::vector<std::string>& names,
                                               const std::vector<api::json>& pvs);

// status.volumesInUse of a Node object (empty when absent).
std::vector<std::string> VolumesInUseOf(const api::json& node);

}  // namespace kvol::node
