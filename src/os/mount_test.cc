#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/os/test_scratch.h"

namespace kvol::os {
namespace {

using ::testing::HasSubstr;
using testing::Scratch;

TEST(ParseMountInfoTest, DecodesEscapesAndOptionalFields) {
  const std::string text =
      "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
      "36 35 98:0 /mnt1 /mnt/my\\040dir\\011tab rw,noatime master:1 shared:3 - ext3 /dev/root "
      "rw,errors=continue\n"
      "40 22 0:55 /a\\134b /x\\012y ro,relatime - tmpfs my\\040src rw,size=65536k,mode=755\n"
      "41 22 0:56 / /nooptional rw - overlay overlay rw,lowerdir=/l\n";
  auto r = ParseMountInfo(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  const MountInfo& a = (*r)[0];
  EXPECT_EQ(a.id, 22);
  EXPECT_EQ(a.parentId, 1);
  EXPECT_EQ(a.major, 0u);
  EXPECT_EQ(a.minor, 21u);
  EXPECT_EQ(a.mountPoint, "/proc");
  EXPECT_EQ(a.fsType, "proc");
  EXPECT_EQ(a.source, "proc");
  EXPECT_EQ(a.options, "rw,nosuid,nodev,noexec,relatime");
  EXPECT_FALSE(a.readOnly());
  const MountInfo& b = (*r)[1];
  EXPECT_EQ(b.major, 98u);
  EXPECT_EQ(b.root, "/mnt1");
  EXPECT_EQ(b.mountPoint, "/mnt/my dir\ttab");
  EXPECT_EQ(b.fsType, "ext3");
  EXPECT_EQ(b.source, "/dev/root");
  EXPECT_EQ(b.superOptions, "rw,errors=continue");
  const MountInfo& c = (*r)[2];
  EXPECT_EQ(c.root, "/a\\b");
  EXPECT_EQ(c.mountPoint, "/x\ny");
  EXPECT_EQ(c.source, "my src");
  EXPECT_TRUE(c.readOnly());
  EXPECT_EQ((*r)[3].fsType, "overlay");
  EXPECT_EQ((*r)[3].superOptions, "rw,lowerdir=/l");
}

TEST(ParseMountInfoTest, MalformedLineNamesIt) {
  auto r = ParseMountInfo("22 1 0:21 / /proc rw shared:12 proc proc rw\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
  EXPECT_EQ(r.status().message(),
            "malformed mountinfo line (no ' - ' separator): 22 1 0:21 / /proc rw shared:12 proc "
            "proc rw");
  EXPECT_FALSE(ParseMountInfo("x 1 0:21 / /p rw - a b c\n").ok());
}

TEST(ReadMountInfoTest, LiveTableHasRootAndProc) {
  auto r = ReadMountInfo();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  bool root = false, proc = false;
  for (const MountInfo& m : *r) {
    if (m.mountPoint == "/") root = true;
    if (m.mountPoint == "/proc" && m.fsType == "proc") proc = true;
  }
  EXPECT_TRUE(root);
  EXPECT_TRUE(proc);
  auto mp = IsMountPoint("/proc");
  ASSERT_TRUE(mp.ok());
  EXPECT_TRUE(*mp);
}

class MountTest : public ::testing::Test {
 protected:
  Scratch s_;
  Mounter& m_ = RealMounter();
};

TEST_F(MountTest, LiveTableDecodesAMountPointWithSpaces) {
  const std::string dst = s_ / "my dir\twith tab";
  ASSERT_TRUE(MakeDirs(dst).ok());
  ASSERT_TRUE(m_.MountTmpfs(dst, 0, 0755).ok());
  auto mp = IsMountPoint(dst);
  ASSERT_TRUE(mp.ok());
  EXPECT_TRUE(*mp);
  auto under = MountsUnder(s_.path());
  ASSERT_EQ(under->size(), 1u);
  EXPECT_EQ((*under)[0].mountPoint, dst);
  ASSERT_TRUE(m_.UnmountAllUnder(s_.path()).ok());
  EXPECT_FALSE(*IsMountPoint(dst));
}

TEST_F(MountTest, TmpfsSizeIsEnforcedAndMountIsIdempotent) {
  const std::string dst = s_ / "t";
  ASSERT_TRUE(MakeDirs(dst).ok());
  ASSERT_TRUE(m_.MountTmpfs(dst, 1 << 20, 0777).ok());
  ASSERT_TRUE(m_.MountTmpfs(dst, 1 << 20, 0777).ok());  // already mounted: OK, no second mount
  auto under = MountsUnder(s_.path());
  ASSERT_TRUE(under.ok());
  ASSERT_EQ(under->size(), 1u);
  EXPECT_EQ((*under)[0].fsType, "tmpfs");
  EXPECT_THAT((*under)[0].superOptions, HasSubstr("size=1024k"));
  EXPECT_THAT((*under)[0].superOptions, HasSubstr("mode=777"));
  struct stat st;
  ASSERT_EQ(::stat(dst.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  EXPECT_TRUE(*IsMountPoint(dst));

  int fd = ::open((dst + "/big").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::string chunk(64 * 1024, 'x');
  int err = 0;
  for (int i = 0; i < 32 && err == 0; ++i) {  // 2 MiB into a 1 MiB tmpfs
    if (::write(fd, chunk.data(), chunk.size()) < 0) err = errno;
  }
  ::close(fd);
  EXPECT_EQ(err, ENOSPC);

  ASSERT_TRUE(m_.Unmount(dst).ok());
  EXPECT_FALSE(*IsMountPoint(dst));
  EXPECT_FALSE(Exists(dst + "/big"));
}

TEST_F(MountTest, ReadOnlyBindRefusesWritesWhileSourceStaysWritable) {
  const std::string src = s_ / "src", dst = s_ / "dst";
  ASSERT_TRUE(MakeDirs(src).ok());
  ASSERT_TRUE(MakeDirs(dst).ok());
  ASSERT_TRUE(WriteFileAtomic(src + "/f", "hello").ok());
  ASSERT_TRUE(m_.BindMount(src, dst, /*readOnly=*/true).ok());
  EXPECT_EQ(*ReadFile(dst + "/f"), "hello");
  int fd = ::open((dst + "/g").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
  ASSERT_TRUE(WriteFileAtomic(src + "/g", "writable").ok());
  EXPECT_EQ(*ReadFile(dst + "/g"), "writable");
  auto under = MountsUnder(dst);
  ASSERT_TRUE(under.ok());
  ASSERT_EQ(under->size(), 1u);
  EXPECT_TRUE((*under)[0].readOnly());
  // Idempotent: a second call is OK and adds no mount.
  ASSERT_TRUE(m_.BindMount(src, dst, true).ok());
  EXPECT_EQ(MountsUnder(dst)->size(), 1u);
  // Asked read-write again: still OK and still one (read-only) mount, as the header says.
  ASSERT_TRUE(m_.BindMount(src, dst, false).ok());
  EXPECT_EQ(MountsUnder(dst)->size(), 1u);
  ASSERT_TRUE(m_.Unmount(dst).ok());
  EXPECT_FALSE(Exists(dst + "/f"));
}

TEST_F(MountTest, BindOntoATargetMountedFromElsewhereMountsTheNewSource) {
  const std::string a = s_ / "a", b = s_ / "b", dst = s_ / "dst";
  for (const auto& d : {a, b, dst}) ASSERT_TRUE(MakeDirs(d).ok());
  ASSERT_TRUE(WriteFileAtomic(a + "/which", "a").ok());
  ASSERT_TRUE(WriteFileAtomic(b + "/which", "b").ok());
  ASSERT_TRUE(m_.BindMount(a, dst, false).ok());
  EXPECT_EQ(*ReadFile(dst + "/which"), "a");
  ASSERT_TRUE(m_.BindMount(b, dst, false).ok());
  EXPECT_EQ(*ReadFile(dst + "/which"), "b");
  ASSERT_TRUE(m_.UnmountAllUnder(dst).ok());
  EXPECT_FALSE(Exists(dst + "/which"));
}

TEST_F(MountTest, ReadWriteBindOfAFileAndMissingSource) {
  const std::string src = s_ / "file", dst = s_ / "target";
  ASSERT_TRUE(WriteFileAtomic(src, "content").ok());
  ASSERT_TRUE(WriteFileAtomic(dst, "").ok());
  ASSERT_TRUE(m_.BindMount(src, dst, false).ok());
  EXPECT_EQ(*ReadFile(dst), "content");
  EXPECT_TRUE(*IsMountPoint(dst));
  ASSERT_TRUE(m_.Unmount(dst).ok());
  EXPECT_EQ(*ReadFile(dst), "");

  Status st = m_.BindMount(s_ / "missing", dst, false);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.message(),
            "bind mount " + (s_ / "missing") + " on " + dst + ": No such file or directory");
}

TEST_F(MountTest, UnmountOfNonMountPointOrMissingPathIsOk) {
  ASSERT_TRUE(MakeDirs(s_ / "plain").ok());
  EXPECT_TRUE(m_.Unmount(s_ / "plain").ok());
  EXPECT_TRUE(m_.Unmount(s_ / "does-not-exist").ok());
  EXPECT_TRUE(m_.Unmount(s_ / "does-not-exist", /*lazy=*/true).ok());
  EXPECT_FALSE(*IsMountPoint(s_ / "does-not-exist"));
}

TEST_F(MountTest, BusyUnmountFailsUnlessLazy) {
  const std::string dst = s_ / "busy";
  ASSERT_TRUE(MakeDirs(dst).ok());
  ASSERT_TRUE(m_.MountTmpfs(dst, 0, 0755).ok());
  int fd = ::open((dst + "/open").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  Status st = m_.Unmount(dst);
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_EQ(st.message(), "umount " + dst + ": Device or resource busy");
  EXPECT_TRUE(m_.Unmount(dst, /*lazy=*/true).ok());
  ::close(fd);
  EXPECT_FALSE(*IsMountPoint(dst));
}

TEST_F(MountTest, UnmountAllUnderTakesNestedAndStackedMountsDeepestFirst) {
  const std::string a = s_ / "a";
  ASSERT_TRUE(MakeDirs(a).ok());
  ASSERT_TRUE(m_.MountTmpfs(a, 0, 0755).ok());
  ASSERT_TRUE(MakeDirs(a + "/b/c").ok());
  ASSERT_TRUE(m_.MountTmpfs(a + "/b/c", 0, 0755).ok());
  ASSERT_TRUE(MakeDirs(s_ / "src").ok());
  ASSERT_TRUE(m_.BindMount(s_ / "src", a + "/b", false).ok());  // covers b/c: c is hidden
  auto under = MountsUnder(s_.path());
  ASSERT_TRUE(under.ok());
  ASSERT_EQ(under->size(), 3u);
  EXPECT_EQ((*under)[0].mountPoint, a + "/b/c");
  EXPECT_EQ((*under)[1].mountPoint, a + "/b");
  EXPECT_EQ((*under)[2].mountPoint, a);
  ASSERT_TRUE(m_.UnmountAllUnder(s_.path()).ok());
  EXPECT_TRUE(MountsUnder(s_.path())->empty());
}

TEST_F(MountTest, MountFilesystemWithFlagOptions) {
  const std::string dst = s_ / "fs";
  ASSERT_TRUE(MakeDirs(dst).ok());
  ASSERT_TRUE(m_.MountFilesystem("none", dst, "tmpfs", "noexec,nosuid,size=2m", true).ok());
  auto under = MountsUnder(dst);
  ASSERT_TRUE(under.ok());
  ASSERT_EQ(under->size(), 1u);
  EXPECT_TRUE((*under)[0].readOnly());
  EXPECT_THAT((*under)[0].options, HasSubstr("nosuid"));
  EXPECT_THAT((*under)[0].options, HasSubstr("noexec"));
  EXPECT_THAT((*under)[0].superOptions, HasSubstr("size=2048k"));
  EXPECT_EQ((*under)[0].source, "none");
  // Same source again: OK, nothing added.
  ASSERT_TRUE(m_.MountFilesystem("none", dst, "tmpfs", "size=2m", true).ok());
  EXPECT_EQ(MountsUnder(dst)->size(), 1u);
  Status st = m_.MountFilesystem(s_ / "no-device", s_ / "fs", "ext4", "", false);
  EXPECT_EQ(st.code(), Code::kNotFound);
}

}  // namespace
}  // namespace kvol::os
