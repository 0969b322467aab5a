// The OCI runtime spec (config.json) of one container (kvol::runtime, internal): process (args,
// env, cwd, user, docker's default capabilities, RLIMIT_NOFILE capped at the hard limit,
// noNewPrivileges), root (the overlay mount point), hostname, the standard /proc /dev /sys mounts
// then the container's bind mounts, and namespaces: new pid + mount, the sandbox's network, IPC
// and UTS namespace files. No cgroup resources (this VM has hybrid cgroups v1; see DESIGN.md).
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "kvol/runtime/runtime.h"

namespace kvol::runtime {

nlohmann::json BuildOciSpec(const ContainerConfig& c, const std::string& rootfsPath,
                            uint64_t nofileHard);

}  // namespace kvol::runtime
