// storage.k8s.io/v1: StorageClass, VolumeAttachment, CSIDriver.
#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

ResourceInfo StorageInfo(std::string kind, std::string resource, std::string singular,
                         std::vector<std::string> shortNames, bool hasStatus) {
  ResourceInfo i;
  i.group = "storage.k8s.io";
  i.version = "v1";
  i.kind = std::move(kind);
  i.resource = std::move(resource);
  i.singular = std::move(singular);
  i.namespaced = false;
  i.shortNames = std::move(shortNames);
  i.hasStatus = hasStatus;
  return i;
}

}  // namespace

void RegisterStorageV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<StorageClass>>(
                      StorageInfo("StorageClass", "storageclasses", "storageclass", {"sc"}, false),
                      &DefaultStorageClass, &ValidateStorageClass, &ValidateStorageClassUpdate));
  // Kubernetes gives VolumeAttachment no short name; kvol answers to "va" as well.
  MustRegister(
      s, std::make_unique<TypedKindOps<VolumeAttachment>>(
             StorageInfo("VolumeAttachment", "volumeattachments", "volumeattachment", {"va"}, true),
             nullptr, &ValidateVolumeAttachment, &ValidateVolumeAttachmentUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<CSIDriver>>(
                      StorageInfo("CSIDriver", "csidrivers", "csidriver", {}, false),
                      &DefaultCSIDriver, &ValidateCSIDriver, &ValidateCSIDriverUpdate));
}

}  // namespace kvol::api
