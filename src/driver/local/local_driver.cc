#include "src/driver/local/local_driver.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace kvol::driver {
namespace fs = std::filesystem;

namespace {
constexpr const char* kHostnameKey = "kubernetes.io/hostname";

Status IoError(const std::string& what, const std::string& path, const std::error_code& ec) {
  return Internal(what + " " + path + ": " + ec.message());
}
}  // namespace

LocalDriver::LocalDriver(std::string dataDir, std::string nodeName)
    : root_(std::move(dataDir) + "/local"), nodeName_(std::move(nodeName)) {}

std::string LocalDriver::VolumePath(const std::string& volumeId) const {
  return root_ + "/" + volumeId;
}

Status LocalDriver::CheckName(const std::string& id) const {
  if (id.empty() || id == "." || id == ".." || id.size() > 253) {
    return Invalid("invalid volume name \"" + id + "\"");
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return Invalid("invalid volume name \"" + id + "\": must be a DNS-1123 subdomain");
  }
  return Status::Ok();
}

Result<VolumeInfo> LocalDriver::CreateVolume(const CreateVolumeRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckName(req.name));
  if (!req.accessibility.requisite.empty()) {
    bool here = false;
    std::string other;
    for (const auto& t : req.accessibility.requisite) {
      auto it = t.find(kHostnameKey);
      if (it == t.end() || it->second == nodeName_) {
        here = true;
        break;
      }
      other = it->second;
    }
    if (!here) {
      return Invalid("kvol.io/local cannot place a volume on node \"" + other +
                     "\": this driver serves node \"" + nodeName_ + "\"");
    }
  }
  const std::string path = VolumePath(req.name);
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return IoError("creating", root_, ec);
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
    return Internal("creating " + path + ": " + std::strerror(errno));
  }
  ::chmod(path.c_str(), 0777);  // not subject to the umask
  VolumeInfo info;
  info.volumeId = req.name;
  info.capacityBytes = req.capacity.requiredBytes;
  info.accessibleTopology.push_back({{kHostnameKey, nodeName_}});
  return info;
}

Status LocalDriver::DeleteVolume(const std::string& volumeId) {
  KVOL_RETURN_IF_ERROR(CheckName(volumeId));
  const std::string path = VolumePath(volumeId);
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return IoError("deleting", path, ec);
  return Status::Ok();
}

Result<int64_t> LocalDriver::ControllerExpandVolume(const std::string& volumeId,
                                                    const CapacityRange& range) {
  KVOL_RETURN_IF_ERROR(CheckName(volumeId));
  std::error_code ec;
  if (!fs::is_directory(VolumePath(volumeId), ec)) {
    return NotFound("volume \"" + volumeId + "\" not found");
  }
  return range.requiredBytes;
}

Status LocalDriver::RecycleVolume(const std::string& volumeId) {
  KVOL_RETURN_IF_ERROR(CheckName(volumeId));
  const std::string path = VolumePath(volumeId);
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return NotFound("volume \"" + volumeId + "\" not found");
  for (auto it = fs::directory_iterator(path, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code rec;
    fs::remove_all(it->path(), rec);
    if (rec) return IoError("scrubbing", it->path().string(), rec);
  }
  if (ec) return IoError("scrubbing", path, ec);
  return Status::Ok();
}

}  // namespace kvol::driver
