// `kvol image import [--data-dir DIR] FILE.tar [NAME:TAG]`: imports a docker-archive or OCI
// archive tar into the node's image store under DIR/images (kvol::image::ImageStore).
//
// On success prints one line to `out`:
//   imported docker.io/library/busybox:latest (sha256:0123456789ab)
// (the normalised name and the first 12 hex digits of the image ID, as `docker images` shows
// them) and returns 0; otherwise prints "error: <message>" to `err` and returns 1.
//
// Thread safety: each call is independent (imports into one DIR are serialised by a lock file).
#pragma once

#include <iosfwd>
#include <string>

namespace kvol::cli {

// The default --data-dir: /var/lib/kvol when running as root, else $XDG_DATA_HOME/kvol (when
// $XDG_DATA_HOME is an absolute path), else $HOME/.local/share/kvol.
std::string DefaultDataDir();

// dataDir "" = DefaultDataDir(); nameTag "" = the archive's own name.
int RunImageImport(const std::string& dataDir, const std::string& file, const std::string& nameTag,
                   std::ostream& out, std::ostream& err);

}  // namespace kvol::cli
