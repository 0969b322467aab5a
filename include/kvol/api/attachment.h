// Attach/detach facts shared by the attach/detach controller (src/controller) and the node agent
// (src/node, src/volume), so both sides name and judge a VolumeAttachment the same way.
//
// - VolumeAttachmentName: Kubernetes' CSI attacher name, "csi-" + hex sha256 of
//   volumeHandle + attacher (the CSI driver name) + nodeName (k8s.io/kubernetes
//   pkg/volume/csi/csi_attacher.go getAttachmentName), so `kubectl get volumeattachments` shows the
//   names a cluster would.
// - AttachRequired: whether volumes of CSI driver `driver` need a VolumeAttachment before a node
//   stages them. The CSIDriver object's spec.attachRequired decides when the object exists
//   (`csiDriver` given); without one kvol's built-in rule applies: kvol.io/block needs attaching
//   (an EBS-like disk: one node at a time), kvol.io/local does not (a directory on one node), and
//   any other driver needs it (Kubernetes' default for a driver without a CSIDriver object).
// - UniqueVolumeName: the name a Node lists in status.volumesInUse / status.volumesAttached for a
//   CSI volume, "kubernetes.io/csi/<driver>^<volumeHandle>", as the kubelet writes it.
// - MultiAttachAllowed: a volume may be attached to several nodes at once when its PV's access
//   modes include ReadWriteMany or ReadOnlyMany (pkg/volume/util IsMultiAttachAllowed); an empty
//   mode list allows it too, as in Kubernetes.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kvol/api/types_storage.h"

namespace kvol::api {

std::string VolumeAttachmentName(const std::string& volumeHandle, const std::string& attacher,
                                 const std::string& nodeName);
bool AttachRequired(const std::string& driver, const std::optional<CSIDriver>& csiDriver);
std::string UniqueVolumeName(const std::string& driver, const std::string& volumeHandle);
bool MultiAttachAllowed(const std::vector<std::string>& pvAccessModes);

}  // namespace kvol::api
