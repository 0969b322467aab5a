// Kernel tuning of the host's cgroup2 superblock for a node that starts containers (kvol::os).
//
// Moving a process into a cgroup (what crun does for every container, once per hierarchy) takes
// the kernel's cgroup threadgroup lock for writing; without the cgroup2 mount option
// `favordynmods` (Documentation/admin-guide/cgroup-v2.rst) that write lock waits for an RCU grace
// period, a few ms idle and tens of ms under load, and two containers starting at once queue
// behind each other's grace periods. With it the lock's read side (fork, exit) is a little slower
// and cgroup moves no longer wait. The option is global: it may be set on the cgroup2 mount of a
// pure cgroup2 host or of a hybrid one (/sys/fs/cgroup/unified), and it also covers the v1
// hierarchies' moves. The kubelet likewise adjusts kernel defaults for containers unless told
// not to (--protect-kernel-defaults), and so does kvol's node agent.
//
// Thread safety: the functions may be called from any thread; the kernel serialises the change.
#pragma once

#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::os {

// The cgroup2 options to pass when reconfiguring a superblock whose current super options are
// `superOptions` ("rw,nsdelegate,memory_recursiveprot"), so that `favordynmods` is added and no
// existing option is lost (a reconfiguration sets exactly the options it is given).
std::vector<std::string> Cgroup2OptionsWithFavorDynmods(const std::string& superOptions);

// Finds the host's cgroup2 mount (this process's mount table) and, unless it already has
// `favordynmods`, reconfigures its superblock with the option added (fspick + fsconfig, which
// leaves the mount's own flags alone). Returns the mount point changed, "" when nothing was
// changed (already set, or no cgroup2 mounted); kInternal naming the mount and errno otherwise
// (an older kernel without the option answers EINVAL).
Result<std::string> FavorCgroupDynamicModifications();

// Reconfigures the cgroup2 superblock mounted at `mountPoint` with exactly `flags` (cgroup2's
// boolean options); kInternal naming the mount, the option and errno on failure.
Status ReconfigureCgroup2(const std::string& mountPoint, const std::vector<std::string>& flags);

}  // namespace kvol::os
