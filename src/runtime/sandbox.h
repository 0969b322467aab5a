// Pod sandboxes as bind-mounted namespace files (kvol::runtime, internal): DIR/sandbox/{net,ipc,
// uts}. Made by a forked child that unshares the three namespaces, sets the hostname, brings `lo`
// up and waits while the parent (in the host mount namespace) bind-mounts /proc/<child>/ns/* onto
// the files. The child only makes async-signal-safe system calls, so forking from a multithreaded
// process is safe. Idempotent: files that already hold namespace mounts are kept.
// Thread safety: callers serialise calls for the same directory.
#pragma once

#include <string>

#include "kvol/common/status.h"

namespace kvol::runtime {

// Creates (or keeps) the namespace files in `sandboxDir`.
Status MakeSandboxNamespaces(const std::string& sandboxDir, const std::string& hostname);
// Unmounts and removes the files and the directory; OK when already gone.
Status RemoveSandboxNamespaces(const std::string& sandboxDir);
// True when `path` is a bind-mounted namespace file (nsfs).
bool IsNamespaceFile(const std::string& path);

}  // namespace kvol::runtime
