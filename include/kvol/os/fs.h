// Files and directories (kvol::os), as the node agent needs them: create trees with modes, remove
// a tree WITHOUT crossing into other filesystems (a pod directory may still hold a bind mount of a
// hostPath or a volume: removing it must fail rather than delete that data), atomic file writes,
// sparse files.
//
// Errors: kInternal "<op> <path>: <strerror>", kNotFound for a missing path where it matters,
// kConflict ("a precondition did not hold") when RemoveTreeOneFs finds a mount point below the
// root, with the message
// "refusing to remove <root>: a mount point (another filesystem) is below it".
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <string>

#include "kvol/common/status.h"

namespace kvol::os {

// mkdir -p with `mode` for the directories it creates (umask ignored: chmod after mkdir).
Status MakeDirs(const std::string& path, unsigned mode = 0755);
// rm -rf that never leaves the filesystem of `root`: a mount point (or other device) below it is
// refused with kConflict and nothing under it is touched; so is a
// root that is itself a mount point. A root that is a symlink or file is unlinked. Missing: OK.
Status RemoveTreeOneFs(const std::string& root);
// Whole-file read; kNotFound when missing.
Result<std::string> ReadFile(const std::string& path);
// Write to a temp file in the same directory, fsync, chmod `mode`, rename over `path`.
Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode = 0644);
// The same without the fsyncs: a reader sees the old or the new content, never a part, even if
// this process dies half-way; after a machine crash the file may hold either, or nothing. For
// state that means nothing after a reboot (what is mounted where: the mounts are gone too).
Status ReplaceFile(const std::string& path, const std::string& content, unsigned mode = 0644);
// Creates (or extends) a sparse file of `sizeBytes` (ftruncate; never shrinks).
Status MakeSparseFile(const std::string& path, int64_t sizeBytes);
// True when `path` exists (lstat: a dangling symlink exists).
bool Exists(const std::string& path);

}  // namespace kvol::os
