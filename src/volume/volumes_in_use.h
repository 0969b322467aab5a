// The CSI volumes this node has in use, as the kubelet reports them in Node status.volumesInUse:
// every vol_data.json under DIR/pods/*/volumes/kubernetes.io~csi/*/ whose driver needs attaching
// (its "attachRequired", or api::AttachRequired(driver, no CSIDriver) for a file written before
// that field existed), as api::UniqueVolumeName(driver, volumeHandle), sorted and without
// duplicates. persistentVolumeClaim's SetUp writes vol_data.json before it stages or publishes and
// TearDown removes it only after unpublish and unstage, so a volume is in this list from before it
// is mounted until after it is unmounted, from disk alone (also right after a restart).
//
// Thread safety: reads the disk only; may be called from any thread.
#pragma once

#include <string>
#include <vector>

namespace kvol::volume {

std::vector<std::string> CsiVolumesInUse(const std::string& dataDir);

}  // namespace kvol::volume
