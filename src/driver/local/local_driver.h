// kvol.io/local, controller half: one directory per volume, <dataDir>/local/<volume-id>, on the
// node that runs the controllers (nodeName). The volume id is the requested name (the PV name).
//
// - Capacity is not enforced (like local-path-provisioner): the returned capacity is the
//   required bytes, unchanged; expansion only records the new size.
// - Topology: {"kubernetes.io/hostname": nodeName}. A requisite topology naming another node is
//   refused (kInvalid "...cannot place a volume on node X: this driver serves node Y") since the
//   directory is made here.
// - Names must be one path element of [a-z0-9.-] (a PV name): no '/', no "..".
// - Directories are created 0777 (like local-path-provisioner, so any container user can write).
// - RecycleVolume removes everything inside the directory and keeps it.
//
// Thread safety: calls for different volumes may run concurrently.
#pragma once

#include <string>

#include "kvol/driver/driver.h"

namespace kvol::driver {

inline constexpr const char* kLocalDriverName = "kvol.io/local";

class LocalDriver : public ControllerDriver, public Recycler {
 public:
  LocalDriver(std::string dataDir, std::string nodeName);

  std::string Name() const override { return kLocalDriverName; }
  Result<VolumeInfo> CreateVolume(const CreateVolumeRequest& req) override;
  Status DeleteVolume(const std::string& volumeId) override;
  Result<int64_t> ControllerExpandVolume(const std::string& volumeId,
                                         const CapacityRange& range) override;
  Status RecycleVolume(const std::string& volumeId) override;

  // <dataDir>/local/<volumeId>
  std::string VolumePath(const std::string& volumeId) const;

 private:
  Status CheckName(const std::string& id) const;

  std::string root_;
  std::string nodeName_;
};

}  // namespace kvol::driver
