// Printers of the storage kinds: PersistentVolume, PersistentVolumeClaim (core/v1), StorageClass,
// VolumeAttachment, CSIDriver (storage.k8s.io/v1), with printers.go's columns and cell logic.
#include "kvol/apiserver/table.h"
#include "src/apiserver/printers_util.h"

namespace kvol::apiserver::printers {

namespace {

constexpr const char* kBetaClassAnnotation = "volume.beta.kubernetes.io/storage-class";

// helper.GetPersistentVolumeClass / GetPersistentVolumeClaimClass: the beta annotation wins.
std::string ClassOf(const json& o) {
  const json& ann = At(o, {"metadata", "annotations", kBetaClassAnnotation});
  if (ann.is_string()) return ann.get<std::string>();
  return Str(o, {"spec", "storageClassName"});
}

std::string VolumeAttributesClass(const json& o) {
  std::string v = Str(o, {"spec", "volumeAttributesClassName"});
  return v.empty() ? "<unset>" : v;
}

std::string VolumeMode(const json& o) {
  std::string v = Str(o, {"spec", "volumeMode"});
  return v.empty() ? "<unset>" : v;
}

// resource.Quantity.String() of a stored quantity; an absent one is the zero quantity "0".
std::string StorageQuantity(const json& list) {
  const json& q = At(list, {"storage"});
  if (q.is_string()) return q.get<std::string>();
  if (q.is_number()) return q.dump();
  return "0";
}

bool Terminating(const json& o) { return !At(o, {"metadata", "deletionTimestamp"}).is_null(); }

Printer PersistentVolume() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Capacity", "string", "",
       "capacity is the description of the persistent volume's resources and capacity. More "
       "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"},
      {"Access Modes", "string", "",
       "accessModes contains all ways the volume can be mounted. More info: "
       "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"},
      {"Reclaim Policy", "string", "",
       "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
       "from its claim. Valid options are Retain (default for manually created "
       "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and "
       "Recycle (deprecated). Recycle must be supported by the volume plugin underlying this "
       "PersistentVolume. More info: "
       "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"},
      {"Status", "string", "",
       "phase indicates if a volume is available, bound to a claim, or released by a claim. More "
       "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"},
      {"Claim", "string", "",
       "claimRef is part of a bi-directional binding between PersistentVolume and "
       "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the "
       "authoritative bind between PV and PVC. More info: "
       "https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"},
      {"StorageClass", "string", "", "StorageClass of the pv"},
      {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv"},
      {"Reason", "string", "",
       "reason is a brief CamelCase string that describes any failure and is meant for machine "
       "parsing and tidy display in the CLI."},
      AgeColumn(),
      {"VolumeMode", "string", "",
       "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
       "remain in raw block state. Value of Filesystem is implied when not included in spec.",
       1},
  };
  p.cells = [](const json& o, int64_t now) {
    std::string claim;
    if (const json& ref = At(o, {"spec", "claimRef"}); ref.is_object()) {
      claim = Str(ref, {"namespace"}) + "/" + Str(ref, {"name"});
    }
    std::string phase = Terminating(o) ? "Terminating" : Str(o, {"status", "phase"});
    return json::array({Str(o, {"metadata", "name"}), StorageQuantity(At(o, {"spec", "capacity"})),
                        AccessModesString(At(o, {"spec", "accessModes"})),
                        Str(o, {"spec", "persistentVolumeReclaimPolicy"}), phase, claim, ClassOf(o),
                        VolumeAttributesClass(o), Str(o, {"status", "reason"}),
                        TimestampSince(At(o, {"metadata", "creationTimestamp"}), now),
                        VolumeMode(o)});
  };
  return p;
}

Printer PersistentVolumeClaim() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim."},
      {"Volume", "string", "",
       "volumeName is the binding reference to the PersistentVolume backing this claim."},
      {"Capacity", "string", "",
       "capacity represents the actual resources of the underlying volume."},
      {"Access Modes", "string", "",
       "accessModes contains the actual access modes the volume backing the PVC has. More info: "
       "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"},
      {"StorageClass", "string", "", "StorageClass of the pvc"},
      {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc"},
      AgeColumn(),
      {"VolumeMode", "string", "",
       "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
       "implied when not included in claim spec.",
       1},
  };
  p.cells = [](const json& o, int64_t now) {
    std::string phase = Terminating(o) ? "Terminating" : Str(o, {"status", "phase"});
    std::string volume = Str(o, {"spec", "volumeName"});
    std::string capacity, modes;
    if (!volume.empty()) {
      modes = AccessModesString(At(o, {"status", "accessModes"}));
      capacity = StorageQuantity(At(o, {"status", "capacity"}));
    }
    return json::array({Str(o, {"metadata", "name"}), phase, volume, capacity, modes, ClassOf(o),
                        VolumeAttributesClass(o),
                        TimestampSince(At(o, {"metadata", "creationTimestamp"}), now),
                        VolumeMode(o)});
  };
  return p;
}

Printer StorageClass() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Provisioner", "string", "", "provisioner indicates the type of the provisioner."},
      {"ReclaimPolicy", "string", "",
       "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of "
       "this storage class. Defaults to Delete."},
      {"VolumeBindingMode", "string", "",
       "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  "
       "When unset, VolumeBindingImmediate is used. This field is only honored by servers that "
       "enable the VolumeScheduling feature."},
      {"AllowVolumeExpansion", "string", "",
       "allowVolumeExpansion shows whether the storage class allow volume expand."},
      AgeColumn(),
  };
  p.cells = [](const json& o, int64_t now) {
    std::string name = Str(o, {"metadata", "name"});
    const json& ann = At(o, {"metadata", "annotations"});
    if (Str(ann, {"storageclass.kubernetes.io/is-default-class"}) == "true" ||
        Str(ann, {"storageclass.beta.kubernetes.io/is-default-class"}) == "true") {
      name += " (default)";
    }
    std::string reclaim = Str(o, {"reclaimPolicy"});
    if (reclaim.empty()) reclaim = "Delete";
    std::string binding = Str(o, {"volumeBindingMode"});
    if (binding.empty()) binding = "Immediate";
    return json::array({name, Str(o, {"provisioner"}), reclaim, binding,
                        Bool(o, {"allowVolumeExpansion"}, false),
                        TimestampSince(At(o, {"metadata", "creationTimestamp"}), now)});
  };
  return p;
}

Printer VolumeAttachment() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Attacher", "string", "name",
       "attacher indicates the name of the volume driver that MUST handle this request. This is "
       "the name returned by GetPluginName()."},
      {"PV", "string", "",
       "persistentVolumeName represents the name of the persistent volume to "
       "attach."},
      {"Node", "string", "", "nodeName represents the node that the volume should be attached to."},
      {"Attached", "boolean", "",
       "attached indicates the volume is successfully attached. This field must only be set by "
       "the entity completing the attach operation, i.e. the external-attacher."},
      AgeColumn(),
  };
  p.cells = [](const json& o, int64_t now) {
    return json::array({Str(o, {"metadata", "name"}), Str(o, {"spec", "attacher"}),
                        Str(o, {"spec", "source", "persistentVolumeName"}),
                        Str(o, {"spec", "nodeName"}), Bool(o, {"status", "attached"}, false),
                        TimestampSince(At(o, {"metadata", "creationTimestamp"}), now)});
  };
  return p;
}

Printer CSIDriver() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"AttachRequired", "boolean", "",
       "attachRequired indicates this CSI volume driver requires an attach operation."},
      {"PodInfoOnMount", "boolean", "",
       "podInfoOnMount indicates this CSI volume driver requires additional pod information (like "
       "podName, podUID, etc.) during mount operations."},
      {"StorageCapacity", "boolean", "",
       "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the "
       "storage capacity that the driver deployment will report."},
      {"TokenRequests", "string", "",
       "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting "
       "volume for to do necessary authentication."},
      {"RequiresRepublish", "boolean", "",
       "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically "
       "called to reflect any possible change in the mounted volume."},
      {"Modes", "string", "",
       "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."},
      AgeColumn(),
  };
  p.cells = [](const json& o, int64_t now) {
    std::string tokens = "<unset>";
    if (const json& t = At(o, {"spec", "tokenRequests"}); t.is_array()) {
      tokens.clear();
      for (const auto& r : t) {
        if (!tokens.empty()) tokens += ",";
        tokens += Str(r, {"audience"});
      }
    }
    std::string modes;
    if (const json& m = At(o, {"spec", "volumeLifecycleModes"}); m.is_array()) {
      for (const auto& x : m) {
        if (!modes.empty()) modes += ",";
        if (x.is_string()) modes += x.get<std::string>();
      }
    }
    if (modes.empty()) modes = "<none>";
    return json::array({Str(o, {"metadata", "name"}), Bool(o, {"spec", "attachRequired"}, true),
                        Bool(o, {"spec", "podInfoOnMount"}, false),
                        Bool(o, {"spec", "storageCapacity"}, false), tokens,
                        Bool(o, {"spec", "requiresRepublish"}, false), modes,
                        TimestampSince(At(o, {"metadata", "creationTimestamp"}), now)});
  };
  return p;
}

}  // namespace

void AddStoragePrinters(PrinterMap& m) {
  m["/PersistentVolume"] = PersistentVolume();
  m["/PersistentVolumeClaim"] = PersistentVolumeClaim();
  m["storage.k8s.io/StorageClass"] = StorageClass();
  m["storage.k8s.io/VolumeAttachment"] = VolumeAttachment();
  m["storage.k8s.io/CSIDriver"] = CSIDriver();
}

}  // namespace kvol::apiserver::printers
