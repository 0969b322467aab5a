// kvol.io/block controller half on a real pool: a sparse XFS image loop-mounted at DIR/block
// (this machine's /tmp is ext4), sparse volume images, expansion, deletion refused while attached.
#include "src/driver/block/block_driver.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <string>

#include <gtest/gtest.h>

#include "kvol/os/fs.h"
#include "kvol/os/loop.h"
#include "src/driver/block/block_test_util.h"

namespace kvol::driver {
namespace {

constexpr int64_t kMi = int64_t{1} << 20;

int64_t FileSize(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_size : -1;
}
int64_t AllocatedBytes(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? int64_t{st.st_blocks} * 512 : -1;
}
bool OnXfs(const std::string& p) {
  struct statfs st;
  return ::statfs(p.c_str(), &st) == 0 && st.f_type == XFS_SUPER_MAGIC;
}

CreateVolumeRequest Req(const std::string& name, int64_t bytes, const std::string& fs = "") {
  CreateVolumeRequest r;
  r.name = name;
  r.capacity.requiredBytes = bytes;
  if (!fs.empty()) r.parameters["csi.storage.k8s.io/fstype"] = fs;
  r.accessModes = {"ReadWriteOnce"};
  r.accessibility.requisite.push_back({{"kubernetes.io/hostname", "node-1"}});
  return r;
}

class BlockDriverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(s_.path().empty()); }
  testing::BlockScratch s_;
  BlockDriver d_{s_.path(), "", "node-1", ""};
  std::string pool_ = s_.path() + "/block";
};

TEST_F(BlockDriverTest, CreateMakesASparseImageInAnXfsPoolAndIsIdempotent) {
  EXPECT_EQ(d_.Name(), "kvol.io/block");
  auto v = d_.CreateVolume(Req("pvc-1", 64 * kMi + 1));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->volumeId, "pvc-1");
  EXPECT_EQ(v->capacityBytes, 65 * kMi);  // rounded up to a MiB
  ASSERT_EQ(v->accessibleTopology.size(), 1u);
  EXPECT_EQ(v->accessibleTopology[0], (Topology{{"kubernetes.io/hostname", "node-1"}}));
  const std::string img = pool_ + "/pvc-1.img";
  EXPECT_EQ(FileSize(img), 65 * kMi);
  EXPECT_LT(AllocatedBytes(img), kMi);  // sparse
  EXPECT_TRUE(OnXfs(pool_));            // the pool image, loop-mounted
  EXPECT_EQ(FileSize(s_.path() + "/block.xfs"), int64_t{20} << 30);
  EXPECT_EQ(s_.Loops(true),
            std::vector<std::string>{s_.Loops()[0] + " " + s_.path() + "/block.xfs"});

  auto again = d_.CreateVolume(Req("pvc-1", 64 * kMi + 1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->capacityBytes, 65 * kMi);
  auto bigger = d_.CreateVolume(Req("pvc-1", 128 * kMi));
  EXPECT_EQ(bigger.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(s_.Loops().size(), 1u);  // one pool, mounted once

  // A clean stop releases the pool; the next use mounts it again, images intact.
  ASSERT_TRUE(d_.pool().Release().ok());
  EXPECT_TRUE(s_.Loops().empty());
  EXPECT_TRUE(s_.Mounts().empty());
  EXPECT_FALSE(os::Exists(img));
  ASSERT_TRUE(d_.ControllerExpandVolume("pvc-1", {66 * kMi, 0}).ok());
  EXPECT_EQ(FileSize(img), 66 * kMi);
  ASSERT_TRUE(d_.pool().Release().ok());
  EXPECT_TRUE(s_.Loops().empty());
}

TEST_F(BlockDriverTest, ZoneTopologyWhenTheNodeHasAZone) {
  BlockDriver z(s_.path(), "", "node-1", "zone-a");
  auto v = z.CreateVolume(Req("pvc-z", kMi));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->accessibleTopology[0], (Topology{{"topology.kubernetes.io/zone", "zone-a"}}));
  // A requisite topology (the selected node's) decides the zone: the pool serves every zone.
  CreateVolumeRequest other = Req("pvc-y", kMi);
  other.accessibility.requisite = {
      {{"kubernetes.io/hostname", "node-2"}, {"topology.kubernetes.io/zone", "zone-b"}}};
  auto y = z.CreateVolume(other);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(y->accessibleTopology[0], (Topology{{"topology.kubernetes.io/zone", "zone-b"}}));
  // A node without a zone: the volume follows that node.
  CreateVolumeRequest host = Req("pvc-x", kMi);
  host.accessibility.requisite = {{{"kubernetes.io/hostname", "node-3"}}};
  auto x = z.CreateVolume(host);
  ASSERT_TRUE(x.ok()) << x.status().message();
  EXPECT_EQ(x->accessibleTopology[0], (Topology{{"kubernetes.io/hostname", "node-3"}}));
  ASSERT_TRUE(z.pool().Release().ok());
}

TEST_F(BlockDriverTest, RefusesWhatItCannotServe) {
  auto xfs = d_.CreateVolume(Req("pvc-x", 299 * kMi, "xfs"));
  EXPECT_EQ(xfs.status().code(), Code::kInvalid);
  EXPECT_EQ(xfs.status().message(),
            "xfs volumes must be at least 300Mi: Debian 12's mkfs.xfs refuses smaller "
            "filesystems");
  CreateVolumeRequest rwx = Req("pvc-m", kMi);
  rwx.accessModes = {"ReadWriteOnce", "ReadWriteMany"};
  EXPECT_EQ(d_.CreateVolume(rwx).status().message(),
            "kvol.io/block volumes are attached to one node: ReadWriteMany is not supported");
  EXPECT_EQ(d_.CreateVolume(Req("pvc-b", kMi, "btrfs")).status().message(),
            "kvol.io/block: unsupported csi.storage.k8s.io/fstype \"btrfs\": ext4 or xfs");
  CreateVolumeRequest far = Req("pvc-f", kMi);
  far.accessibility.requisite = {{{"kubernetes.io/hostname", "node-2"}}};
  auto farVolume = d_.CreateVolume(far);  // another node of this machine: the volume follows it
  ASSERT_TRUE(farVolume.ok()) << farVolume.status().message();
  EXPECT_EQ(farVolume->accessibleTopology[0], (Topology{{"kubernetes.io/hostname", "node-2"}}));
  EXPECT_EQ(d_.CreateVolume(Req("../x", kMi)).status().code(), Code::kInvalid);
  // A raw block volume has no filesystem: no xfs minimum.
  CreateVolumeRequest raw = Req("pvc-r", 8 * kMi, "xfs");
  raw.block = true;
  EXPECT_TRUE(d_.CreateVolume(raw).ok());
  EXPECT_EQ(s_.Loops().size(), 1u);  // only the pool
  ASSERT_TRUE(d_.pool().Release().ok());
}

TEST_F(BlockDriverTest, ExpandGrowsNeverShrinksAndAsksForNodeExpansion) {
  ASSERT_TRUE(d_.CreateVolume(Req("pvc-e", 64 * kMi)).ok());
  auto grown = d_.ControllerExpandVolume("pvc-e", {100 * kMi + 5, 0});
  ASSERT_TRUE(grown.ok()) << grown.status().message();
  EXPECT_EQ(*grown, 101 * kMi);
  EXPECT_EQ(FileSize(pool_ + "/pvc-e.img"), 101 * kMi);
  EXPECT_TRUE(d_.NodeExpansionRequired("pvc-e"));
  auto same = d_.ControllerExpandVolume("pvc-e", {32 * kMi, 0});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, 101 * kMi);
  EXPECT_EQ(FileSize(pool_ + "/pvc-e.img"), 101 * kMi);
  EXPECT_EQ(d_.ControllerExpandVolume("pvc-none", {kMi, 0}).status().code(), Code::kNotFound);
  ASSERT_TRUE(d_.pool().Release().ok());
}

TEST_F(BlockDriverTest, DeleteRemovesTheImageButNeverWhileAttached) {
  ASSERT_TRUE(d_.CreateVolume(Req("pvc-d", 16 * kMi)).ok());
  const std::string img = pool_ + "/pvc-d.img";
  auto dev = os::AttachLoop(img, false, /*autoclear=*/false);
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  Status busy = d_.DeleteVolume("pvc-d");
  EXPECT_EQ(busy.code(), Code::kUnavailable);
  EXPECT_EQ(busy.message(),
            "kvol.io/block: volume \"pvc-d\" is still attached (" + *dev + "): not deleting it");
  EXPECT_TRUE(os::Exists(img));
  // The pool stays while a volume is attached.
  EXPECT_EQ(d_.pool().Release().code(), Code::kConflict);
  ASSERT_TRUE(os::DetachLoop(*dev).ok());
  ASSERT_TRUE(d_.DeleteVolume("pvc-d").ok());
  EXPECT_FALSE(os::Exists(img));
  EXPECT_TRUE(d_.DeleteVolume("pvc-d").ok());  // idempotent
  ASSERT_TRUE(d_.pool().Release().ok());
  EXPECT_TRUE(s_.Loops().empty());
  EXPECT_TRUE(s_.Mounts().empty());
}

}  // namespace
}  // namespace kvol::driver
