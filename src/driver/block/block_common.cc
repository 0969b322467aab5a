#include "src/driver/block/block_common.h"

#include <chrono>
#include <thread>
#include <vector>

#include "kvol/os/loop.h"

namespace kvol::driver {

Status WaitLoopsGone(const std::string& image) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
    if (devs.empty()) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable(devs.front() + " is still attached to " + image);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status CheckBlockVolumeId(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 253) {
    return Invalid("kvol.io/block: invalid volume id \"" + id + "\"");
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return Invalid("kvol.io/block: invalid volume id \"" + id +
                     "\": must be a DNS-1123 subdomain");
    }
  }
  return Status::Ok();
}

}  // namespace kvol::driver
