// Test helper for kvol::os tests: a scratch directory from mkdtemp under /tmp that is cleaned up in
// every outcome (everything mounted under it unmounted, lazily if busy, then removed).
//
// Thread safety: one per test.
#pragma once

#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"

namespace kvol::os::testing {

class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/kvol-os-test-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    path_ = d ? d : "";
  }
  ~Scratch() {
    if (path_.empty()) return;
    for (int round = 0; round < 8; ++round) {
      auto mounts = MountsUnder(path_);
      if (!mounts.ok() || mounts->empty()) break;
      for (const MountInfo& m : *mounts) ::umount2(m.mountPoint.c_str(), MNT_DETACH);
    }
    (void)RemoveTreeOneFs(path_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace kvol::os::testing
