// Test helper for kvol.io/block tests: a scratch data dir (os::testing::Scratch) whose loop
// devices are detached in every outcome before its mounts go (lazily) and the tree is removed;
// plus what a test checks is left behind under it.
//
// Thread safety: one per test.
#pragma once

#include <string>
#include <vector>

#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "src/os/test_scratch.h"

namespace kvol::driver::testing {

class BlockScratch {
 public:
  BlockScratch() = default;
  ~BlockScratch() {
    // Volume images first, then the pool image: a device still mounted or open is detached by
    // the kernel once the Scratch's lazy unmounts let go of it.
    for (int round = 0; round < 2; ++round) {
      for (const std::string& d : Loops()) (void)os::DetachLoop(d);
    }
  }
  BlockScratch(const BlockScratch&) = delete;
  BlockScratch& operator=(const BlockScratch&) = delete;

  const std::string& path() const { return s_.path(); }

  // Loop devices whose backing file is under the scratch dir ("/dev/loopN <file>").
  std::vector<std::string> Loops(bool withFile = false) const {
    std::vector<std::string> out;
    auto all = os::ListLoopDevices();
    if (!all.ok()) return out;
    for (const os::LoopDevice& l : *all) {
      if (l.backingFile.rfind(s_.path() + "/", 0) == 0) {
        out.push_back(withFile ? l.device + " " + l.backingFile : l.device);
      }
    }
    return out;
  }
  // Mount points under the scratch dir, except the dir itself (the data dir's self-bind).
  std::vector<std::string> Mounts() const {
    std::vector<std::string> out;
    auto m = os::MountsUnder(s_.path());
    if (!m.ok()) return out;
    for (const os::MountInfo& i : *m) {
      if (i.mountPoint != s_.path()) out.push_back(i.mountPoint);
    }
    return out;
  }

 private:
  os::testing::Scratch s_;
};

}  // namespace kvol::driver::testing
