// snapshot.storage.k8s.io/v1: VolumeSnapshot, VolumeSnapshotContent, VolumeSnapshotClass, with
// the scopes, short names and status subresources of external-snapshotter's CRDs.
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {

void RegisterSnapshotV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<VolumeSnapshot>>(
                      MakeResourceInfo("snapshot.storage.k8s.io", "VolumeSnapshot",
                                       "volumesnapshots", true, {"vs"}, true),
                      nullptr, &ValidateVolumeSnapshot, &ValidateVolumeSnapshotUpdate));
  MustRegister(s,
               std::make_unique<TypedKindOps<VolumeSnapshotContent>>(
                   MakeResourceInfo("snapshot.storage.k8s.io", "VolumeSnapshotContent",
                                    "volumesnapshotcontents", false, {"vsc", "vscs"}, true),
                   nullptr, &ValidateVolumeSnapshotContent, &ValidateVolumeSnapshotContentUpdate));
  MustRegister(
      s, std::make_unique<TypedKindOps<VolumeSnapshotClass>>(
             MakeResourceInfo("snapshot.storage.k8s.io", "VolumeSnapshotClass",
                              "volumesnapshotclasses", false, {"vsclass", "vsclasses"}, false),
             nullptr, &ValidateVolumeSnapshotClass, &ValidateVolumeSnapshotClassUpdate));
}

}  // namespace kvol::api
