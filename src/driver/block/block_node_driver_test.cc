// kvol.io/block node half on real loop devices and filesystems: stage/publish/unstage with ext4
// capacity enforced, data kept across stages, read-only publishes, xfs grown online, ext4 grown
// offline at the next stage, raw block devices a process writes; nothing left behind.
#include "src/driver/block/block_node_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "src/driver/block/block_driver.h"
#include "src/driver/block/block_test_util.h"

namespace kvol::driver {
namespace {

constexpr int64_t kMi = int64_t{1} << 20;

int64_t FsBytes(const std::string& p) {
  struct statvfs st;
  return ::statvfs(p.c_str(), &st) == 0 ? int64_t(st.f_blocks) * int64_t(st.f_frsize) : -1;
}

// Writes 1 MiB chunks to `path` until a write fails; returns the bytes written and the errno.
std::pair<int64_t, int> FillFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {-1, errno};
  std::string chunk(kMi, 'x');
  int64_t total = 0;
  int err = 0;
  for (int i = 0; i < 1024; ++i) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      err = errno;
      break;
    }
    total += n;
    if (n < static_cast<ssize_t>(chunk.size())) {
      n = ::write(fd, chunk.data(), chunk.size());
      err = n < 0 ? errno : 0;
      break;
    }
  }
  if (::fsync(fd) != 0 && err == 0) err = errno;
  ::close(fd);
  return {total, err};
}

class BlockNodeDriverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(s_.path().empty()); }
  void TearDown() override {
    // What a clean node stop does last; nothing of the volumes may be left then.
    EXPECT_TRUE(node_.ReleasePool().ok());
    EXPECT_EQ(s_.Loops(true), std::vector<std::string>{});
    EXPECT_EQ(s_.Mounts(), std::vector<std::string>{});
  }

  void Create(const std::string& id, int64_t bytes, const std::string& fs = "",
              bool block = false) {
    CreateVolumeRequest r;
    r.name = id;
    r.capacity.requiredBytes = bytes;
    if (!fs.empty()) r.parameters["csi.storage.k8s.io/fstype"] = fs;
    r.block = block;
    auto v = ctl_.CreateVolume(r);
    ASSERT_TRUE(v.ok()) << v.status().message();
  }
  std::string Staging(const std::string& id) {
    return s_.path() + "/plugins/kubernetes.io~csi/" + id + "/globalmount";
  }
  std::string Target(const std::string& pod, const std::string& id) {
    return s_.path() + "/pods/" + pod + "/volumes/kubernetes.io~csi/" + id + "/mount";
  }
  Status Stage(const std::string& id, const std::string& fs = "", bool block = false) {
    NodeStageRequest r;
    r.volumeId = id;
    r.stagingPath = Staging(id);
    r.fsType = fs;
    r.block = block;
    return node_.NodeStageVolume(r);
  }
  Status Publish(const std::string& pod, const std::string& id, bool readOnly = false,
                 bool block = false) {
    NodePublishRequest r;
    r.volumeId = id;
    r.stagingPath = Staging(id);
    r.targetPath = Target(pod, id);
    r.readOnly = readOnly;
    r.block = block;
    return node_.NodePublishVolume(r);
  }

  testing::BlockScratch s_;
  BlockDriver ctl_{s_.path(), "", "node-1", ""};
  BlockNodeDriver node_{s_.path(), ""};
};

TEST_F(BlockNodeDriverTest, Ext4CapacityIsEnforcedAndDataSurvivesUnstage) {
  EXPECT_TRUE(node_.NeedsStaging());
  Create("pvc-a", 64 * kMi);
  ASSERT_TRUE(Stage("pvc-a").ok());
  ASSERT_TRUE(Stage("pvc-a").ok());  // idempotent
  ASSERT_TRUE(Publish("p1", "pvc-a").ok());
  ASSERT_TRUE(Publish("p1", "pvc-a").ok());
  const std::string t = Target("p1", "pvc-a");
  auto type = os::ExecOk({"findmnt", "-n", "-o", "FSTYPE", t});
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(type->out, "ext4\n");
  ASSERT_TRUE(os::WriteFileAtomic(t + "/keep", "kept").ok());

  auto [written, err] = FillFile(t + "/fill");
  EXPECT_EQ(err, ENOSPC);
  EXPECT_GT(written, 50 * kMi);
  EXPECT_LE(written, 64 * kMi);
  ::unlink((t + "/fill").c_str());

  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-a", t).ok());
  EXPECT_FALSE(os::Exists(t));
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-a", Staging("pvc-a")).ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-a", Staging("pvc-a")).ok());  // idempotent
  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-a", t).ok());
  EXPECT_EQ(s_.Loops().size(), 1u);  // only the pool
  EXPECT_EQ(s_.Mounts(), std::vector<std::string>{s_.path() + "/block"});

  // Staged again (another pod): the same filesystem, not formatted again.
  ASSERT_TRUE(Stage("pvc-a").ok());
  ASSERT_TRUE(Publish("p2", "pvc-a").ok());
  EXPECT_EQ(*os::ReadFile(Target("p2", "pvc-a") + "/keep"), "kept");
  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-a", Target("p2", "pvc-a")).ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-a", Staging("pvc-a")).ok());
}

TEST_F(BlockNodeDriverTest, ReadOnlyPublishRefusesWrites) {
  Create("pvc-r", 16 * kMi);
  ASSERT_TRUE(Stage("pvc-r").ok());
  ASSERT_TRUE(Publish("p1", "pvc-r", /*readOnly=*/true).ok());
  int fd = ::open((Target("p1", "pvc-r") + "/x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int err = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(err, EROFS);
  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-r", Target("p1", "pvc-r")).ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-r", Staging("pvc-r")).ok());
}

TEST_F(BlockNodeDriverTest, XfsGrowsOnline) {
  Create("pvc-x", 320 * kMi, "xfs");
  ASSERT_TRUE(Stage("pvc-x", "xfs").ok());
  ASSERT_TRUE(Publish("p1", "pvc-x").ok());
  const std::string t = Target("p1", "pvc-x");
  ASSERT_TRUE(os::WriteFileAtomic(t + "/keep", "kept").ok());
  const int64_t before = FsBytes(t);
  EXPECT_GT(before, 250 * kMi);
  EXPECT_LE(before, 320 * kMi);

  auto grown = ctl_.ControllerExpandVolume("pvc-x", {640 * kMi, 0});
  ASSERT_TRUE(grown.ok());
  NodeExpandRequest er;
  er.volumeId = "pvc-x";
  er.volumePath = t;
  er.stagingPath = Staging("pvc-x");
  er.requiredBytes = 640 * kMi;
  auto n = node_.NodeExpandVolume(er);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 640 * kMi);
  const int64_t after = FsBytes(t);  // still mounted, seen through the pod's bind
  EXPECT_GT(after, 570 * kMi);
  EXPECT_LE(after, 640 * kMi);
  EXPECT_EQ(*os::ReadFile(t + "/keep"), "kept");

  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-x", t).ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-x", Staging("pvc-x")).ok());
}

TEST_F(BlockNodeDriverTest, Ext4GrowsOfflineAtTheNextStage) {
  Create("pvc-g", 64 * kMi);
  ASSERT_TRUE(Stage("pvc-g").ok());
  ASSERT_TRUE(Publish("p1", "pvc-g").ok());
  const std::string t = Target("p1", "pvc-g");
  ASSERT_TRUE(os::WriteFileAtomic(t + "/keep", "kept").ok());
  EXPECT_LE(FsBytes(t), 64 * kMi);

  ASSERT_TRUE(ctl_.ControllerExpandVolume("pvc-g", {128 * kMi, 0}).ok());
  NodeExpandRequest er;
  er.volumeId = "pvc-g";
  er.stagingPath = Staging("pvc-g");
  er.requiredBytes = 128 * kMi;
  auto online = node_.NodeExpandVolume(er);
  // This kernel refuses online ext4 resize; where it works, the filesystem grew already.
  if (!online.ok()) {
    EXPECT_EQ(online.status().code(), Code::kUnavailable);
    EXPECT_EQ(online.status().message(),
              "kvol.io/block: volume \"pvc-g\": ext4 cannot grow while mounted on this kernel: "
              "the filesystem grows to 134217728 bytes when the volume is next staged (restart "
              "the pods that use it)");
    EXPECT_LE(FsBytes(t), 64 * kMi);
  }
  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-g", t).ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-g", Staging("pvc-g")).ok());
  auto unstaged = node_.NodeExpandVolume(er);  // nothing staged: it grows at the next stage
  EXPECT_EQ(unstaged.status().code(), Code::kUnavailable);
  EXPECT_EQ(unstaged.status().message(),
            "kvol.io/block: volume \"pvc-g\": not staged on this node: it grows to 134217728 "
            "bytes when it is next staged");

  ASSERT_TRUE(Stage("pvc-g").ok());
  ASSERT_TRUE(Publish("p2", "pvc-g").ok());
  const std::string t2 = Target("p2", "pvc-g");
  EXPECT_GT(FsBytes(t2), 110 * kMi);
  EXPECT_LE(FsBytes(t2), 128 * kMi);
  EXPECT_EQ(*os::ReadFile(t2 + "/keep"), "kept");
  auto done = node_.NodeExpandVolume(er);  // staged and grown: the node's part is done
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(*done, 128 * kMi);
  auto [written, err] = FillFile(t2 + "/fill");
  EXPECT_EQ(err, ENOSPC);
  EXPECT_GT(written, 100 * kMi);
  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-g", t2).ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-g", Staging("pvc-g")).ok());
}

TEST_F(BlockNodeDriverTest, BlockModePublishesADeviceNodeAProcessWrites) {
  Create("pvc-b", 8 * kMi, "", /*block=*/true);
  ASSERT_TRUE(Stage("pvc-b", "", /*block=*/true).ok());
  ASSERT_TRUE(Stage("pvc-b", "", /*block=*/true).ok());
  EXPECT_EQ(s_.Loops().size(), 2u);  // the pool and the volume
  ASSERT_TRUE(Publish("p1", "pvc-b", false, /*block=*/true).ok());
  ASSERT_TRUE(Publish("p1", "pvc-b", false, /*block=*/true).ok());
  const std::string t = Target("p1", "pvc-b");
  struct stat st;
  ASSERT_EQ(::stat(t.c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));

  auto dd = os::Exec({"dd", "of=" + t, "bs=512", "seek=1", "conv=fsync,notrunc"},
                     os::ExecOptions{"hello block", {}, "", 30});
  ASSERT_TRUE(dd.ok());
  EXPECT_EQ(dd->exitCode, 0) << dd->err;
  auto img = os::ReadFile(s_.path() + "/block/pvc-b.img");
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->substr(512, 11), "hello block");

  // Read-only: a read-only device of its own; writing to it is refused.
  ASSERT_TRUE(Publish("p2", "pvc-b", /*readOnly=*/true, /*block=*/true).ok());
  EXPECT_EQ(s_.Loops().size(), 3u);
  const std::string ro = Target("p2", "pvc-b");
  int fd = ::open(ro.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {  // this kernel opens a read-only block device for writing, then refuses writes
    EXPECT_EQ(::pwrite(fd, "x", 1, 512), -1);
    EXPECT_EQ(errno, EPERM);
    ::close(fd);
  }
  fd = ::open(ro.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  char buf[11] = {0};
  EXPECT_EQ(::pread(fd, buf, sizeof buf, 512), 11);
  ::close(fd);
  EXPECT_EQ(std::string(buf, 11), "hello block");
  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-b", ro).ok());
  EXPECT_EQ(s_.Loops().size(), 2u);
  EXPECT_FALSE(os::Exists(ro));

  ASSERT_TRUE(node_.NodeUnpublishVolume("pvc-b", t).ok());
  EXPECT_FALSE(os::Exists(t));
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-b", Staging("pvc-b")).ok());
  EXPECT_EQ(s_.Loops().size(), 1u);
}

TEST_F(BlockNodeDriverTest, ErrorsNameTheVolume) {
  Status missing = Stage("pvc-none");
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "kvol.io/block: volume \"pvc-none\" not found (" + s_.path() +
                                   "/block/pvc-none.img does not exist on this node)");
  Create("pvc-e", 16 * kMi);
  Status unstaged = Publish("p1", "pvc-e");
  EXPECT_EQ(unstaged.code(), Code::kUnavailable);
  EXPECT_EQ(unstaged.message(),
            "kvol.io/block: volume \"pvc-e\" is not staged on this node "
            "(nothing mounted at " +
                Staging("pvc-e") + ")");
  EXPECT_EQ(Stage("../x").code(), Code::kInvalid);
  // Formatted ext4 at first use: staging it as xfs later is refused, and leaves nothing attached.
  ASSERT_TRUE(Stage("pvc-e").ok());
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-e", Staging("pvc-e")).ok());
  Status other = Stage("pvc-e", "xfs");
  EXPECT_EQ(other.code(), Code::kInvalid);
  EXPECT_EQ(other.message(),
            "kvol.io/block: volume \"pvc-e\": it holds a ext4 filesystem, not xfs");
  EXPECT_EQ(s_.Loops().size(), 1u);
}

TEST_F(BlockNodeDriverTest, AVolumeMountedByAnotherNodeOfThisMachineIsNotTaken) {
  // Two node agents of one machine share the pool: one stages the volume (its pods may still
  // write, e.g. its agent was killed), the other must not mount the same image.
  Create("pvc-s", 16 * kMi);
  ASSERT_TRUE(Stage("pvc-s").ok());
  BlockNodeDriver other{s_.path() + "/other", s_.path() + "/block"};
  NodeStageRequest r;
  r.volumeId = "pvc-s";
  r.stagingPath = s_.path() + "/other/plugins/kubernetes.io~csi/pvc-s/globalmount";
  Status taken = other.NodeStageVolume(r);
  EXPECT_EQ(taken.code(), Code::kUnavailable);
  auto loops = os::LoopDevicesFor(s_.path() + "/block/pvc-s.img");
  ASSERT_TRUE(loops.ok());
  ASSERT_EQ(loops->size(), 1u);
  EXPECT_EQ(taken.message(), "kvol.io/block: volume \"pvc-s\" is still in use on " +
                                 loops->front() +
                                 " (mounted outside this node's staging path, e.g. by a pod of "
                                 "another node agent that is still running); it is staged here "
                                 "once that device is released");
  // Released there: the other node stages it.
  ASSERT_TRUE(node_.NodeUnstageVolume("pvc-s", Staging("pvc-s")).ok());
  ASSERT_TRUE(other.NodeStageVolume(r).ok());
  ASSERT_TRUE(other.NodeUnstageVolume("pvc-s", r.stagingPath).ok());
}

}  // namespace
}  // namespace kvol::driver
