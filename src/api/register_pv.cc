// core/v1 PersistentVolume and PersistentVolumeClaim in the scheme (RegisterCoreV1 calls this).
#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {

void RegisterPersistentVolumeKinds(Scheme& s) {
  MustRegister(
      s, std::make_unique<TypedKindOps<PersistentVolume>>(
             MakeResourceInfo("", "PersistentVolume", "persistentvolumes", false, {"pv"}, true),
             &DefaultPersistentVolume, &ValidatePersistentVolume, &ValidatePersistentVolumeUpdate));

  MustRegister(s, std::make_unique<TypedKindOps<PersistentVolumeClaim>>(
                      MakeResourceInfo("", "PersistentVolumeClaim", "persistentvolumeclaims", true,
                                       {"pvc"}, true),
                      &DefaultPersistentVolumeClaim, &ValidatePersistentVolumeClaim,
                      &ValidatePersistentVolumeClaimUpdate));
}

}  // namespace kvol::api
