#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "src/os/test_scratch.h"

namespace kvol::os {
namespace {

using testing::Scratch;

// Detaches a device in every outcome.
struct LoopGuard {
  std::string dev;
  ~LoopGuard() {
    if (!dev.empty()) (void)DetachLoop(dev);
  }
};

bool Listed(const std::string& dev, const std::string& file, bool* readOnly = nullptr) {
  auto all = ListLoopDevices();
  if (!all.ok()) return false;
  for (const LoopDevice& l : *all) {
    if (l.device == dev && l.backingFile == file) {
      if (readOnly) *readOnly = l.readOnly;
      return true;
    }
  }
  return false;
}

int64_t DeviceSize(const std::string& dev) {
  int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  uint64_t size = 0;
  int rc = ::ioctl(fd, BLKGETSIZE64, &size);
  ::close(fd);
  return rc == 0 ? static_cast<int64_t>(size) : -1;
}

TEST(LoopTest, AttachListGrowDetach) {
  Scratch s;
  const std::string img = s / "disk.img";
  ASSERT_TRUE(MakeSparseFile(img, 16 << 20).ok());
  auto dev = AttachLoop(img, /*readOnly=*/false, /*autoclear=*/false);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  LoopGuard g{*dev};
  EXPECT_EQ(dev->rfind("/dev/loop", 0), 0u);
  bool ro = true;
  EXPECT_TRUE(Listed(*dev, img, &ro));
  EXPECT_FALSE(ro);
  auto forFile = LoopDevicesFor(img);
  ASSERT_TRUE(forFile.ok());
  EXPECT_EQ(*forFile, std::vector<std::string>{*dev});
  EXPECT_EQ(DeviceSize(*dev), 16 << 20);

  ASSERT_TRUE(MakeSparseFile(img, 32 << 20).ok());
  ASSERT_TRUE(RefreshLoopCapacity(*dev).ok());
  EXPECT_EQ(DeviceSize(*dev), 32 << 20);

  ASSERT_TRUE(DetachLoop(*dev).ok());
  EXPECT_FALSE(Listed(*dev, img));
  EXPECT_TRUE(LoopDevicesFor(img)->empty());
  EXPECT_TRUE(DetachLoop(*dev).ok());  // already free: OK
}

TEST(LoopTest, ReadOnlyAttachAndMissingFile) {
  Scratch s;
  const std::string img = s / "ro.img";
  ASSERT_TRUE(MakeSparseFile(img, 16 << 20).ok());
  auto dev = AttachLoop(img, /*readOnly=*/true, /*autoclear=*/false);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  LoopGuard g{*dev};
  bool ro = false;
  EXPECT_TRUE(Listed(*dev, img, &ro));
  EXPECT_TRUE(ro);
  int fd = ::open(dev->c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {  // the kernel may allow the open; the write itself is refused
    char block[4096] = {1};
    EXPECT_EQ(::pwrite(fd, block, sizeof block, 0), -1);
    EXPECT_EQ(errno, EPERM);
    ::close(fd);
  }

  auto missing = AttachLoop(s / "nope.img", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST(LoopTest, ConcurrentAttachesGetDistinctDevices) {
  Scratch s;
  constexpr int kN = 4;
  std::vector<std::string> imgs, devs(kN);
  std::vector<Status> errs(kN);
  for (int i = 0; i < kN; ++i) {
    imgs.push_back(s / ("c" + std::to_string(i) + ".img"));
    ASSERT_TRUE(MakeSparseFile(imgs.back(), 16 << 20).ok());
  }
  std::vector<std::thread> ts;
  for (int i = 0; i < kN; ++i) {
    ts.emplace_back([&, i] {
      auto d = AttachLoop(imgs[i], false, false);
      if (d.ok())
        devs[i] = *d;
      else
        errs[i] = d.status();
    });
  }
  for (auto& t : ts) t.join();
  std::vector<LoopGuard> guards(kN);
  for (int i = 0; i < kN; ++i) guards[i].dev = devs[i];
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(errs[i].ok()) << errs[i].ToString();
    EXPECT_TRUE(Listed(devs[i], imgs[i])) << devs[i];
  }
  std::vector<std::string> sorted = devs;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
}

// An autoclear device survives until mounted (AttachLoop holds it), then lives as long as the
// mount: unmounting releases it without a DetachLoop.
TEST(LoopTest, AutoclearDeviceIsReleasedWhenItsMountGoes) {
  Scratch s;
  const std::string img = s / "fs.img";
  ASSERT_TRUE(MakeSparseFile(img, 16 << 20).ok());
  auto mkfs = Exec({"mkfs.ext4", "-q", "-F", img});
  if (!mkfs.ok() || mkfs->exitCode != 0) GTEST_SKIP() << "mkfs.ext4 not usable here";
  auto dev = AttachLoop(img, false);  // autoclear
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  LoopGuard g{*dev};
  EXPECT_TRUE(Listed(*dev, img));
  const std::string mnt = s / "mnt";
  ASSERT_TRUE(MakeDirs(mnt).ok());
  Status st = RealMounter().MountFilesystem(*dev, mnt, "ext4", "noatime", false);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(WriteFileAtomic(mnt + "/hello", "on ext4").ok());
  EXPECT_TRUE(Listed(*dev, img));  // the hold is gone; the mount keeps the device
  ASSERT_TRUE(RealMounter().Unmount(mnt).ok());
  for (int i = 0; i < 100 && Listed(*dev, img); ++i) ::usleep(10000);
  EXPECT_FALSE(Listed(*dev, img));
}

TEST(LoopTest, ReleaseLoopHoldLetsAnUnusedAutoclearDeviceGo) {
  Scratch s;
  const std::string img = s / "x.img";
  ASSERT_TRUE(MakeSparseFile(img, 16 << 20).ok());
  auto dev = AttachLoop(img, false);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  LoopGuard g{*dev};
  EXPECT_TRUE(Listed(*dev, img));
  ReleaseLoopHold(*dev);
  for (int i = 0; i < 100 && Listed(*dev, img); ++i) ::usleep(10000);
  EXPECT_FALSE(Listed(*dev, img));
}

}  // namespace
}  // namespace kvol::os
