// The node's image store (kvol::image): images imported from tar files (no registry), kept as one
// flattened, read-only root filesystem per image that containers use as their overlay's lower
// directory. Layout under DIR/images:
//   DIR/images/index.json                 {"images":[{"name":..., "id":...}]} (atomic rewrite)
//   DIR/images/<id>/rootfs/               the layers applied in order (whiteouts honoured)
//   DIR/images/<id>/config.json           the image config (Entrypoint, Cmd, Env, WorkingDir, User)
// where <id> is the hex sha256 of the image's config blob (Docker's image ID).
//
// Import accepts an OCI image layout tar (oci-archive: index.json + blobs/sha256/...) and a
// docker-archive tar (manifest.json + layer tars), layers plain or gzip-compressed. Layer entries
// are never written outside the rootfs (absolute paths, "..", and writes through a symlink are
// refused). Names are normalised as Docker does: "busybox" = "docker.io/library/busybox:latest",
// "localhost/busybox" = "localhost/busybox:latest", "reg:5000/a/b" keeps its registry.
//
// Digests the archive gives are verified: OCI blob digests (manifest, config, layers), docker's
// "<sha256>.json" config name, and the config's rootfs.diff_ids against the uncompressed layers.
// An archive that is itself gzip-compressed (`docker save | gzip`) is accepted too.
//
// Thread safety: an ImageStore may be used from many threads. Imports (from any thread or
// process) are serialised by a lock file (flock on DIR/images/.lock); index.json is replaced
// atomically (rename), so Get and List need no lock.
#pragma once

#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::image {

struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "K=V"
  std::string workingDir;
  std::string user;
};

struct Image {
  std::string name;    // normalised: "docker.io/library/busybox:latest"
  std::string id;      // "sha256:<hex>"
  std::string rootfs;  // absolute path of the flattened rootfs
  ImageConfig config;
};

// Docker's normalisation (see above). kInvalid for a name that is not a valid reference.
Result<std::string> NormalizeImageName(const std::string& ref);

class ImageStore {
 public:
  explicit ImageStore(std::string imagesDir);  // DIR/images (created on first import)
  // Imports `tarPath`; `nameTag` ("" = the archive's own tag; kInvalid when it has none) names it.
  // Re-importing the same image is cheap (same id: the rootfs is kept, the name re-pointed).
  Result<Image> Import(const std::string& tarPath, const std::string& nameTag);
  // `ref` is a name (normalised: "busybox" finds "docker.io/library/busybox:latest"), an image ID
  // ("sha256:<hex>" or the bare 64 hex digits), or "name@sha256:..." with the manifest digest or
  // the image ID. kNotFound "image \"docker.io/library/x:latest\" not found in the node's image
  // store" when absent; kInvalid for a ref that is not a valid reference.
  Result<Image> Get(const std::string& ref) const;
  Result<std::vector<Image>> List() const;

 private:
  std::string dir_;
};

}  // namespace kvol::image
