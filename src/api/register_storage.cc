// storage.k8s.io/v1: StorageClass, VolumeAttachment, CSIDriver.
#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {

void RegisterStorageV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<StorageClass>>(
                      MakeResourceInfo("storage.k8s.io", "StorageClass", "storageclasses", false,
                                       {"sc"}, false),
                      &DefaultStorageClass, &ValidateStorageClass, &ValidateStorageClassUpdate));
  // Kubernetes gives VolumeAttachment no short name; kvol answers to "va" as well.
  MustRegister(s, std::make_unique<TypedKindOps<VolumeAttachment>>(
                      MakeResourceInfo("storage.k8s.io", "VolumeAttachment", "volumeattachments",
                                       false, {"va"}, true),
                      nullptr, &ValidateVolumeAttachment, &ValidateVolumeAttachmentUpdate));
  MustRegister(s,
               std::make_unique<TypedKindOps<CSIDriver>>(
                   MakeResourceInfo("storage.k8s.io", "CSIDriver", "csidrivers", false, {}, false),
                   &DefaultCSIDriver, &ValidateCSIDriver, &ValidateCSIDriverUpdate));
}

}  // namespace kvol::api
