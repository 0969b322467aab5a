// Loop devices through /dev/loop-control and LOOP_CONFIGURE.
//
// LO_FLAGS_AUTOCLEAR releases a device when its last opener closes it, so an autoclear device
// attached here and not yet mounted would vanish the moment AttachLoop closed its descriptor. The
// descriptor is therefore kept open ("held") in a process-wide table until the device is mounted
// through RealMounter().MountFilesystem, detached with DetachLoop, or released with
// ReleaseLoopHold; from then on the mount (or whoever else has it open) keeps it alive.
#include "kvol/os/loop.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "kvol/os/fs.h"
#include "kvol/os/safe_path.h"
#include "src/os/os_internal.h"

namespace kvol::os {
namespace {

using internal::ErrnoStatus;

std::mutex& HoldMu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, Fd>& Holds() {
  static auto* h = new std::map<std::string, Fd>();  // never destroyed: holds outlive statics
  return *h;
}

// Opens /dev/loopN, creating the node (b 7 N) when the kernel made the device but no udev did.
int OpenLoopNode(int n, int flags) {
  const std::string dev = "/dev/loop" + std::to_string(n);
  int fd = ::open(dev.c_str(), flags | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (::mknod(dev.c_str(), S_IFBLK | 0660, makedev(7, static_cast<unsigned>(n))) != 0 &&
        errno != EEXIST) {
      return -1;
    }
    fd = ::open(dev.c_str(), flags | O_CLOEXEC);
  }
  return fd;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// LOOP_SET_FD + LOOP_SET_STATUS64, for kernels before 5.8 (no LOOP_CONFIGURE).
int ConfigureOld(int devFd, const loop_config& cfg) {
  if (::ioctl(devFd, LOOP_SET_FD, cfg.fd) != 0) return -1;
  loop_info64 info = cfg.info;
  if (::ioctl(devFd, LOOP_SET_STATUS64, &info) != 0) {
    const int e = errno;
    ::ioctl(devFd, LOOP_CLR_FD, 0);
    errno = e;
    return -1;
  }
  return 0;
}

}  // namespace

namespace internal {
void ReleaseLoopHoldInternal(const std::string& device) {
  std::lock_guard<std::mutex> lock(HoldMu());
  Holds().erase(device);
}
}  // namespace internal

void ReleaseLoopHold(const std::string& device) { internal::ReleaseLoopHoldInternal(device); }

Result<std::string> AttachLoop(const std::string& file, bool readOnly, bool autoclear) {
  char buf[PATH_MAX];
  if (::realpath(file.c_str(), buf) == nullptr)
    return ErrnoStatus("attach loop device to", file, errno);
  const std::string real = buf;
  int ffd = ::open(real.c_str(), (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (ffd < 0) return ErrnoStatus("open", real, errno);
  Fd backing(ffd);
  int cfd = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (cfd < 0) return ErrnoStatus("open", "/dev/loop-control", errno);
  Fd control(cfd);

  loop_config cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.fd = static_cast<__u32>(backing.get());
  if (readOnly) cfg.info.lo_flags |= LO_FLAGS_READ_ONLY;
  if (autoclear) cfg.info.lo_flags |= LO_FLAGS_AUTOCLEAR;
  std::strncpy(reinterpret_cast<char*>(cfg.info.lo_file_name), real.c_str(), LO_NAME_SIZE - 1);

  int lastErr = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return ErrnoStatus("get a free loop device for", real, errno);
    int dfd = OpenLoopNode(n, O_RDWR);
    if (dfd < 0) {
      lastErr = errno;
      if (lastErr == ENXIO || lastErr == EBUSY) continue;  // removed or taken meanwhile
      return ErrnoStatus("open", "/dev/loop" + std::to_string(n), lastErr);
    }
    Fd dev(dfd);
    int rc = ::ioctl(dev.get(), LOOP_CONFIGURE, &cfg);
    if (rc != 0 && (errno == EINVAL || errno == ENOTTY)) rc = ConfigureOld(dev.get(), cfg);
    if (rc != 0) {
      lastErr = errno;
      if (lastErr == EBUSY) continue;  // another process configured it first
      return ErrnoStatus("attach " + real + " to", "/dev/loop" + std::to_string(n), lastErr);
    }
    const std::string name = "/dev/loop" + std::to_string(n);
    if (autoclear) {
      std::lock_guard<std::mutex> lock(HoldMu());
      Holds()[name] = std::move(dev);
    }
    return name;
  }
  return ErrnoStatus("attach loop device to", real, lastErr ? lastErr : EBUSY);
}

Status DetachLoop(const std::string& device) {
  internal::ReleaseLoopHoldInternal(device);
  int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENXIO) return Status::Ok();
    return ErrnoStatus("open", device, errno);
  }
  Fd dev(fd);
  if (::ioctl(dev.get(), LOOP_CLR_FD, 0) != 0 && errno != ENXIO) {
    return ErrnoStatus("detach", device, errno);
  }
  return Status::Ok();
}

Result<std::vector<LoopDevice>> ListLoopDevices() {
  std::vector<LoopDevice> out;
  DIR* d = ::opendir("/sys/block");
  if (d == nullptr) return ErrnoStatus("open", "/sys/block", errno);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind("loop", 0) == 0) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // loop2 before loop10
  });
  for (const std::string& n : names) {
    auto backing = ReadFile("/sys/block/" + n + "/loop/backing_file");
    if (!backing.ok()) continue;  // not attached
    LoopDevice ld;
    ld.device = "/dev/" + n;
    ld.backingFile = Trim(*backing);
    auto ro = ReadFile("/sys/block/" + n + "/ro");
    ld.readOnly = ro.ok() && Trim(*ro) == "1";
    out.push_back(std::move(ld));
  }
  return out;
}

Result<std::vector<std::string>> LoopDevicesFor(const std::string& file) {
  char buf[PATH_MAX];
  const std::string real = ::realpath(file.c_str(), buf) ? buf : file;
  KVOL_ASSIGN_OR_RETURN(std::vector<LoopDevice> all, ListLoopDevices());
  std::vector<std::string> out;
  for (const LoopDevice& l : all) {
    if (l.backingFile == real || l.backingFile == file) out.push_back(l.device);
  }
  return out;
}

Status RefreshLoopCapacity(const std::string& device) {
  int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", device, errno);
  Fd dev(fd);
  if (::ioctl(dev.get(), LOOP_SET_CAPACITY, 0) != 0) {
    return ErrnoStatus("refresh capacity of", device, errno);
  }
  return Status::Ok();
}

}  // namespace kvol::os
