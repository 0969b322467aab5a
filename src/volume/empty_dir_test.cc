// emptyDir on real mounts: a plain directory, a tmpfs, and a loop-backed ext4 for sizeLimit whose
// limit a writer hits as ENOSPC. Runs as root; everything lives under a mkdtemp scratch dir that is
// unmounted, detached and removed in every outcome.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "kvol/volume/plugin.h"
#include "src/os/test_scratch.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

// Detaches every loop device backed by a file under `dir` (after Scratch's own cleanup ran or not).
class LoopGuard {
 public:
  explicit LoopGuard(std::string dir) : dir_(std::move(dir)) {}
  ~LoopGuard() {
    auto mounts = os::MountsUnder(dir_);
    if (mounts.ok()) {
      for (const auto& m : *mounts) (void)os::RealMounter().Unmount(m.mountPoint, true);
    }
    auto devs = os::ListLoopDevices();
    if (!devs.ok()) return;
    for (const auto& d : *devs) {
      if (d.backingFile.rfind(dir_ + "/", 0) == 0) (void)os::DetachLoop(d.device);
    }
  }

 private:
  std::string dir_;
};

class EmptyDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    node_.dataDir = scratch_.path();
    node_.mounter = &os::RealMounter();
    pod_.metadata.uid = "uid-1";
    pod_.metadata.name = "p";
    pod_.metadata.namespace_ = "default";
    podDir_ = scratch_.path() + "/pods/uid-1";
    plugin_ = NewEmptyDirPlugin();
  }

  Result<MountedVolume> Set(const api::Volume& v) {
    VolumeRequest r;
    r.pod = &pod_;
    r.volume = &v;
    r.podDir = podDir_;
    r.node = &node_;
    return plugin_->SetUp(r);
  }

  static api::Volume Vol(const std::string& medium, const char* limit) {
    api::Volume v;
    v.name = "scratch";
    v.emptyDir.emplace();
    v.emptyDir->medium = medium;
    if (limit != nullptr) v.emptyDir->sizeLimit = api::Quantity::MustParse(limit);
    return v;
  }

  std::string Dir() const { return podDir_ + "/volumes/kubernetes.io~empty-dir/scratch"; }
  std::string Img() const { return podDir_ + "/volumes/kubernetes.io~empty-dir/.scratch.img"; }

  os::testing::Scratch scratch_;
  LoopGuard loops_{scratch_.path()};
  NodeContext node_;
  api::Pod pod_;
  std::string podDir_;
  std::unique_ptr<Plugin> plugin_;
};

unsigned ModeOf(const std::string& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::vector<os::MountInfo> MountsAt(const std::string& dir) {
  auto m = os::MountsUnder(dir);
  return m.ok() ? *m : std::vector<os::MountInfo>{};
}

TEST_F(EmptyDirTest, DiskVolumeIsAWorldWritableDirectoryKeptAcrossSetUpAndRemovedByTearDown) {
  auto mv = Set(Vol("", nullptr));
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->pluginDir, "kubernetes.io~empty-dir");
  EXPECT_EQ(mv->dirName, "scratch");
  EXPECT_EQ(mv->hostPath, Dir());
  EXPECT_FALSE(mv->readOnly);
  EXPECT_EQ(ModeOf(Dir()), 0777u);
  EXPECT_TRUE(MountsAt(Dir()).empty());
  ASSERT_TRUE(os::WriteFileAtomic(Dir() + "/data", "kept").ok());

  auto again = Set(Vol("", nullptr));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->hostPath, Dir());
  EXPECT_EQ(*os::ReadFile(Dir() + "/data"), "kept");

  ASSERT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());
  EXPECT_FALSE(os::Exists(Dir()));
  EXPECT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());  // already gone: OK
}

TEST_F(EmptyDirTest, MemoryMediumIsATmpfsOfTheSizeLimit) {
  auto mv = Set(Vol("Memory", "4Mi"));
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  auto mounts = MountsAt(Dir());
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].fsType, "tmpfs");
  EXPECT_NE(mounts[0].superOptions.find("size=4096k"), std::string::npos) << mounts[0].superOptions;
  EXPECT_EQ(ModeOf(Dir()), 0777u);

  ASSERT_TRUE(Set(Vol("Memory", "4Mi")).ok());  // idempotent: still one mount
  EXPECT_EQ(MountsAt(Dir()).size(), 1u);

  ASSERT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());
  EXPECT_TRUE(MountsAt(scratch_.path()).empty());
  EXPECT_FALSE(os::Exists(Dir()));
}

TEST_F(EmptyDirTest, MemoryMediumWithoutLimitUsesTheKernelDefault) {
  auto mv = Set(Vol("Memory", nullptr));
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  auto mounts = MountsAt(Dir());
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].fsType, "tmpfs");
  ASSERT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());
  EXPECT_TRUE(MountsAt(scratch_.path()).empty());
}

TEST_F(EmptyDirTest, DiskSizeLimitIsEnforcedAtWriteTimeWithEnospc) {
  auto mv = Set(Vol("", "16Mi"));
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  auto mounts = MountsAt(Dir());
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].fsType, "ext4");
  EXPECT_EQ(ModeOf(Dir()), 0777u);
  EXPECT_FALSE(os::Exists(Dir() + "/lost+found"));  // the volume starts empty
  auto devs = os::LoopDevicesFor(Img());
  ASSERT_TRUE(devs.ok());
  ASSERT_EQ(devs->size(), 1u);

  int fd = ::open((Dir() + "/fill").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::string chunk(64 * 1024, 'x');
  int64_t written = 0;
  int err = 0;
  while (written < 64ll * 1024 * 1024) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      err = errno;
      break;
    }
    written += n;
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  EXPECT_EQ(err, ENOSPC);
  EXPECT_LE(written, 16ll * 1024 * 1024);
  EXPECT_GE(written, 13ll * 1024 * 1024) << "the filesystem overhead ate too much of the limit";

  // SetUp again: same mount, data kept.
  ASSERT_TRUE(Set(Vol("", "16Mi")).ok());
  EXPECT_EQ(MountsAt(Dir()).size(), 1u);
  EXPECT_TRUE(os::Exists(Dir() + "/fill"));

  ASSERT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());
  EXPECT_TRUE(MountsAt(scratch_.path()).empty());
  EXPECT_FALSE(os::Exists(Dir()));
  EXPECT_FALSE(os::Exists(Img()));
  auto after = os::LoopDevicesFor(Img());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

TEST_F(EmptyDirTest, TearDownDetachesALoopDeviceLeftAttachedWithoutAMount) {
  // A SetUp that attached the image and died before mounting: TearDown still detaches it.
  ASSERT_TRUE(Set(Vol("", "8Mi")).ok());
  ASSERT_TRUE(os::RealMounter().Unmount(Dir()).ok());
  ASSERT_TRUE(os::Exists(Img()));
  auto dev = os::AttachLoop(Img(), false, /*autoclear=*/false);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  ASSERT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());
  auto after = os::LoopDevicesFor(Img());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  EXPECT_FALSE(os::Exists(Img()));
}

TEST_F(EmptyDirTest, TinySizeLimitStillGetsAFilesystem) {
  auto mv = Set(Vol("", "100Ki"));
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  auto mounts = MountsAt(Dir());
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].fsType, "ext4");
  ASSERT_TRUE(plugin_->TearDown(node_, podDir_, "scratch").ok());
  EXPECT_TRUE(MountsAt(scratch_.path()).empty());
}

TEST_F(EmptyDirTest, HugePagesMediumIsRefused) {
  auto mv = Set(Vol("HugePages", nullptr));
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().message(),
            "emptyDir \"scratch\": medium \"HugePages\" is not supported (use \"\" or \"Memory\")");
}

}  // namespace
}  // namespace kvol::volume
