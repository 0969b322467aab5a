// Internal to kvol_driver_block: names and checks both halves share.
#pragma once

#include <cstdint>
#include <string>

#include "kvol/common/status.h"

namespace kvol::driver {

inline constexpr const char* kBlockDriverName = "kvol.io/block";
inline constexpr const char* kFsTypeParameter = "csi.storage.k8s.io/fstype";
inline constexpr int64_t kMiB = int64_t{1} << 20;
// Debian 12's mkfs.xfs refuses filesystems under 300 MB.
inline constexpr int64_t kMinXfsBytes = 300 * kMiB;

// Waits (up to 5 s) until no loop device is attached to `image`: the kernel releases an
// autoclear device after its last user goes asynchronously, and a device still attached keeps
// its backing file (and so the filesystem holding it) busy. kUnavailable naming the device when
// one is still there.
Status WaitLoopsGone(const std::string& image);

// A volume id is a PV name: one path element of [a-z0-9.-], at most 253 characters.
Status CheckBlockVolumeId(const std::string& id);

}  // namespace kvol::driver
