// core/v1 PersistentVolume and PersistentVolumeClaim in the scheme (RegisterCoreV1 calls this).
#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {

void RegisterPersistentVolumeKinds(Scheme& s) {
  ResourceInfo pv;
  pv.group = "";
  pv.version = "v1";
  pv.kind = "PersistentVolume";
  pv.resource = "persistentvolumes";
  pv.singular = "persistentvolume";
  pv.namespaced = false;
  pv.shortNames = {"pv"};
  pv.hasStatus = true;
  MustRegister(s, std::make_unique<TypedKindOps<PersistentVolume>>(
                      std::move(pv), &DefaultPersistentVolume, &ValidatePersistentVolume,
                      &ValidatePersistentVolumeUpdate));

  ResourceInfo pvc;
  pvc.group = "";
  pvc.version = "v1";
  pvc.kind = "PersistentVolumeClaim";
  pvc.resource = "persistentvolumeclaims";
  pvc.singular = "persistentvolumeclaim";
  pvc.namespaced = true;
  pvc.shortNames = {"pvc"};
  pvc.hasStatus = true;
  MustRegister(s, std::make_unique<TypedKindOps<PersistentVolumeClaim>>(
                      std::move(pvc), &DefaultPersistentVolumeClaim, &ValidatePersistentVolumeClaim,
                      &ValidatePersistentVolumeClaimUpdate));
}

}  // namespace kvol::api
