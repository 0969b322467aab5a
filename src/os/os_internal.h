// Helpers shared by the kvol::os implementation files (not part of the public API).
//
// Thread safety: stateless.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include "kvol/common/status.h"

namespace kvol::os::internal {

// kInternal "<op> <path>: <strerror(err)>"; kNotFound when err is ENOENT.
inline Status ErrnoStatus(const std::string& op, const std::string& path, int err) {
  std::string m = op + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return NotFound(std::move(m));
  return Internal(std::move(m));
}

// Remounts the bind mount at `target` read-only (MS_REMOUNT|MS_BIND|MS_RDONLY), keeping its
// nosuid/nodev/noexec/atime flags.
Status RemountBindReadOnly(const std::string& target);

// The mount flags (MS_*) `target`'s mount currently has, from statvfs; 0 on error.
unsigned long CurrentMountFlags(const std::string& target);

// Releases the hold AttachLoop keeps on an autoclear loop device (see loop.cc); no-op otherwise.
void ReleaseLoopHoldInternal(const std::string& device);

}  // namespace kvol::os::internal
