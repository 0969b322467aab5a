// Printers of snapshot.storage.k8s.io/v1 kinds. These are CRDs in Kubernetes, so their Tables come
// from the CRDs' additionalPrinterColumns (external-snapshotter's client/config/crd), converted as
// the apiextensions table convertor does: a missing value is a null cell (kubectl prints
// "<none>"), "date" columns are human durations, "string" columns the value's text.
#include <string>
#include <vector>

#include "kvol/apiserver/table.h"
#include "src/apiserver/printers_util.h"

namespace kvol::apiserver::printers {

namespace {

struct CrdColumn {
  Column column;
  std::vector<const char*> path;  // the column's simple JSONPath, split at dots
};

json Lookup(const json& o, const std::vector<const char*>& path) {
  const json* cur = &o;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return *cur;
}

json Cell(const Column& c, const json& v, int64_t now) {
  if (v.is_null()) return nullptr;
  if (c.type == "string") {
    if (v.is_string()) return v;
    return v.dump();  // the JSONPath printer's text of a number/bool/object
  }
  if (c.type == "integer") return v.is_number() ? json(v.get<int64_t>()) : json(nullptr);
  if (c.type == "boolean") return v.is_boolean() ? v : json(nullptr);
  if (c.type == "date") {
    if (!v.is_string()) return nullptr;
    if (!ParseTimestamp(v.get<std::string>())) return "<invalid>";
    return TimestampSince(v, now);
  }
  return nullptr;
}

Printer Crd(std::vector<CrdColumn> cols) {
  Printer p;
  p.columns.push_back(NameColumn());
  for (const auto& c : cols) p.columns.push_back(c.column);
  p.cells = [cols](const json& o, int64_t now) {
    json cells = json::array({Str(o, {"metadata", "name"})});
    for (const auto& c : cols) cells.push_back(Cell(c.column, Lookup(o, c.path), now));
    return cells;
  };
  return p;
}

CrdColumn AgeCol() { return {{"Age", "date", "", ""}, {"metadata", "creationTimestamp"}}; }

Printer VolumeSnapshot() {
  return Crd({
      {{"ReadyToUse", "boolean", "",
        "Indicates if the snapshot is ready to be used to restore a volume."},
       {"status", "readyToUse"}},
      {{"SourcePVC", "string", "",
        "If a new snapshot needs to be created, this contains the name of the source PVC from "
        "which this snapshot was (or will be) created."},
       {"spec", "source", "persistentVolumeClaimName"}},
      {{"SourceSnapshotContent", "string", "",
        "If a snapshot already exists, this contains the name of the existing "
        "VolumeSnapshotContent object representing the existing snapshot."},
       {"spec", "source", "volumeSnapshotContentName"}},
      {{"RestoreSize", "string", "",
        "Represents the minimum size of volume required to rehydrate from this snapshot."},
       {"status", "restoreSize"}},
      {{"SnapshotClass", "string", "",
        "The name of the VolumeSnapshotClass requested by the VolumeSnapshot."},
       {"spec", "volumeSnapshotClassName"}},
      {{"SnapshotContent", "string", "",
        "Name of the VolumeSnapshotContent object to which the VolumeSnapshot object intends to "
        "bind to. Please note that verification of binding actually requires checking both "
        "VolumeSnapshot and VolumeSnapshotContent to ensure both are pointing at each other. "
        "Binding MUST be verified prior to usage of this object."},
       {"status", "boundVolumeSnapshotContentName"}},
      {{"CreationTime", "date", "",
        "Timestamp when the point-in-time snapshot was taken by the underlying storage system."},
       {"status", "creationTime"}},
      AgeCol(),
  });
}

Printer VolumeSnapshotContent() {
  return Crd({
      {{"ReadyToUse", "boolean", "",
        "Indicates if the snapshot is ready to be used to restore a volume."},
       {"status", "readyToUse"}},
      {{"RestoreSize", "integer", "", "Represents the complete size of the snapshot in bytes"},
       {"status", "restoreSize"}},
      {{"DeletionPolicy", "string", "",
        "Determines whether this VolumeSnapshotContent and its physical snapshot on the "
        "underlying storage system should be deleted when its bound VolumeSnapshot is deleted."},
       {"spec", "deletionPolicy"}},
      {{"Driver", "string", "",
        "Name of the CSI driver used to create the physical snapshot on the underlying storage "
        "system."},
       {"spec", "driver"}},
      {{"VolumeSnapshotClass", "string", "",
        "Name of the VolumeSnapshotClass to which this snapshot belongs."},
       {"spec", "volumeSnapshotClassName"}},
      {{"VolumeSnapshot", "string", "",
        "Name of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound."},
       {"spec", "volumeSnapshotRef", "name"}},
      {{"VolumeSnapshotNamespace", "string", "",
        "Namespace of the VolumeSnapshot object to which this VolumeSnapshotContent object is "
        "bound."},
       {"spec", "volumeSnapshotRef", "namespace"}},
      AgeCol(),
  });
}

Printer VolumeSnapshotClass() {
  return Crd({
      {{"Driver", "string", "", ""}, {"driver"}},
      {{"DeletionPolicy", "string", "",
        "Determines whether a VolumeSnapshotContent created through the VolumeSnapshotClass "
        "should be deleted when its bound VolumeSnapshot is deleted."},
       {"deletionPolicy"}},
      AgeCol(),
  });
}

}  // namespace

void AddSnapshotPrinters(PrinterMap& m) {
  m["snapshot.storage.k8s.io/VolumeSnapshot"] = VolumeSnapshot();
  m["snapshot.storage.k8s.io/VolumeSnapshotContent"] = VolumeSnapshotContent();
  m["snapshot.storage.k8s.io/VolumeSnapshotClass"] = VolumeSnapshotClass();
}

}  // namespace kvol::apiserver::printers
