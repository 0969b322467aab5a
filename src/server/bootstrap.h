// Internal to kvol_server: the objects every kvol cluster starts with, made through the API
// handler (so they get the same admission, defaulting and metadata as any client's objects).
#pragma once

#include <string>

#include "kvol/apiserver/handler.h"
#include "kvol/common/status.h"

namespace kvol::server {

// "default", "kube-system", "kube-public", "kube-node-lease", when missing.
Status EnsureNamespaces(const apiserver::ApiHandler& h);
// The built-in StorageClasses when missing: `standard` (kvol.io/block, ext4, expandable) and
// `local` (kvol.io/local). The default-class annotation goes on `standard` (else `local`), only
// when no class is default already. Also the VolumeSnapshotClass `standard-snapshot`
// (kvol.io/block, deletionPolicy Delete; default for its driver unless one is already).
Status EnsureBuiltinClasses(const apiserver::ApiHandler& h);
}  // namespace kvol::server
