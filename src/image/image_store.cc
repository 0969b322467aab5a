#include "kvol/image/image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "archive.h"
#include "digest.h"
#include "kvol/api/reflect.h"
#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/safe_path.h"
#include "layer.h"

namespace kvol::image {
namespace {

using api::json;

struct IndexEntry {
  std::string name;    // normalised
  std::string id;      // "sha256:<hex>"
  std::string digest;  // manifest digest "sha256:..." when the archive gave one
};

Result<std::vector<IndexEntry>> ReadIndex(const std::string& dir) {
  std::vector<IndexEntry> out;
  auto bytes = os::ReadFile(dir + "/index.json");
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return out;
    return bytes.status();
  }
  json j = json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Internal(dir + "/index.json is corrupt");
  auto it = j.find("images");
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& e : *it) {
    if (!e.is_object()) continue;
    IndexEntry ie;
    ie.name = e.value("name", "");
    ie.id = e.value("id", "");
    ie.digest = e.value("digest", "");
    if (!ie.name.empty() && !ie.id.empty()) out.push_back(std::move(ie));
  }
  return out;
}

Status WriteIndex(const std::string& dir, const std::vector<IndexEntry>& entries) {
  json arr = json::array();
  for (const auto& e : entries) {
    json o = {{"name", e.name}, {"id", e.id}};
    if (!e.digest.empty()) o["digest"] = e.digest;
    arr.push_back(std::move(o));
  }
  json j = {{"images", std::move(arr)}};
  return os::WriteFileAtomic(dir + "/index.json", j.dump(2) + "\n", 0644);
}

// An exclusive flock on DIR/.lock for the lifetime of the object.
class DirLock {
 public:
  static Result<DirLock> Acquire(const std::string& dir) {
    std::string path = dir + "/.lock";
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("open " + path + ": " + std::strerror(errno));
    os::Fd f(fd);
    while (flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return Internal("flock " + path + ": " + std::strerror(errno));
    }
    return DirLock(std::move(f));
  }

 private:
  explicit DirLock(os::Fd fd) : fd_(std::move(fd)) {}
  os::Fd fd_;  // closing it releases the lock
};

// A directory removed (rm -rf, no symlink following) when this goes out of scope.
struct TempDir {
  std::string path;
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path.empty()) (void)RemoveTree(path);
  }
};

bool IsGzip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

// gzip -dc IN > OUT.
Status Gunzip(const std::string& in, const std::string& out, const std::string& what) {
  os::ExecOptions opts;
  opts.timeoutSec = 600;
  KVOL_ASSIGN_OR_RETURN(
      auto res, os::Exec({"sh", "-c", "exec gzip -dc <\"$1\" >\"$2\"", "sh", in, out}, opts));
  if (res.exitCode != 0) {
    return Invalid(what + ": gunzip failed (exit " + std::to_string(res.exitCode) +
                   "): " + TarError(res.err));
  }
  return Status::Ok();
}

std::string Absolute(const std::string& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal().string();
}

std::string StripTrailingSlash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

ImageStore::ImageStore(std::string imagesDir)
    : dir_(StripTrailingSlash(Absolute(std::move(imagesDir)))) {}

namespace {

// Applies the archive's layers into DIR/<id>/rootfs (rootfs.tmp, then renamed), and stores the
// config. Runs under the directory lock.
Status BuildRootfs(const std::string& imgDir, const ArchiveImage& ai, const std::string& work) {
  KVOL_RETURN_IF_ERROR(os::MakeDirs(imgDir, 0755));
  std::string tmp = imgDir + "/rootfs.tmp";
  KVOL_RETURN_IF_ERROR(RemoveTree(tmp));
  KVOL_RETURN_IF_ERROR(RemoveTree(imgDir + "/rootfs"));  // config.json was missing: rebuild
  if (mkdir(tmp.c_str(), 0755) != 0) return Internal("mkdir " + tmp + ": " + std::strerror(errno));
  chmod(tmp.c_str(), 0755);
  if (!ai.diffIds.empty() && ai.diffIds.size() != ai.layers.size()) {
    return Invalid("the image config lists " + std::to_string(ai.diffIds.size()) +
                   " diff_ids for " + std::to_string(ai.layers.size()) + " layers");
  }
  for (size_t i = 0; i < ai.layers.size(); ++i) {
    std::string what = "layer " + std::to_string(i + 1);
    if (!ai.diffIds.empty()) what += " (" + ai.diffIds[i] + ")";
    std::string plain = ai.layers[i].path;
    std::string unpacked = work + "/layer-" + std::to_string(i) + ".tar";
    if (IsGzip(plain)) {
      KVOL_RETURN_IF_ERROR(Gunzip(plain, unpacked, what));
      plain = unpacked;
    }
    if (!ai.diffIds.empty()) {
      KVOL_ASSIGN_OR_RETURN(std::string got, Sha256File(plain));
      if ("sha256:" + got != ai.diffIds[i]) {
        return Invalid(what + ": content is sha256:" + got +
                       ", not the diff_id the image config gives");
      }
    }
    KVOL_RETURN_IF_ERROR(ApplyLayer(plain, tmp, work + "/scratch-" + std::to_string(i), what));
    if (plain == unpacked) std::remove(unpacked.c_str());
  }
  KVOL_RETURN_IF_ERROR(os::WriteFileAtomic(imgDir + "/config.json", ai.configBytes, 0644));
  if (rename(tmp.c_str(), (imgDir + "/rootfs").c_str()) != 0) {
    return Internal("rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<Image> LoadImage(const std::string& dir, const IndexEntry& e) {
  Image img;
  img.name = e.name;
  img.id = e.id;
  std::string hex = e.id.substr(e.id.find(':') + 1);
  img.rootfs = dir + "/" + hex + "/rootfs";
  auto bytes = os::ReadFile(dir + "/" + hex + "/config.json");
  if (!bytes.ok()) {
    return Internal("image \"" + e.name + "\" (" + e.id +
                    ") is damaged: " + bytes.status().message());
  }
  KVOL_RETURN_IF_ERROR(ParseImageConfig(*bytes, &img.config, nullptr));
  return img;
}

}  // namespace

Result<Image> ImageStore::Import(const std::string& tarPath, const std::string& nameTag) {
  std::string name;
  if (!nameTag.empty()) {
    KVOL_ASSIGN_OR_RETURN(name, NormalizeImageName(nameTag));
    if (name.find('@') != std::string::npos) {
      return Invalid("image name \"" + nameTag + "\": give NAME:TAG, not a digest");
    }
  }
  struct stat st;
  if (stat(tarPath.c_str(), &st) != 0) {
    int e = errno;
    std::string msg = "open " + tarPath + ": " + std::strerror(e);
    return e == ENOENT ? NotFound(msg) : Internal(msg);
  }
  if (!S_ISREG(st.st_mode)) return Invalid(tarPath + ": not a regular file");
  KVOL_RETURN_IF_ERROR(os::MakeDirs(dir_, 0755));
  KVOL_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(dir_));

  TempDir work;
  {
    std::string tmpl = dir_ + "/.import-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Internal("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    work.path = tmpl;
  }
  // `docker save | gzip` archives: unpack first, so that the members can be checked.
  std::string plainTar = tarPath;
  if (IsGzip(tarPath)) {
    plainTar = work.path + "/archive.tar";
    KVOL_RETURN_IF_ERROR(Gunzip(tarPath, plainTar, tarPath));
  }
  // The archive is untrusted too: check its members before GNU tar writes any of them.
  KVOL_ASSIGN_OR_RETURN(auto members, ListTar(plainTar));
  KVOL_RETURN_IF_ERROR(CheckLayerMembers(members, tarPath));
  std::string root = work.path + "/archive";
  if (mkdir(root.c_str(), 0700) != 0)
    return Internal("mkdir " + root + ": " + std::strerror(errno));
  os::ExecOptions opts;
  opts.timeoutSec = 600;
  KVOL_ASSIGN_OR_RETURN(auto res, os::Exec({"tar", "-x", "-f", plainTar, "-C", root,
                                            "--no-same-owner", "--no-same-permissions"},
                                           opts));
  if (res.exitCode != 0) {
    return Invalid(tarPath + ": extracting failed (tar exit " + std::to_string(res.exitCode) +
                   "): " + TarError(res.err));
  }
  KVOL_ASSIGN_OR_RETURN(ArchiveImage ai, ReadArchive(root, tarPath));
  if (name.empty()) {
    if (ai.name.empty()) {
      return Invalid(tarPath + ": the archive does not name its image; give NAME:TAG");
    }
    auto n = NormalizeImageName(ai.name);
    if (!n.ok()) return Invalid(tarPath + ": the archive's image name: " + n.status().message());
    name = *n;
    if (name.find('@') != std::string::npos) {
      return Invalid(tarPath + ": the archive names its image by digest; give NAME:TAG");
    }
  }
  std::string imgDir = dir_ + "/" + ai.id;
  struct stat rs, cs;
  bool complete = lstat((imgDir + "/rootfs").c_str(), &rs) == 0 && S_ISDIR(rs.st_mode) &&
                  lstat((imgDir + "/config.json").c_str(), &cs) == 0;
  if (!complete) {
    Status built = BuildRootfs(imgDir, ai, work.path);
    if (!built.ok()) {
      (void)RemoveTree(imgDir + "/rootfs.tmp");
      return Status(built.code(), tarPath + ": " + built.message());
    }
  }

  IndexEntry entry{name, "sha256:" + ai.id, ai.manifestDigest};
  KVOL_ASSIGN_OR_RETURN(auto entries, ReadIndex(dir_));
  bool replaced = false;
  for (auto& e : entries) {
    if (e.name == name) {
      e = entry;
      replaced = true;
    }
  }
  if (!replaced) entries.push_back(entry);
  KVOL_RETURN_IF_ERROR(WriteIndex(dir_, entries));

  Image img;
  img.name = name;
  img.id = entry.id;
  img.rootfs = imgDir + "/rootfs";
  img.config = ai.config;
  return img;
}

Result<Image> ImageStore::Get(const std::string& ref) const {
  KVOL_ASSIGN_OR_RETURN(auto entries, ReadIndex(dir_));
  // An image ID ("sha256:<hex>", or the bare hex) names the image directly.
  std::string id = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
  if (IsHex64(id)) {
    for (const auto& e : entries)
      if (e.id == "sha256:" + id) return LoadImage(dir_, e);
    return NotFound("image \"sha256:" + id + "\" not found in the node's image store");
  }
  KVOL_ASSIGN_OR_RETURN(std::string name, NormalizeImageName(ref));
  if (size_t at = name.find('@'); at != std::string::npos) {
    // repo[:tag]@digest: the digest is the manifest's or the image ID; the repository must match.
    std::string digest = name.substr(at + 1), repo = name.substr(0, at);
    size_t slash = repo.rfind('/'), colon = repo.rfind(':');
    bool hasTag = colon != std::string::npos && colon > slash;
    for (const auto& e : entries) {
      if (e.digest != digest && e.id != digest) continue;
      std::string eRepo = e.name.substr(0, e.name.rfind(':'));
      if ((hasTag ? e.name : eRepo) == repo) return LoadImage(dir_, e);
    }
  } else {
    for (const auto& e : entries)
      if (e.name == name) return LoadImage(dir_, e);
  }
  return NotFound("image \"" + name + "\" not found in the node's image store");
}

Result<std::vector<Image>> ImageStore::List() const {
  KVOL_ASSIGN_OR_RETURN(auto entries, ReadIndex(dir_));
  std::vector<Image> out;
  for (const auto& e : entries) {
    KVOL_ASSIGN_OR_RETURN(Image img, LoadImage(dir_, e));
    out.push_back(std::move(img));
  }
  return out;
}

}  // namespace kvol::image
