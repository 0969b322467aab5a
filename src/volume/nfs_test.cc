// nfs: a node without an NFS client refuses the volume with a clear message. The mount branch
// (a kernel with nfs) cannot run here: this machine's kernel has no NFS client and no server.
#include <string>

#include <gtest/gtest.h>

#include "kvol/os/fs.h"
#include "kvol/volume/plugin.h"
#include "src/os/test_scratch.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

class NfsTest : public ::testing::Test {
 protected:
  Result<MountedVolume> Set(Plugin& p) {
    pod_.metadata.uid = "u1";
    vol_.name = "share";
    vol_.nfs.emplace();
    vol_.nfs->server = "nfs.example.com";
    vol_.nfs->path = "/exports/a";
    node_.dataDir = s_.path();
    VolumeRequest r;
    r.pod = &pod_;
    r.volume = &vol_;
    r.podDir = s_.path() + "/pods/u1";
    r.node = &node_;
    return p.SetUp(r);
  }
  os::testing::Scratch s_;
  api::Pod pod_;
  api::Volume vol_;
  NodeContext node_;
};

TEST_F(NfsTest, NodeWithoutNfsClientRefusesWithAClearMessage) {
  ASSERT_TRUE(os::WriteFileAtomic(s_.path() + "/filesystems",
                                  "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n")
                  .ok());
  auto p = NewNfsPluginForTest(s_.path() + "/filesystems");
  auto mv = Set(*p);
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), FailedPrecondition("").code());
  EXPECT_EQ(mv.status().message(),
            "nfs volumes are not supported on this node: the kernel has no NFS client (mount -t "
            "nfs would fail)");
  EXPECT_FALSE(os::Exists(s_.path() + "/pods"));
  EXPECT_TRUE(p->TearDown(node_, s_.path() + "/pods/u1", "share").ok());
}

TEST_F(NfsTest, KernelHasNfsReadsTheFilesystemList) {
  ASSERT_TRUE(
      os::WriteFileAtomic(s_.path() + "/with", "nodev\ttmpfs\nnodev\tnfs\nnodev\tnfs4\n").ok());
  ASSERT_TRUE(os::WriteFileAtomic(s_.path() + "/without", "nodev\tnfsd\n\text4\n").ok());
  EXPECT_TRUE(KernelHasNfs(s_.path() + "/with"));
  EXPECT_FALSE(KernelHasNfs(s_.path() + "/without"));
  EXPECT_FALSE(KernelHasNfs(s_.path() + "/missing"));
}

TEST_F(NfsTest, BuiltinPluginFollowsThisKernel) {
  auto p = NewNfsPlugin();
  auto mv = Set(*p);
  if (KernelHasNfs()) GTEST_SKIP() << "this kernel has an NFS client; no NFS server to mount";
  EXPECT_EQ(mv.status().message(),
            "nfs volumes are not supported on this node: the kernel has no NFS client (mount -t "
            "nfs would fail)");
}

}  // namespace
}  // namespace kvol::volume
