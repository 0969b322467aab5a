// The cgroup2 favordynmods switch (see cgroup_tuning.h).
#include "kvol/os/cgroup_tuning.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "kvol/os/mount.h"

namespace kvol::os {

namespace {

// cgroup2's own boolean options (kernel/cgroup/cgroup.c, cgroup2_fs_parameters); the others in
// the super options ("rw", "relatime") are generic and kept by a reconfiguration.
const char* const kCgroup2Flags[] = {"nsdelegate",
                                     "favordynmods",
                                     "memory_localevents",
                                     "memory_recursiveprot",
                                     "memory_hugetlb_accounting",
                                     "pids_localevents"};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string o; std::getline(ss, o, ',');) out.push_back(o);
  return out;
}

bool IsCgroup2Flag(const std::string& o) {
  for (const char* f : kCgroup2Flags) {
    if (o == f) return true;
  }
  return false;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::vector<std::string> Cgroup2OptionsWithFavorDynmods(const std::string& superOptions) {
  std::vector<std::string> out;
  bool has = false;
  for (const auto& o : Split(superOptions)) {
    if (!IsCgroup2Flag(o)) continue;
    has = has || o == "favordynmods";
    out.push_back(o);
  }
  if (!has) out.push_back("favordynmods");
  return out;
}

Result<std::string> FavorCgroupDynamicModifications() {
  KVOL_ASSIGN_OR_RETURN(auto mounts, ReadMountInfo());
  const MountInfo* cg = nullptr;
  for (const auto& m : mounts) {
    if (m.fsType == "cgroup2") {
      cg = &m;
      break;
    }
  }
  if (cg == nullptr) return std::string();
  for (const auto& o : Split(cg->superOptions)) {
    if (o == "favordynmods") return std::string();
  }
  std::vector<std::string> opts = Cgroup2OptionsWithFavorDynmods(cg->superOptions);
  KVOL_RETURN_IF_ERROR(ReconfigureCgroup2(cg->mountPoint, opts));
  return cg->mountPoint;
}

Status ReconfigureCgroup2(const std::string& at, const std::vector<std::string>& flags) {
  int fd = static_cast<int>(::syscall(SYS_fspick, AT_FDCWD, at.c_str(), FSPICK_CLOEXEC));
  if (fd < 0) return Internal(Errno("fspick " + at));
  Status st;
  for (const auto& o : flags) {
    if (::syscall(SYS_fsconfig, fd, FSCONFIG_SET_FLAG, o.c_str(), nullptr, 0) != 0) {
      st = Internal(Errno("fsconfig " + at + " " + o));
      break;
    }
  }
  if (st.ok() && ::syscall(SYS_fsconfig, fd, FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0) != 0) {
    st = Internal(Errno("reconfigure " + at));
  }
  ::close(fd);
  return st;
}

}  // namespace kvol::os
