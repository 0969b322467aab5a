// snapshot.storage.k8s.io/v1: VolumeSnapshot, VolumeSnapshotContent, VolumeSnapshotClass, with
// the scopes, short names and status subresources of external-snapshotter's CRDs.
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

ResourceInfo SnapshotInfo(std::string kind, std::string resource, std::string singular,
                          bool namespaced, std::vector<std::string> shortNames, bool hasStatus) {
  ResourceInfo i;
  i.group = "snapshot.storage.k8s.io";
  i.version = "v1";
  i.kind = std::move(kind);
  i.resource = std::move(resource);
  i.singular = std::move(singular);
  i.namespaced = namespaced;
  i.shortNames = std::move(shortNames);
  i.hasStatus = hasStatus;
  return i;
}

}  // namespace

void RegisterSnapshotV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<VolumeSnapshot>>(
                      SnapshotInfo("VolumeSnapshot", "volumesnapshots", "volumesnapshot", true,
                                   {"vs"}, true),
                      nullptr, &ValidateVolumeSnapshot, &ValidateVolumeSnapshotUpdate));
  MustRegister(s,
               std::make_unique<TypedKindOps<VolumeSnapshotContent>>(
                   SnapshotInfo("VolumeSnapshotContent", "volumesnapshotcontents",
                                "volumesnapshotcontent", false, {"vsc", "vscs"}, true),
                   nullptr, &ValidateVolumeSnapshotContent, &ValidateVolumeSnapshotContentUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<VolumeSnapshotClass>>(
                      SnapshotInfo("VolumeSnapshotClass", "volumesnapshotclasses",
                                   "volumesnapshotclass", false, {"vsclass", "vsclasses"}, false),
                      nullptr, &ValidateVolumeSnapshotClass, &ValidateVolumeSnapshotClassUpdate));
}

}  // namespace kvol::api
