#include "archive.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <fstream>
#include <sstream>

#include "digest.h"
#include "kvol/api/reflect.h"

namespace kvol::image {
namespace {

using api::json;

constexpr const char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr const char kDockerList[] = "application/vnd.docker.distribution.manifest.list.v2+json";

// `rel` below `root`, every component a real directory and the last a regular file.
Result<std::string> ArchiveFile(const std::string& root, const std::string& rel,
                                const std::string& what) {
  if (rel.empty() || rel[0] == '/') {
    return Invalid(what + ": file \"" + rel + "\" is not a relative path in the archive");
  }
  std::string path = root;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string comp = rel.substr(start, end - start);
    bool last = end == rel.size();
    start = end + 1;
    if (comp.empty() || comp == ".") {
      if (last) return Invalid(what + ": \"" + rel + "\" names a directory, not a file");
      continue;
    }
    if (comp == "..") return Invalid(what + ": file \"" + rel + "\" leaves the archive");
    path += "/" + comp;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
      return Invalid(what + ": the archive has no file \"" + rel + "\"");
    }
    if (last ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode)) {
      return Invalid(what + ": \"" + rel + "\" is not a regular file in the archive");
    }
  }
  return path;
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("open " + path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<json> ParseJson(const std::string& bytes, const std::string& what) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid(what + " is not valid JSON");
  return j;
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> StrList(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) return out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string HostArch() {
  struct utsname u;
  if (uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m.rfind("arm", 0) == 0) return "arm";
  return m;
}

// Reads a blob named by a descriptor and checks its digest.
Result<std::string> ReadBlob(const std::string& root, const json& desc, const std::string& what,
                             std::string* pathOut = nullptr) {
  KVOL_ASSIGN_OR_RETURN(std::string hex, DigestHex(Str(desc, "digest"), what));
  KVOL_ASSIGN_OR_RETURN(std::string path, ArchiveFile(root, "blobs/sha256/" + hex, what));
  KVOL_ASSIGN_OR_RETURN(std::string bytes, ReadAll(path));
  if (Sha256Hex(bytes) != hex) {
    return Invalid(what + ": blob sha256:" + hex + " does not match its digest");
  }
  if (pathOut) *pathOut = path;
  return bytes;
}

// Picks the manifest for this host from an index's manifests[]: the one for linux/<arch> when
// platforms are given, else the first.
const json* PickManifest(const json& manifests) {
  const json* first = nullptr;
  for (const auto& m : manifests) {
    if (!m.is_object()) continue;
    if (!first) first = &m;
    auto p = m.find("platform");
    if (p != m.end() && Str(*p, "os") == "linux" && Str(*p, "architecture") == HostArch())
      return &m;
  }
  return first;
}

Status FinishConfig(const std::string& configPath, ArchiveImage* img) {
  KVOL_ASSIGN_OR_RETURN(img->configBytes, ReadAll(configPath));
  img->id = Sha256Hex(img->configBytes);
  return ParseImageConfig(img->configBytes, &img->config, &img->diffIds);
}

Result<ArchiveImage> ReadDocker(const std::string& root, const std::string& what) {
  KVOL_ASSIGN_OR_RETURN(std::string mpath, ArchiveFile(root, "manifest.json", what));
  KVOL_ASSIGN_OR_RETURN(std::string bytes, ReadAll(mpath));
  KVOL_ASSIGN_OR_RETURN(json manifest, ParseJson(bytes, what + ": manifest.json"));
  if (!manifest.is_array() || manifest.empty() || !manifest[0].is_object()) {
    return Invalid(what + ": manifest.json lists no image");
  }
  const json& m = manifest[0];
  ArchiveImage img;
  std::string configRel = Str(m, "Config");
  if (configRel.empty()) return Invalid(what + ": manifest.json names no Config");
  KVOL_ASSIGN_OR_RETURN(std::string cpath, ArchiveFile(root, configRel, what));
  KVOL_RETURN_IF_ERROR(FinishConfig(cpath, &img));
  // The config is named by its digest ("<hex>.json" or "blobs/sha256/<hex>"): check it.
  std::string base = configRel.substr(configRel.rfind('/') + 1);
  if (base.size() >= 64) {
    std::string named = base.substr(0, 64);
    bool hex = base.size() == 64 || base.substr(64) == ".json";
    for (char c : named) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (hex && named != img.id) {
      return Invalid(what + ": config " + configRel +
                     " does not match its digest (sha256:" + img.id + ")");
    }
  }
  auto tags = StrList(m, "RepoTags");
  if (!tags.empty()) img.name = tags[0];
  auto layers = StrList(m, "Layers");
  if (layers.empty()) return Invalid(what + ": manifest.json lists no Layers");
  for (const auto& rel : layers) {
    ArchiveLayer l;
    KVOL_ASSIGN_OR_RETURN(l.path, ArchiveFile(root, rel, what));
    if (rel.rfind("blobs/sha256/", 0) == 0) {
      KVOL_ASSIGN_OR_RETURN(std::string hex, DigestHex("sha256:" + rel.substr(13), what));
      KVOL_ASSIGN_OR_RETURN(std::string got, Sha256File(l.path));
      if (got != hex) return Invalid(what + ": layer " + rel + " does not match its digest");
    }
    img.layers.push_back(std::move(l));
  }
  return img;
}

Result<ArchiveImage> ReadOci(const std::string& root, const std::string& what) {
  KVOL_ASSIGN_OR_RETURN(std::string ipath, ArchiveFile(root, "index.json", what));
  KVOL_ASSIGN_OR_RETURN(std::string bytes, ReadAll(ipath));
  KVOL_ASSIGN_OR_RETURN(json index, ParseJson(bytes, what + ": index.json"));
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array() ||
      index["manifests"].empty()) {
    return Invalid(what + ": index.json lists no manifests");
  }
  ArchiveImage img;
  const json* top = PickManifest(index["manifests"]);
  if (!top) return Invalid(what + ": index.json lists no manifests");
  json desc = *top;
  // The top-level descriptor's annotations name the image: containerd's full name first, else
  // the OCI ref.name when it is a reference rather than a bare tag.
  if (auto a = desc.find("annotations"); a != desc.end()) {
    std::string full = Str(*a, "io.containerd.image.name");
    std::string ref = Str(*a, "org.opencontainers.image.ref.name");
    if (!full.empty()) {
      img.name = full;
    } else if (ref.find_first_of("/:") != std::string::npos) {
      img.name = ref;
    }
  }
  json manifest;
  for (int depth = 0;; ++depth) {
    if (depth > 4) return Invalid(what + ": image indexes nest too deeply");
    std::string mt = Str(desc, "mediaType");
    KVOL_ASSIGN_OR_RETURN(std::string blob, ReadBlob(root, desc, what));
    KVOL_ASSIGN_OR_RETURN(manifest, ParseJson(blob, what + ": manifest " + Str(desc, "digest")));
    if (mt.empty()) mt = Str(manifest, "mediaType");
    if (mt == kOciIndex || mt == kDockerList ||
        (manifest.is_object() && manifest.contains("manifests"))) {
      if (!manifest.contains("manifests") || !manifest["manifests"].is_array()) {
        return Invalid(what + ": index " + Str(desc, "digest") + " lists no manifests");
      }
      const json* next = PickManifest(manifest["manifests"]);
      if (!next) return Invalid(what + ": index " + Str(desc, "digest") + " lists no manifests");
      desc = json(*next);
      continue;
    }
    img.manifestDigest = Str(desc, "digest");
    break;
  }
  if (!manifest.is_object() || !manifest.contains("config")) {
    return Invalid(what + ": manifest " + img.manifestDigest + " has no config");
  }
  std::string cpath;
  KVOL_RETURN_IF_ERROR(ReadBlob(root, manifest["config"], what + ": config", &cpath).status());
  KVOL_RETURN_IF_ERROR(FinishConfig(cpath, &img));
  if (!manifest.contains("layers") || !manifest["layers"].is_array() ||
      manifest["layers"].empty()) {
    return Invalid(what + ": manifest " + img.manifestDigest + " lists no layers");
  }
  for (const auto& l : manifest["layers"]) {
    std::string digest = Str(l, "digest");
    KVOL_ASSIGN_OR_RETURN(std::string hex, DigestHex(digest, what + ": layer"));
    ArchiveLayer layer;
    layer.mediaType = Str(l, "mediaType");
    if (layer.mediaType.find("zstd") != std::string::npos) {
      return Invalid(what + ": layer " + digest + " is zstd-compressed (" + layer.mediaType +
                     "); only plain and gzip layers are supported");
    }
    KVOL_ASSIGN_OR_RETURN(layer.path, ArchiveFile(root, "blobs/sha256/" + hex, what));
    KVOL_ASSIGN_OR_RETURN(std::string got, Sha256File(layer.path));
    if (got != hex) {
      return Invalid(what + ": layer " + digest + " does not match its digest (got sha256:" + got +
                     ")");
    }
    img.layers.push_back(std::move(layer));
  }
  return img;
}

}  // namespace

Status ParseImageConfig(const std::string& blob, ImageConfig* config,
                        std::vector<std::string>* diffIds) {
  json j = json::parse(blob, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Invalid("the image config is not a JSON object");
  *config = ImageConfig{};
  auto c = j.find("config");
  if (c != j.end() && c->is_object()) {
    config->entrypoint = StrList(*c, "Entrypoint");
    config->cmd = StrList(*c, "Cmd");
    config->env = StrList(*c, "Env");
    config->workingDir = Str(*c, "WorkingDir");
    config->user = Str(*c, "User");
  }
  if (diffIds) {
    diffIds->clear();
    auto r = j.find("rootfs");
    if (r != j.end()) *diffIds = StrList(*r, "diff_ids");
  }
  return Status::Ok();
}

Result<ArchiveImage> ReadArchive(const std::string& root, const std::string& what) {
  struct stat st;
  // Docker 25+ writes both layouts; manifest.json names the image fully, so prefer it.
  if (lstat((root + "/manifest.json").c_str(), &st) == 0) return ReadDocker(root, what);
  if (lstat((root + "/index.json").c_str(), &st) == 0) return ReadOci(root, what);
  return Invalid(what +
                 ": neither a docker-archive (manifest.json) nor an OCI image layout "
                 "(index.json)");
}

}  // namespace kvol::image
