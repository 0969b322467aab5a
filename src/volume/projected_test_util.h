// Test helpers for the object-projecting volume tests (configMap, secret, projected,
// downwardAPI, AtomicWriter): a scratch directory under /tmp cleaned up in every outcome (mounts
// under it unmounted first), a fake ObjectSource backed by a map, and small file readers.
//
// Thread safety: one per test.
#pragma once

#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <tuple>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/volume/plugin.h"

namespace kvol::volume::testing {

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/kvol-volume-test-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    path_ = d ? d : "";
  }
  ~ScratchDir() {
    if (path_.empty()) return;
    for (int round = 0; round < 8; ++round) {
      auto mounts = os::MountsUnder(path_);
      if (!mounts.ok() || mounts->empty()) break;
      for (const os::MountInfo& m : *mounts) ::umount2(m.mountPoint.c_str(), MNT_DETACH);
    }
    (void)os::RemoveTreeOneFs(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// resource/ns/name -> object JSON; Get counts calls per resource.
class FakeObjects : public ObjectSource {
 public:
  void Put(const std::string& resource, const std::string& ns, const std::string& name, json obj) {
    objects_[{resource, ns, name}] = std::move(obj);
  }
  void Remove(const std::string& resource, const std::string& ns, const std::string& name) {
    objects_.erase({resource, ns, name});
  }
  Result<json> Get(const std::string& resource, const std::string& ns,
                   const std::string& name) override {
    auto it = objects_.find({resource, ns, name});
    if (it == objects_.end()) return NotFound(resource + " \"" + name + "\" not found");
    return it->second;
  }

 private:
  std::map<std::tuple<std::string, std::string, std::string>, json> objects_;
};

// A pod "web" in namespace "default" with uid "uid-1" and a few labels and annotations.
inline api::Pod TestPod() {
  api::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-1";
  pod.metadata.labels = {{"app", "web"}, {"tier", "front end"}};
  pod.metadata.annotations = {{"note", "say \"hi\"\n"}};
  pod.spec.nodeName = "node-1";
  pod.spec.serviceAccountName = "default";
  return pod;
}

// A pod directory under a scratch dir, a node context with the real mounter, and a request.
struct Env {
  ScratchDir scratch;
  api::Pod pod = TestPod();
  api::Volume volume;
  FakeObjects objects;
  NodeContext node;
  std::string podDir;

  Env() {
    node.dataDir = scratch.path();
    node.nodeName = "node-1";
    node.mounter = &os::RealMounter();
    podDir = scratch.path() + "/pods/uid-1";
  }
  VolumeRequest Request() {
    VolumeRequest req;
    req.pod = &pod;
    req.volume = &volume;
    req.podDir = podDir;
    req.objects = &objects;
    req.node = &node;
    return req;
  }
};

inline std::string Slurp(const std::string& path) {
  auto r = os::ReadFile(path);
  return r.ok() ? *r : "<missing: " + path + ">";
}

inline unsigned ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

inline std::string LinkOf(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

}  // namespace kvol::volume::testing
