#include "src/driver/block/block_driver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kvol/os/fs.h"
#include "kvol/os/loop.h"

namespace kvol::driver {
namespace {

constexpr const char* kHostnameKey = "kubernetes.io/hostname";
constexpr const char* kZoneKey = "topology.kubernetes.io/zone";
constexpr int64_t kDefaultBytes = int64_t{1} << 30;

int64_t RoundUpMiB(int64_t b) { return (b + kMiB - 1) / kMiB * kMiB; }

Result<int64_t> ImageSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("not found");
    return Internal("stat " + path + ": " + std::strerror(errno));
  }
  return static_cast<int64_t>(st.st_size);
}

}  // namespace

BlockDriver::BlockDriver(std::string dataDir, std::string pool, std::string nodeName,
                         std::string zone)
    : pool_(BlockPoolPath(dataDir, pool), dataDir),
      nodeName_(std::move(nodeName)),
      zone_(std::move(zone)) {}

Result<VolumeInfo> BlockDriver::CreateVolume(const CreateVolumeRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(req.name));
  if (std::find(req.accessModes.begin(), req.accessModes.end(), "ReadWriteMany") !=
      req.accessModes.end()) {
    return Invalid(
        "kvol.io/block volumes are attached to one node: ReadWriteMany is not supported");
  }
  std::string fsType = "ext4";
  if (auto it = req.parameters.find(kFsTypeParameter); it != req.parameters.end()) {
    if (!it->second.empty()) fsType = it->second;
  }
  if (fsType != "ext4" && fsType != "xfs") {
    return Invalid("kvol.io/block: unsupported " + std::string(kFsTypeParameter) + " \"" + fsType +
                   "\": ext4 or xfs");
  }
  int64_t size =
      req.capacity.requiredBytes > 0 ? RoundUpMiB(req.capacity.requiredBytes) : kDefaultBytes;
  if (req.capacity.limitBytes > 0 && size > req.capacity.limitBytes) {
    if (req.capacity.requiredBytes > 0) {
      return Invalid("kvol.io/block: " + std::to_string(size) +
                     " bytes (whole MiB) exceed the limit of " +
                     std::to_string(req.capacity.limitBytes) + " bytes");
    }
    size = req.capacity.limitBytes / kMiB * kMiB;
  }
  if (!req.block && fsType == "xfs" && size < kMinXfsBytes) {
    return Invalid(
        "xfs volumes must be at least 300Mi: Debian 12's mkfs.xfs refuses smaller filesystems");
  }
  // Where the volume lives: the first preferred, else the first requisite topology (the selected
  // node's, or the class's allowedTopologies), narrowed to its zone when it names one.
  Topology where;
  const std::vector<Topology>& asked = req.accessibility.preferred.empty()
                                           ? req.accessibility.requisite
                                           : req.accessibility.preferred;
  if (!asked.empty()) {
    const Topology& t = asked.front();
    if (auto z = t.find(kZoneKey); z != t.end()) {
      where = {{kZoneKey, z->second}};
    } else if (auto h = t.find(kHostnameKey); h != t.end()) {
      // This node is known to be in zone_; another node without a zone keeps the volume to itself.
      where = h->second == nodeName_ && !zone_.empty() ? Topology{{kZoneKey, zone_}}
                                                       : Topology{{kHostnameKey, h->second}};
    }
  }
  if (where.empty()) {
    where = zone_.empty() ? Topology{{kHostnameKey, nodeName_}} : Topology{{kZoneKey, zone_}};
  }

  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/true));
  const std::string image = pool_.ImagePath(req.name);
  auto existing = ImageSize(image);
  if (existing.ok()) {
    const bool fits = *existing >= req.capacity.requiredBytes &&
                      (req.capacity.limitBytes <= 0 || *existing <= req.capacity.limitBytes);
    if (!fits) {
      return AlreadyExists("kvol.io/block: volume \"" + req.name + "\" already exists with " +
                           std::to_string(*existing) + " bytes");
    }
    size = *existing;
  } else if (existing.status().code() != Code::kNotFound) {
    return existing.status();
  } else {
    // Made under a temporary name and renamed: a crash never leaves a half-made image.
    const std::string tmp = image + ".tmp";
    ::unlink(tmp.c_str());
    if (req.contentSource) {
      KVOL_RETURN_IF_ERROR(MakeImageFromSource(req, tmp, size));  // block_snapshot.cc
    } else {
      KVOL_RETURN_IF_ERROR(os::MakeSparseFile(tmp, size));
    }
    if (::rename(tmp.c_str(), image.c_str()) != 0) {
      Status s = Internal("rename " + tmp + " to " + image + ": " + std::strerror(errno));
      ::unlink(tmp.c_str());
      return s;
    }
  }
  VolumeInfo info;
  info.volumeId = req.name;
  info.capacityBytes = size;
  info.accessibleTopology.push_back(std::move(where));
  return info;
}

Status BlockDriver::DeleteVolume(const std::string& volumeId) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(volumeId));
  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/false));
  const std::string image = pool_.ImagePath(volumeId);
  if (!os::Exists(image)) return Status::Ok();
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  if (!devs.empty()) {
    return Unavailable("kvol.io/block: volume \"" + volumeId + "\" is still attached (" +
                       devs.front() + "): not deleting it");
  }
  if (::unlink(image.c_str()) != 0 && errno != ENOENT) {
    return Internal("deleting " + image + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<int64_t> BlockDriver::ControllerExpandVolume(const std::string& volumeId,
                                                    const CapacityRange& range) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(volumeId));
  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/false));
  const std::string image = pool_.ImagePath(volumeId);
  auto cur = ImageSize(image);
  if (!cur.ok()) {
    if (cur.status().code() == Code::kNotFound) {
      return NotFound("kvol.io/block: volume \"" + volumeId + "\" not found");
    }
    return cur.status();
  }
  const int64_t want = RoundUpMiB(range.requiredBytes);
  if (want <= *cur) return *cur;  // never shrinks
  if (range.limitBytes > 0 && want > range.limitBytes) {
    return Invalid("kvol.io/block: " + std::to_string(want) +
                   " bytes (whole MiB) exceed the limit of " + std::to_string(range.limitBytes) +
                   " bytes");
  }
  KVOL_RETURN_IF_ERROR(os::MakeSparseFile(image, want));
  return want;
}

}  // namespace kvol::driver
