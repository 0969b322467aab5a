// Small state files of the runtime and the shim (kvol::runtime, internal): written to a temp file
// and renamed over the target, so readers see the old or the whole new content, but not fsynced
// (an fsync costs ~10 ms here, and this state - pids, bundles, exit codes - does not outlive a
// reboot of the node anyway).
// Thread safety: stateless.
#pragma once

#include <string>

#include "kvol/common/status.h"

namespace kvol::runtime {

Status WriteFileQuick(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace kvol::runtime
