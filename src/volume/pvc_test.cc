// persistentVolumeClaim with a fake ObjectSource (JSON claims and PVs) and real mounts: a hostPath
// PV and a kvol.io/local CSI PV (the real LocalNodeDriver), ROX enforced, data surviving TearDown,
// claims that must wait, and unstaging only when the last pod goes; attach-required drivers wait
// for status.volumesInUse and their VolumeAttachment (the fake's Node lists what CsiVolumesInUse
// finds on disk, as the agent reports it); ReadWriteOncePod refuses a second pod of the node.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "kvol/api/attachment.h"
#include "kvol/driver/node_driver.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/volume/plugin.h"
#include "src/driver/local/local_node_driver.h"
#include "src/os/test_scratch.h"
#include "src/volume/plugins_internal.h"
#include "src/volume/volumes_in_use.h"

namespace kvol::volume {
namespace {

class FakeObjects : public ObjectSource {
 public:
  Result<json> Get(const std::string& resource, const std::string& ns,
                   const std::string& name) override {
    if (resource == "nodes" && !reportFrom.empty()) {
      // The agent's status reporter: the Node lists what is in use on disk.
      return json{{"metadata", {{"name", name}}},
                  {"status", {{"volumesInUse", CsiVolumesInUse(reportFrom)}}}};
    }
    auto it = objs.find(resource + "/" + ns + "/" + name);
    if (it == objs.end()) return NotFound(resource + " \"" + name + "\" not found");
    return it->second;
  }
  std::map<std::string, json> objs;
  std::string reportFrom;  // non-empty: "nodes" are made from CsiVolumesInUse(reportFrom)
};

// A staging driver: NodeStage makes the staging dir hold a marker, NodePublish binds it.
class StagingDriver : public driver::NodeDriver {
 public:
  std::string Name() const override { return "test.kvol.io/staged"; }
  bool NeedsStaging() const override { return true; }
  Status NodeStageVolume(const driver::NodeStageRequest& r) override {
    ++stages;
    return os::WriteFileAtomic(r.stagingPath + "/staged", r.volumeId);
  }
  Status NodeUnstageVolume(const std::string&, const std::string& stagingPath) override {
    ++unstages;
    ::unlink((stagingPath + "/staged").c_str());
    return Status::Ok();
  }
  Status NodePublishVolume(const driver::NodePublishRequest& r) override {
    KVOL_RETURN_IF_ERROR(os::MakeDirs(r.targetPath));
    return os::RealMounter().BindMount(r.stagingPath, r.targetPath, r.readOnly);
  }
  Status NodeUnpublishVolume(const std::string&, const std::string& target) override {
    KVOL_RETURN_IF_ERROR(os::RealMounter().Unmount(target));
    ::rmdir(target.c_str());
    return Status::Ok();
  }
  int stages = 0, unstages = 0;
};

class PvcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(s_.path().empty());
    dir_ = s_.path() + "/kvol";
    node_.dataDir = dir_;
    node_.nodeName = "n1";
    node_.mounter = &os::RealMounter();
    node_.drivers["kvol.io/local"] = &local_;
    node_.drivers["test.kvol.io/staged"] = &staged_;
    plugin_ = NewPvcPlugin();
    ASSERT_TRUE(os::MakeDirs(s_.path() + "/hostdata").ok());
    ASSERT_TRUE(os::MakeDirs(dir_ + "/local/pv-local").ok());
    objects_.reportFrom = dir_;
  }
  void TearDown() override { SetVolumesInUseWaitForTest(std::chrono::milliseconds(5000)); }

  // The VolumeAttachment the attach/detach controller would write for (handle, driver, node).
  std::string Attach(const std::string& handle, const std::string& driver, bool attached,
                     const std::string& node = "n1", const std::string& error = "") {
    const std::string name = api::VolumeAttachmentName(handle, driver, "n1");
    json va = {{"apiVersion", "storage.k8s.io/v1"},
               {"kind", "VolumeAttachment"},
               {"metadata", {{"name", name}}},
               {"spec", {{"attacher", driver}, {"nodeName", node}, {"source", json::object()}}},
               {"status", {{"attached", attached}}}};
    if (!error.empty()) va["status"]["attachError"] = {{"message", error}};
    objects_.objs["volumeattachments//" + name] = va;
    return name;
  }

  void AddClaim(const std::string& name, const std::string& pv, const std::string& phase,
                json accessModes = json::array({"ReadWriteOnce"})) {
    objects_.objs["persistentvolumeclaims/default/" + name] =
        json{{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
             {"spec", {{"accessModes", accessModes}, {"volumeName", pv}}},
             {"status", {{"phase", phase}}}};
  }
  void AddPv(const std::string& name, const std::string& claim, json source) {
    json spec = source;
    spec["claimRef"] = {{"name", claim}, {"namespace", "default"}, {"uid", "uid-" + claim}};
    objects_.objs["persistentvolumes//" + name] =
        json{{"metadata", {{"name", name}}}, {"spec", spec}};
  }

  Result<MountedVolume> Set(const std::string& podUid, const std::string& claim,
                            bool readOnly = false) {
    pods_[podUid].metadata.uid = podUid;
    pods_[podUid].metadata.namespace_ = "default";
    vols_[podUid].name = "data";
    vols_[podUid].persistentVolumeClaim.emplace();
    vols_[podUid].persistentVolumeClaim->claimName = claim;
    vols_[podUid].persistentVolumeClaim->readOnly = readOnly;
    VolumeRequest r;
    r.pod = &pods_[podUid];
    r.volume = &vols_[podUid];
    r.podDir = PodDir(podUid);
    r.objects = &objects_;
    r.node = &node_;
    return plugin_->SetUp(r);
  }
  std::string PodDir(const std::string& uid) const { return dir_ + "/pods/" + uid; }
  Status Down(const std::string& uid, const std::string& pv) {
    return plugin_->TearDown(node_, PodDir(uid), pv);
  }
  size_t MountCount() {
    auto m = os::MountsUnder(s_.path());
    return m.ok() ? m->size() : 0;
  }
  static int WriteErrno(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
  }

  os::testing::Scratch s_;
  std::string dir_;
  driver::LocalNodeDriver local_{s_.path() + "/kvol"};
  StagingDriver staged_;
  NodeContext node_;
  FakeObjects objects_;
  std::map<std::string, api::Pod> pods_;
  std::map<std::string, api::Volume> vols_;
  std::unique_ptr<Plugin> plugin_;
};

TEST_F(PvcTest, HostPathPvIsBoundAtTheCsiPathAndItsDataSurvivesTearDown) {
  AddClaim("data", "pv-host", "Bound");
  AddPv("pv-host", "data", {{"hostPath", {{"path", s_.path() + "/hostdata"}}}});
  auto mv = Set("u1", "data");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  const std::string volDir = PodDir("u1") + "/volumes/kubernetes.io~csi/pv-host";
  EXPECT_EQ(mv->pluginDir, "kubernetes.io~csi");
  EXPECT_EQ(mv->dirName, "pv-host");
  EXPECT_EQ(mv->hostPath, volDir + "/mount");
  EXPECT_FALSE(mv->readOnly);
  EXPECT_FALSE(mv->block);
  EXPECT_TRUE(*os::IsMountPoint(mv->hostPath));
  ASSERT_TRUE(os::WriteFileAtomic(mv->hostPath + "/file", "precious").ok());
  EXPECT_EQ(*os::ReadFile(s_.path() + "/hostdata/file"), "precious");

  json vd = json::parse(*os::ReadFile(volDir + "/vol_data.json"));
  EXPECT_EQ(vd["driverName"], "");
  EXPECT_EQ(vd["specVolumeName"], "pv-host");
  EXPECT_EQ(vd["podUid"], "u1");
  EXPECT_EQ(vd["readOnly"], false);
  EXPECT_EQ(vd["stagingPath"], "");

  ASSERT_TRUE(Set("u1", "data").ok());  // idempotent
  EXPECT_EQ(MountCount(), 1u);

  ASSERT_TRUE(Down("u1", "pv-host").ok());
  EXPECT_EQ(MountCount(), 0u);
  EXPECT_FALSE(os::Exists(volDir));
  EXPECT_EQ(*os::ReadFile(s_.path() + "/hostdata/file"), "precious");
  EXPECT_TRUE(Down("u1", "pv-host").ok());
}

TEST_F(PvcTest, LocalCsiPvIsPublishedByTheLocalDriverAndRoxIsReadOnly) {
  AddClaim("rwo", "pv-local", "Bound");
  AddPv("pv-local", "rwo", {{"csi", {{"driver", "kvol.io/local"}, {"volumeHandle", "pv-local"}}}});
  auto mv = Set("u1", "rwo");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  ASSERT_TRUE(os::WriteFileAtomic(mv->hostPath + "/f", "v1").ok());
  EXPECT_EQ(*os::ReadFile(dir_ + "/local/pv-local/f"), "v1");
  json vd = json::parse(
      *os::ReadFile(PodDir("u1") + "/volumes/kubernetes.io~csi/pv-local/vol_data.json"));
  EXPECT_EQ(vd["driverName"], "kvol.io/local");
  EXPECT_EQ(vd["volumeHandle"], "pv-local");
  ASSERT_TRUE(Down("u1", "pv-local").ok());
  EXPECT_EQ(MountCount(), 0u);
  EXPECT_EQ(*os::ReadFile(dir_ + "/local/pv-local/f"), "v1");

  // The same volume through a ReadOnlyMany claim: reads work, writes get EROFS.
  AddClaim("rox", "pv-local", "Bound", json::array({"ReadOnlyMany"}));
  AddPv("pv-local", "rox", {{"csi", {{"driver", "kvol.io/local"}, {"volumeHandle", "pv-local"}}}});
  auto ro = Set("u2", "rox");
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_TRUE(ro->readOnly);
  EXPECT_EQ(*os::ReadFile(ro->hostPath + "/f"), "v1");
  EXPECT_EQ(WriteErrno(ro->hostPath + "/g"), EROFS);
  EXPECT_TRUE(CsiVolumesInUse(dir_).empty());  // kvol.io/local is never attached
  ASSERT_TRUE(Down("u2", "pv-local").ok());
  EXPECT_EQ(MountCount(), 0u);
}

TEST_F(PvcTest, ReadOnlyFromThePodVolumeOrThePvIsEnforced) {
  AddClaim("data", "pv-host", "Bound", json::array({"ReadWriteOnce", "ReadOnlyMany"}));
  AddPv("pv-host", "data", {{"hostPath", {{"path", s_.path() + "/hostdata"}}}});
  auto mv = Set("u1", "data", /*readOnly=*/true);
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_TRUE(mv->readOnly);
  EXPECT_EQ(WriteErrno(mv->hostPath + "/x"), EROFS);
  ASSERT_TRUE(Down("u1", "pv-host").ok());

  AddPv("pv-ro", "data",
        {{"csi", {{"driver", "kvol.io/local"}, {"volumeHandle", "pv-local"}, {"readOnly", true}}}});
  AddClaim("data", "pv-ro", "Bound");
  auto csi = Set("u2", "data");
  ASSERT_TRUE(csi.ok()) << csi.status().ToString();
  EXPECT_TRUE(csi->readOnly);
  EXPECT_EQ(WriteErrno(csi->hostPath + "/x"), EROFS);
  ASSERT_TRUE(Down("u2", "pv-ro").ok());
  EXPECT_EQ(MountCount(), 0u);
}

TEST_F(PvcTest, ClaimsThatAreMissingOrNotBoundMakeThePodWait) {
  auto missing = Set("u1", "data");
  EXPECT_EQ(missing.status().code(), Code::kUnavailable);
  EXPECT_EQ(missing.status().message(), "persistentvolumeclaim \"data\" not found");

  AddClaim("data", "", "Pending");
  auto pending = Set("u1", "data");
  EXPECT_EQ(pending.status().code(), Code::kUnavailable);
  EXPECT_EQ(pending.status().message(), "persistentvolumeclaim \"data\" is not bound yet");
  EXPECT_FALSE(os::Exists(PodDir("u1") + "/volumes"));

  AddClaim("data", "pv-gone", "Bound");
  auto nopv = Set("u1", "data");
  EXPECT_EQ(nopv.status().code(), Code::kUnavailable);
  EXPECT_EQ(nopv.status().message(),
            "persistentvolume \"pv-gone\" (bound to persistentvolumeclaim \"data\") not found");
}

TEST_F(PvcTest, UnknownDriverBlockOnLocalAndDisallowedHostPathAreRefused) {
  AddClaim("data", "pv-x", "Bound");
  AddPv("pv-x", "data", {{"csi", {{"driver", "example.com/nope"}, {"volumeHandle", "h"}}}});
  EXPECT_EQ(Set("u1", "data").status().message(),
            "driver name example.com/nope not found in the list of registered CSI drivers");

  objects_.objs["persistentvolumeclaims/default/data"]["spec"]["volumeMode"] = "Block";
  AddPv("pv-x", "data", {{"csi", {{"driver", "kvol.io/local"}, {"volumeHandle", "pv-local"}}}});
  auto block = Set("u1", "data");
  EXPECT_EQ(block.status().code(), Code::kInvalid);
  EXPECT_EQ(block.status().message(),
            "kvol.io/local does not support volumeMode Block (volume \"pv-local\" is a directory)");
  ASSERT_TRUE(Down("u1", "pv-x").ok());

  AddClaim("data", "pv-etc", "Bound");
  AddPv("pv-etc", "data", {{"hostPath", {{"path", "/etc"}}}});
  node_.allowedHostPaths = {s_.path() + "/hostdata"};
  EXPECT_EQ(Set("u1", "data").status().message(),
            "hostPath \"/etc\" is not under an allowed prefix (--allowed-host-paths: " + s_.path() +
                "/hostdata)");
  EXPECT_EQ(MountCount(), 0u);
}

TEST_F(PvcTest, StagedVolumeIsUnstagedWhenTheLastPodGoes) {
  AddClaim("data", "pv-s", "Bound", json::array({"ReadWriteMany"}));
  AddPv("pv-s", "data", {{"csi", {{"driver", "test.kvol.io/staged"}, {"volumeHandle", "vol-s"}}}});
  Attach("vol-s", "test.kvol.io/staged", true);
  auto a = Set("u1", "data");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = Set("u2", "data");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const std::string staging = dir_ + "/plugins/kubernetes.io~csi/pv-s/globalmount";
  EXPECT_EQ(*os::ReadFile(a->hostPath + "/staged"), "vol-s");
  json vd =
      json::parse(*os::ReadFile(PodDir("u1") + "/volumes/kubernetes.io~csi/pv-s/vol_data.json"));
  EXPECT_EQ(vd["stagingPath"], staging);

  ASSERT_TRUE(Down("u1", "pv-s").ok());
  EXPECT_EQ(staged_.unstages, 0);  // u2 still uses it
  EXPECT_TRUE(os::Exists(staging + "/staged"));
  ASSERT_TRUE(Down("u2", "pv-s").ok());
  EXPECT_EQ(staged_.unstages, 1);
  EXPECT_FALSE(os::Exists(dir_ + "/plugins/kubernetes.io~csi/pv-s"));
  EXPECT_EQ(MountCount(), 0u);
}

TEST_F(PvcTest, AttachRequiredVolumeWaitsForItsVolumeAttachmentThenStaysPublished) {
  AddClaim("data", "pv-a", "Bound");
  AddPv("pv-a", "data", {{"csi", {{"driver", "test.kvol.io/staged"}, {"volumeHandle", "vol-a"}}}});
  const std::string va = api::VolumeAttachmentName("vol-a", "test.kvol.io/staged", "n1");
  const std::string prefix =
      "volume \"pv-a\" is not attached to node \"n1\" yet (VolumeAttachment " + va;

  auto none = Set("u1", "data");
  EXPECT_EQ(none.status().code(), Code::kUnavailable);
  EXPECT_EQ(none.status().message(), prefix + " does not exist)");
  EXPECT_EQ(staged_.stages, 0);
  EXPECT_EQ(MountCount(), 0u);
  // Reported in use before anything is staged (the controller must not detach it under us).
  EXPECT_EQ(CsiVolumesInUse(dir_),
            std::vector<std::string>{"kubernetes.io/csi/test.kvol.io/staged^vol-a"});

  // The pod goes while it waits: nothing was staged here, so nothing is unstaged (on a shared
  // block pool that would take the disk from the node that has it).
  ASSERT_TRUE(Down("u1", "pv-a").ok());
  EXPECT_EQ(staged_.unstages, 0);
  EXPECT_TRUE(CsiVolumesInUse(dir_).empty());
  ASSERT_FALSE(Set("u1", "data").ok());

  Attach("vol-a", "test.kvol.io/staged", false, "n1", "disk vol-a is attached to node n2");
  EXPECT_EQ(Set("u1", "data").status().message(), prefix + ": disk vol-a is attached to node n2)");
  Attach("vol-a", "test.kvol.io/staged", false);
  EXPECT_EQ(Set("u1", "data").status().message(), prefix + ": status.attached is false)");
  Attach("vol-a", "test.kvol.io/staged", true, "n2");
  EXPECT_EQ(Set("u1", "data").status().message(), prefix + " is for node \"n2\")");
  EXPECT_EQ(staged_.stages, 0);

  Attach("vol-a", "test.kvol.io/staged", true);
  auto mv = Set("u1", "data");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(staged_.stages, 1);
  EXPECT_EQ(*os::ReadFile(mv->hostPath + "/staged"), "vol-a");

  // The attachment goes away under a running pod: a re-SetUp keeps the published volume.
  objects_.objs.erase("volumeattachments//" + va);
  auto again = Set("u1", "data");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*os::ReadFile(again->hostPath + "/staged"), "vol-a");
  EXPECT_EQ(MountCount(), 1u);  // still the one publish

  ASSERT_TRUE(Down("u1", "pv-a").ok());
  EXPECT_EQ(MountCount(), 0u);
  EXPECT_TRUE(CsiVolumesInUse(dir_).empty());
}

TEST_F(PvcTest, AttachWaitsUntilTheNodeListsTheVolumeInUse) {
  SetVolumesInUseWaitForTest(std::chrono::milliseconds(50));
  objects_.reportFrom.clear();
  objects_.objs["nodes//n1"] = {{"metadata", {{"name", "n1"}}},
                                {"status", {{"volumesInUse", json::array({"other"})}}}};
  AddClaim("data", "pv-a", "Bound");
  AddPv("pv-a", "data", {{"csi", {{"driver", "test.kvol.io/staged"}, {"volumeHandle", "vol-a"}}}});
  Attach("vol-a", "test.kvol.io/staged", true);
  auto r = Set("u1", "data");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "volume \"pv-a\" has not been added to the list of VolumesInUse in the status of node "
            "\"n1\" yet");
  EXPECT_EQ(staged_.stages, 0);
  objects_.objs["nodes//n1"]["status"]["volumesInUse"].push_back(
      "kubernetes.io/csi/test.kvol.io/staged^vol-a");
  ASSERT_TRUE(Set("u1", "data").ok());
  EXPECT_EQ(staged_.stages, 1);
  ASSERT_TRUE(Down("u1", "pv-a").ok());
  EXPECT_EQ(MountCount(), 0u);
}

TEST_F(PvcTest, CsiDriverObjectWithoutAttachRequiredNeedsNoAttachment) {
  objects_.objs["csidrivers//test.kvol.io/staged"] = {
      {"metadata", {{"name", "test.kvol.io/staged"}}}, {"spec", {{"attachRequired", false}}}};
  AddClaim("data", "pv-a", "Bound");
  AddPv("pv-a", "data", {{"csi", {{"driver", "test.kvol.io/staged"}, {"volumeHandle", "vol-a"}}}});
  auto mv = Set("u1", "data");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_TRUE(CsiVolumesInUse(dir_).empty());
  ASSERT_TRUE(Down("u1", "pv-a").ok());
  EXPECT_EQ(MountCount(), 0u);
}

TEST_F(PvcTest, ReadWriteOncePodIsPublishedIntoOnePodOfTheNodeAtATime) {
  AddClaim("solo", "pv-local", "Bound", json::array({"ReadWriteOncePod"}));
  AddPv("pv-local", "solo", {{"csi", {{"driver", "kvol.io/local"}, {"volumeHandle", "pv-local"}}}});
  ASSERT_TRUE(Set("u1", "solo").ok());
  ASSERT_TRUE(Set("u1", "solo").ok());  // the same pod again: fine
  auto second = Set("u2", "solo");
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "volume uses the ReadWriteOncePod access mode and is already in use by another pod");
  EXPECT_FALSE(os::Exists(PodDir("u2") + "/volumes/kubernetes.io~csi/pv-local/vol_data.json"));
  EXPECT_EQ(MountCount(), 1u);
  ASSERT_TRUE(Down("u2", "pv-local").ok());
  ASSERT_TRUE(Down("u1", "pv-local").ok());
  auto now = Set("u2", "solo");  // the first pod is gone: the second may have it
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  ASSERT_TRUE(Down("u2", "pv-local").ok());
  EXPECT_EQ(MountCount(), 0u);
}

}  // namespace
}  // namespace kvol::volume
