// OCI config.json for a container (see oci_spec.h).
#include "src/runtime/oci_spec.h"

namespace kvol::runtime {

namespace {

using nlohmann::json;

// Docker's (and containerd's CRI) default capability set.
const char* const kDefaultCaps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

// Every capability (for privileged containers), as of Linux 5.9.
const char* const kAllCaps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

// Docker's default masked and read-only paths.
const char* const kMaskedPaths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
const char* const kReadonlyPaths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

json Mount(const char* dst, const char* type, const char* src, json options) {
  return json{
      {"destination", dst}, {"type", type}, {"source", src}, {"options", std::move(options)}};
}

}  // namespace

json BuildOciSpec(const ContainerConfig& c, const std::string& rootfsPath, uint64_t nofileHard) {
  json caps = json::array();
  if (c.privileged) {
    for (const char* cap : kAllCaps) caps.push_back(cap);
  } else {
    for (const char* cap : kDefaultCaps) caps.push_back(cap);
  }
  const uint64_t nofile = nofileHard < 1048576 ? nofileHard : 1048576;
  json process = {
      {"terminal", false},
      {"user", {{"uid", c.uid}, {"gid", c.gid}}},
      {"args", c.args},
      {"env", c.env},
      {"cwd", c.workingDir.empty() ? "/" : c.workingDir},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", nofile}, {"soft", nofile}}})},
      {"noNewPrivileges", !c.privileged},
  };
  json mounts = json::array({
      Mount("/proc", "proc", "proc", json::array({"nosuid", "noexec", "nodev"})),
      Mount("/dev", "tmpfs", "tmpfs",
            json::array({"nosuid", "strictatime", "mode=755", "size=65536k"})),
      Mount(
          "/dev/pts", "devpts", "devpts",
          json::array({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"})),
      Mount("/dev/shm", "tmpfs", "shm",
            json::array({"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"})),
      Mount("/dev/mqueue", "mqueue", "mqueue", json::array({"nosuid", "noexec", "nodev"})),
      Mount("/sys", "sysfs", "sysfs",
            json::array({"nosuid", "noexec", "nodev", c.privileged ? "rw" : "ro"})),
  });
  for (const BindMount& m : c.mounts) {
    json opts = json::array({"rbind", "rprivate"});
    if (m.readOnly) opts.push_back("ro");
    mounts.push_back(json{{"type", "bind"},
                          {"source", m.hostPath},
                          {"destination", m.containerPath},
                          {"options", std::move(opts)}});
  }
  json linux = {
      {"namespaces", json::array({
                         {{"type", "pid"}},
                         {{"type", "mount"}},
                         {{"type", "network"}, {"path", c.sandbox.netns}},
                         {{"type", "ipc"}, {"path", c.sandbox.ipcns}},
                         {{"type", "uts"}, {"path", c.sandbox.utsns}},
                     })},
  };
  if (!c.privileged) {
    linux["maskedPaths"] = json::array();
    for (const char* p : kMaskedPaths) linux["maskedPaths"].push_back(p);
    linux["readonlyPaths"] = json::array();
    for (const char* p : kReadonlyPaths) linux["readonlyPaths"].push_back(p);
  }
  json spec = {
      {"ociVersion", "1.0.2"},
      {"process", std::move(process)},
      {"root", {{"path", rootfsPath}, {"readonly", c.readOnlyRootfs}}},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux)},
  };
  // With the sandbox's UTS namespace joined, crun refuses to set a hostname: the sandbox has it.
  if (c.sandbox.utsns.empty() && !c.hostname.empty()) spec["hostname"] = c.hostname;
  return spec;
}

}  // namespace kvol::runtime
