// Reading an extracted image archive (kvol::image): a docker-archive (manifest.json) or an OCI
// image layout (oci-layout + index.json + blobs/sha256/...). Every file named by the archive must
// be a regular file reached without symlinks, below the archive root; digests the format gives
// (OCI descriptors, docker's "<hex>.json" config name, "blobs/sha256/<hex>" paths) are verified.
//
// Thread safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "kvol/common/status.h"
#include "kvol/image/image_store.h"

namespace kvol::image {

struct ArchiveLayer {
  std::string path;       // absolute path of the layer blob (plain or gzip tar)
  std::string mediaType;  // "" for docker-archive
};

struct ArchiveImage {
  std::string name;            // the archive's own name for the image, as written ("" if none)
  std::string manifestDigest;  // "sha256:..." of the OCI manifest ("" for docker-archive)
  std::string configBytes;     // the config blob, verbatim
  std::string id;              // hex sha256 of configBytes
  std::vector<ArchiveLayer> layers;
  std::vector<std::string> diffIds;  // config rootfs.diff_ids ("sha256:...")
  ImageConfig config;
};

// `root` is the directory the archive tar was extracted into; `what` names it in errors.
Result<ArchiveImage> ReadArchive(const std::string& root, const std::string& what);

// Entrypoint/Cmd/Env/WorkingDir/User of an image config blob (its "config" object), and its
// rootfs.diff_ids. kInvalid when the blob is not a JSON object.
Status ParseImageConfig(const std::string& blob, ImageConfig* config,
                        std::vector<std::string>* diffIds);

}  // namespace kvol::image
