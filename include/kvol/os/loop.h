// Loop devices (kvol::os): attach an image file, find the device of a file, grow, detach. Uses
// /dev/loop-control (LOOP_CTL_GET_FREE) and LOOP_CONFIGURE, with LO_FLAGS_AUTOCLEAR so a device
// whose last user (a mount) goes away is released by the kernel, and the backing file path kept
// in lo_file_name so reconstruction finds what a dead agent left (ListLoopDevices).
//
// Thread safety: calls may run concurrently; attaching retries when another process takes the
// free device first (EBUSY).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::os {

struct LoopDevice {
  std::string device;       // "/dev/loop3"
  std::string backingFile;  // absolute path of the image file
  bool readOnly = false;
};

// Attaches `file` to a free loop device; returns "/dev/loopN". autoclear: see above. The kernel
// releases an autoclear device at its last close, so AttachLoop keeps it open ("holds" it) until
// RealMounter().MountFilesystem mounts it (the mount then keeps it), DetachLoop, or
// ReleaseLoopHold. A device used raw (block volumeMode) stays held while this process lives.
Result<std::string> AttachLoop(const std::string& file, bool readOnly, bool autoclear = true);
// Lets go of AttachLoop's hold on an autoclear device: once nobody else has it open or mounted,
// the kernel detaches it. No-op for a device this process does not hold.
void ReleaseLoopHold(const std::string& device);
// Detaches the device (LOOP_CLR_FD); OK when already free.
Status DetachLoop(const std::string& device);
// Every attached loop device (from /sys/block/loop*/loop/backing_file).
Result<std::vector<LoopDevice>> ListLoopDevices();
// The devices backed by `file` (usually zero or one).
Result<std::vector<std::string>> LoopDevicesFor(const std::string& file);
// After the backing file grew: LOOP_SET_CAPACITY.
Status RefreshLoopCapacity(const std::string& device);

}  // namespace kvol::os
