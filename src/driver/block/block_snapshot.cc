// kvol.io/block snapshots, restores and clones (see block_driver.h): snapshot images under
// <pool>/snapshots, reflink copies of volume images taken with the source filesystem frozen.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "src/driver/block/block_copy.h"
#include "src/driver/block/block_driver.h"

namespace kvol::driver {
namespace {

constexpr const char* kXattrSource = "user.kvol.source";
constexpr const char* kXattrCreated = "user.kvol.created";

Status Errno(const std::string& what, const std::string& path, int err) {
  return Internal(what + " " + path + ": " + std::strerror(err));
}

Result<int64_t> FileBytes(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound(path + " does not exist");
    return Errno("stat", path, errno);
  }
  return static_cast<int64_t>(st.st_size);
}

std::string GetXattr(const std::string& path, const char* name) {
  char buf[512];
  ssize_t n = ::getxattr(path.c_str(), name, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

Status SetXattr(const std::string& path, const char* name, const std::string& value) {
  if (::setxattr(path.c_str(), name, value.data(), value.size(), 0) != 0) {
    return Errno(std::string("setting ") + name + " on", path, errno);
  }
  return Status::Ok();
}

// One quiesce-and-copy at a time per driver: two freezes of one source would conflict, and the
// copies share the pool's bandwidth anyway.
std::mutex& CopyMu() {
  static std::mutex mu;
  return mu;
}

// Copies `src` (the image of a live volume when `live`) to `dst`.
Result<CopyMethod> QuiescedCopy(const std::string& src, const std::string& dst, bool live,
                                bool allowReflink) {
  std::lock_guard<std::mutex> lk(CopyMu());
  std::unique_ptr<ImageQuiescer> q;
  if (live) {
    KVOL_ASSIGN_OR_RETURN(q, ImageQuiescer::Quiesce(src));
  }
  return CopyImage(src, dst, allowReflink);  // q thaws when it goes, also on error
}

// blkid's filesystem type of an image file ("" = none).
std::string ImageFsType(const std::string& image) {
  auto r = os::Exec({"blkid", "-p", "-s", "TYPE", "-o", "value", image});
  if (!r.ok() || r->exitCode != 0) return "";
  std::string t = r->out;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

// Gives the xfs filesystem in `image` a new UUID. A frozen XFS keeps its log "dirty" (covered,
// not unmounted), which xfs_admin refuses, so the copy is first mounted once (nouuid: its source
// may be mounted) to replay the log, and unmounted again.
Status NewXfsUuid(const std::string& image, const std::string& mnt) {
  KVOL_RETURN_IF_ERROR(os::MakeDirs(mnt, 0700));
  KVOL_ASSIGN_OR_RETURN(std::string dev,
                        os::AttachLoop(image, /*readOnly=*/false, /*autoclear=*/true));
  Status m = os::RealMounter().MountFilesystem(dev, mnt, "xfs", "nouuid", false);
  if (!m.ok()) {
    (void)os::DetachLoop(dev);
    ::rmdir(mnt.c_str());
    return m;
  }
  Status u = os::RealMounter().Unmount(mnt);
  ::rmdir(mnt.c_str());
  KVOL_RETURN_IF_ERROR(u);
  KVOL_RETURN_IF_ERROR(WaitLoopsGone(image));
  // xfs_admin exits 0 even when it refuses: its output says.
  KVOL_ASSIGN_OR_RETURN(os::ExecResult r, os::ExecOk({"xfs_admin", "-U", "generate", image}));
  if (r.out.find("new UUID") == std::string::npos) {
    return Internal("xfs_admin -U generate " + image + ": " + r.out + r.err);
  }
  return Status::Ok();
}

}  // namespace

Result<SnapshotInfo> BlockDriver::CreateSnapshot(const CreateSnapshotRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(req.name));
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(req.sourceVolumeId));
  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/false));
  const std::string snap = SnapshotPath(req.name);
  if (os::Exists(snap)) {
    KVOL_ASSIGN_OR_RETURN(SnapshotInfo info, GetSnapshot(req.name));
    if (info.sourceVolumeId != req.sourceVolumeId) {
      return AlreadyExists("kvol.io/block: snapshot \"" + req.name +
                           "\" already exists with source volume \"" + info.sourceVolumeId + "\"");
    }
    return info;
  }
  const std::string src = pool_.ImagePath(req.sourceVolumeId);
  if (!os::Exists(src)) {
    return NotFound("kvol.io/block: source volume \"" + req.sourceVolumeId + "\" not found");
  }
  KVOL_RETURN_IF_ERROR(os::MakeDirs(pool_.path() + "/snapshots", 0700));
  const std::string tmp = snap + ".tmp";
  ::unlink(tmp.c_str());
  auto copied = QuiescedCopy(src, tmp, /*live=*/true, allowReflink_);
  if (!copied.ok()) {
    return Status(copied.status().code(), "kvol.io/block: snapshot of volume \"" +
                                              req.sourceVolumeId +
                                              "\": " + copied.status().message());
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Status s = SetXattr(tmp, kXattrSource, req.sourceVolumeId);
  if (s.ok()) s = SetXattr(tmp, kXattrCreated, std::to_string(now));
  if (s.ok() && ::rename(tmp.c_str(), snap.c_str()) != 0) s = Errno("rename to", snap, errno);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return GetSnapshot(req.name);
}

Status BlockDriver::DeleteSnapshot(const std::string& snapshotId) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(snapshotId));
  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/false));
  const std::string snap = SnapshotPath(snapshotId);
  if (::unlink(snap.c_str()) != 0 && errno != ENOENT) return Errno("deleting", snap, errno);
  return Status::Ok();
}

Result<SnapshotInfo> BlockDriver::GetSnapshot(const std::string& snapshotId) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(snapshotId));
  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/false));
  const std::string snap = SnapshotPath(snapshotId);
  auto size = FileBytes(snap);
  if (!size.ok()) {
    if (size.status().IsNotFound()) {
      return NotFound("kvol.io/block: snapshot \"" + snapshotId + "\" not found");
    }
    return size.status();
  }
  SnapshotInfo info;
  info.snapshotId = snapshotId;
  info.sourceVolumeId = GetXattr(snap, kXattrSource);
  info.sizeBytes = *size;
  const std::string created = GetXattr(snap, kXattrCreated);
  info.creationTimeNanos = created.empty() ? 0 : std::stoll(created);
  info.readyToUse = true;  // a copy is complete once it has its name
  return info;
}

bool BlockDriver::CanClone(const std::string& sourceVolumeId) {
  return CheckBlockVolumeId(sourceVolumeId).ok() && pool_.Ensure(/*create=*/false).ok() &&
         os::Exists(pool_.ImagePath(sourceVolumeId));
}

Status BlockDriver::MakeImageFromSource(const CreateVolumeRequest& req, const std::string& tmp,
                                        int64_t size) {
  const CreateVolumeRequest::ContentSource& cs = *req.contentSource;
  std::string src;
  std::string what;
  bool live = false;
  if (!cs.snapshotId.empty()) {
    KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(cs.snapshotId));
    src = SnapshotPath(cs.snapshotId);
    what = "snapshot \"" + cs.snapshotId + "\"";
  } else {
    KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(cs.volumeId));
    src = pool_.ImagePath(cs.volumeId);
    what = "volume \"" + cs.volumeId + "\"";
    live = true;
  }
  auto srcBytes = FileBytes(src);
  if (!srcBytes.ok()) {
    if (srcBytes.status().IsNotFound()) {
      return NotFound("kvol.io/block: source " + what + " not found");
    }
    return srcBytes.status();
  }
  if (size < *srcBytes) {
    return Invalid("kvol.io/block: the requested " + std::to_string(size) +
                   " bytes are less than the " + std::to_string(*srcBytes) + " bytes of source " +
                   what);
  }
  auto copied = QuiescedCopy(src, tmp, live, allowReflink_);
  if (!copied.ok()) {
    return Status(copied.status().code(),
                  "kvol.io/block: copying source " + what + ": " + copied.status().message());
  }
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  // Two XFS filesystems with one UUID cannot be mounted at once: the copy gets a new one.
  if (ImageFsType(tmp) == "xfs") {
    Status s = NewXfsUuid(tmp, pool_.path() + "/snapshots/.mnt-" + req.name);
    if (!s.ok()) {
      return fail(
          Internal("kvol.io/block: new UUID for the xfs copy of " + what + ": " + s.message()));
    }
  }
  if (size > *srcBytes) {
    Status s = os::MakeSparseFile(tmp, size);  // the node grows the filesystem at stage
    if (!s.ok()) return fail(s);
  }
  return Status::Ok();
}

}  // namespace kvol::driver
