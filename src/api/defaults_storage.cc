// Defaulting of storage.k8s.io/v1 kinds (pkg/apis/storage/v1/defaults.go). The snapshot kinds
// (external-snapshotter CRDs) have no defaults.
#include "kvol/api/defaults.h"

namespace kvol::api {

void DefaultStorageClass(StorageClass& sc) {
  if (!sc.reclaimPolicy) sc.reclaimPolicy = "Delete";
  if (!sc.volumeBindingMode) sc.volumeBindingMode = "Immediate";
}

void DefaultCSIDriver(CSIDriver& d) {
  CSIDriverSpec& s = d.spec;
  if (!s.attachRequired) s.attachRequired = true;
  if (!s.podInfoOnMount) s.podInfoOnMount = false;
  if (!s.storageCapacity) s.storageCapacity = false;
  if (!s.fsGroupPolicy) s.fsGroupPolicy = "ReadWriteOnceWithFSType";
  if (s.volumeLifecycleModes.empty()) s.volumeLifecycleModes = {"Persistent"};
  if (!s.requiresRepublish) s.requiresRepublish = false;
  if (!s.seLinuxMount) s.seLinuxMount = false;
}

}  // namespace kvol::api
