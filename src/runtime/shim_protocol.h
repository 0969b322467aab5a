// What the runtime and the shim agree on (kvol::runtime, internal): the shim's flags, the words
// it writes to the ready fd, and the files it leaves in the bundle directory.
#pragma once

namespace kvol::runtime {

inline constexpr const char* kShimSubcommand = "__shim";
inline constexpr const char* kShimBundle = "--bundle";
inline constexpr const char* kShimId = "--id";
inline constexpr const char* kShimRoot = "--root";
inline constexpr const char* kShimLog = "--log";
inline constexpr const char* kShimExit = "--exit";
inline constexpr const char* kShimPid = "--pid";
inline constexpr const char* kShimCrun = "--crun";
inline constexpr const char* kShimReadyFd = "--ready-fd";
// `__shim --zygote` (alone): the shim zygote (shim_zygote.h), its socket on fd 3.
inline constexpr const char* kShimZygote = "--zygote";

// The pid file holds "<pid> <start time>\n" (start time: field 22 of /proc/<pid>/stat), so that a
// reused pid is never taken for the shim. (Shims of older versions wrote "<pid>\n" only.)

// Written (with '\n') to the ready fd: the container runs, or it failed to start (the exit file
// then already holds reason StartError).
inline constexpr const char* kReadyOk = "ok";
inline constexpr const char* kReadyFail = "fail";

// <bundle>/started.json: {"startedAt":"...","pid":N} once `crun start` succeeded.
inline constexpr const char* kStartedFile = "started.json";

// The exit code reported for a container that never ran (as containerd reports it).
inline constexpr int kStartErrorExitCode = 128;

}  // namespace kvol::runtime
