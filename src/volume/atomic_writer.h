// AtomicWriter (internal to kvol::volume): projects a set of files into a volume directory so that
// a reader sees either the whole old set or the whole new set, never a mix — Kubernetes'
// pkg/volume/util/atomic_writer.go, which configMap, secret, projected and downwardAPI volumes use.
//
// Layout of a volume directory written by it:
//   ..2026_11_27_07_24_34.123456789/   the files of one payload (a new directory per change)
//   ..data -> ..2026_11_27_07_24_34.123456789
//   <elem> -> ..data/<elem>            one symlink per top-level element of the payload's paths
// A change writes a new timestamped directory, points a `..data_tmp` symlink at it and renames
// that over `..data` (the atomic swap), then adds the visible symlinks of new top-level elements,
// removes those no longer in the payload and deletes the old timestamped directory (and any
// `..`-named directory a write that crashed before its swap left behind). Names starting with ".."
// are reserved for the writer. A failed write removes its new directory and leaves the old
// content in place.
//
// Files are created with O_NOFOLLOW|O_EXCL inside the new directory only (reached by file
// descriptor, component by component) and get exactly the payload's mode (fchmod, no umask).
// Write() returns false, touching nothing but missing visible symlinks, when the payload equals
// what is there (same paths, contents and modes).
//
// Thread safety: none; calls for one directory must be serialised by the caller (the volume
// manager does). Stateless between calls: everything is read back from the directory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kvol/common/status.h"

namespace kvol::volume {

struct FileProjection {
  std::string data;      // the bytes of the file
  unsigned mode = 0644;  // permission bits (07777 at most)
};

// Relative path (as written in an item's `path`) -> file.
using Payload = std::map<std::string, FileProjection>;

// Kubernetes' validatePath, with its messages (kInvalid):
//   invalid path: must not be empty: ""
//   invalid path: must be relative path: /etc/passwd
//   invalid path: must not contain '..': a/../b
//   invalid path: must not start with '..': ..data
//   invalid path: must be less than or equal to 4096 characters
//   invalid path: filenames must be less than or equal to 255 characters
Status ValidatePayloadPath(const std::string& path);

class AtomicWriter {
 public:
  // targetDir must exist (the volume directory). With fsGroup (the pod's
  // securityContext.fsGroup), ownership is applied as the kubelet's SetVolumeOwnership does for a
  // read-only volume: everything (targetDir, directories, files, symlinks) gets group fsGroup,
  // files get mode | 0440, directories mode | 02550 (setgid).
  explicit AtomicWriter(std::string targetDir, std::optional<int64_t> fsGroup = std::nullopt)
      : targetDir_(std::move(targetDir)), fsGroup_(fsGroup) {}

  // Validates every path first (nothing is written when one is bad), then writes as described
  // above. Returns whether the directory's content changed.
  Result<bool> Write(const Payload& payload);

 private:
  std::string targetDir_;
  std::optional<int64_t> fsGroup_;
};

}  // namespace kvol::volume
