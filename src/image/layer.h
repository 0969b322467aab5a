// Applying one image layer to a root filesystem (kvol::image), safely:
//  1. the layer's member list is read (ListTar) and refused when a member has an absolute path,
//     a ".." component, or a parent (or hard-link source) that an earlier member made a symlink;
//  2. the layer is extracted by GNU tar into a fresh scratch directory (owners kept, numerically,
//     when running as root);
//  3. the scratch tree is merged into the rootfs with *at() calls relative to directory fds opened
//     O_NOFOLLOW, so nothing is ever written through a symlink of the rootfs: ".wh.NAME" deletes
//     NAME (recursively, not following symlinks), ".wh..wh..opq" empties its directory, directories
//     merge (taking the layer's mode, owner and times), anything else replaces what was there.
//
// Thread safety: stateless; the caller owns `rootfs` and `scratch` exclusively.
#pragma once

#include <string>
#include <vector>

#include "kvol/common/status.h"
#include "tar_reader.h"

namespace kvol::image {

// kInvalid "<what>: member \"../evil\" ..." for the first member that could escape.
Status CheckLayerMembers(const std::vector<TarMember>& members, const std::string& what);

// Applies the plain tar `layerTar` onto `rootfs`; `scratch` must not exist (it is created and
// removed). `what` names the layer in errors ("layer 2 (sha256:...)").
Status ApplyLayer(const std::string& layerTar, const std::string& rootfs,
                  const std::string& scratch, const std::string& what);

// GNU tar's stderr as one line: its messages joined by "; ", without the closing "Exiting with
// failure status" line.
std::string TarError(const std::string& stderrText);

// Removes the tree at `path` without following symlinks (rm -rf). Missing: OK.
Status RemoveTree(const std::string& path);

}  // namespace kvol::image
