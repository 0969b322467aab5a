// Snapshot capabilities of a controller driver (CSI's CREATE_DELETE_SNAPSHOT, LIST_SNAPSHOTS and
// CLONE_VOLUME), asked with dynamic_cast on a ControllerDriver like Recycler (driver.h); absence
// is normal: such a driver cannot take snapshots or clone.
//
// Snapshotter:
// - CreateSnapshot(name, sourceVolumeId, parameters) -> SnapshotInfo. `name` is the
//   VolumeSnapshotContent's name (snapcontent-<snapshot uid>); idempotent: the same name and
//   source return the same snapshot (CSI: "MUST be idempotent"); the same name with another source
//   is kAlreadyExists. A missing source volume is kNotFound. The data is a point-in-time,
//   crash-consistent (quiesced where the driver can) copy of the source volume.
// - DeleteSnapshot(id): idempotent; a missing snapshot is OK.
// - GetSnapshot(id): CSI ListSnapshots by snapshot_id (pre-provisioned contents); kNotFound when
//   there is no such snapshot.
// - A driver with this capability honours CreateVolumeRequest::contentSource.snapshotId
//   (restore): the new volume holds the snapshot's data, grown to the requested size when that is
//   larger (never smaller than SnapshotInfo::sizeBytes: kInvalid).
// VolumeCloner: the driver honours CreateVolumeRequest::contentSource.volumeId (clone): the new
// volume holds a copy of the source volume's data and is independent of it afterwards.
// A driver without these capabilities must not be given a contentSource (the provisioner checks).
//
// Errors are kvol::Status as in driver.h. Thread safety: calls for different snapshots and
// volumes may run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "kvol/common/status.h"

namespace kvol::driver {

struct CreateSnapshotRequest {
  std::string name;                               // the VolumeSnapshotContent name
  std::string sourceVolumeId;                     // the PV's spec.csi.volumeHandle
  std::map<std::string, std::string> parameters;  // VolumeSnapshotClass parameters
};

struct SnapshotInfo {
  std::string snapshotId;      // becomes status.snapshotHandle
  std::string sourceVolumeId;  // "" when unknown
  int64_t sizeBytes = 0;       // restoreSize: the smallest volume it restores into
  int64_t creationTimeNanos = 0;
  bool readyToUse = false;
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;
  virtual Result<SnapshotInfo> CreateSnapshot(const CreateSnapshotRequest& req) = 0;
  virtual Status DeleteSnapshot(const std::string& snapshotId) = 0;
  virtual Result<SnapshotInfo> GetSnapshot(const std::string& snapshotId) = 0;
};

class VolumeCloner {
 public:
  virtual ~VolumeCloner() = default;
  // True when the driver can clone `sourceVolumeId` now (e.g. the volume exists).
  virtual bool CanClone(const std::string& sourceVolumeId) = 0;
};

}  // namespace kvol::driver
