#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/os/safe_path.h"
#include "src/os/test_scratch.h"

namespace kvol::os {
namespace {

using testing::Scratch;

class SafePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(vol_ + "/a/b").ok());
    ASSERT_TRUE(WriteFileAtomic(vol_ + "/a/b/file", "inside").ok());
    ASSERT_TRUE(MakeDirs(s_ / "secret").ok());
    ASSERT_TRUE(WriteFileAtomic(s_ / "secret/key", "outside").ok());
  }
  Scratch s_;
  const std::string vol_ = s_ / "vol";
};

TEST_F(SafePathTest, OpensNestedDirectoryAndFile) {
  auto d = OpenBeneath(vol_, "a/b", false);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  struct stat st, want;
  ASSERT_EQ(::fstat(d->get(), &st), 0);
  ASSERT_EQ(::stat((vol_ + "/a/b").c_str(), &want), 0);
  EXPECT_EQ(st.st_ino, want.st_ino);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  auto f = OpenBeneath(vol_, "./a//b/file", false);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(::fstat(f->get(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_TRUE(fcntl(f->get(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(SafePathTest, RefusesASymlinkComponentPointingOutside) {
  ASSERT_EQ(::symlink((s_ / "secret").c_str(), (vol_ + "/a/evil").c_str()), 0);
  auto r = OpenBeneath(vol_, "a/evil/key", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kForbidden);
  EXPECT_EQ(r.status().message(),
            "subPath 'a/evil/key' goes through the symlink 'a/evil' inside the volume");
  // Also with createDirs: nothing is created outside.
  r = OpenBeneath(vol_, "a/evil/new/dir", true);
  EXPECT_EQ(r.status().code(), Code::kForbidden);
  EXPECT_FALSE(Exists(s_ / "secret/new"));
}

TEST_F(SafePathTest, RefusesASymlinkEvenWhenItPointsInsideOrIsTheLastComponent) {
  ASSERT_EQ(::symlink("b", (vol_ + "/a/inner").c_str()), 0);
  auto r = OpenBeneath(vol_, "a/inner", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kForbidden);
  EXPECT_EQ(r.status().message(),
            "subPath 'a/inner' goes through the symlink 'a/inner' inside the volume");
  ASSERT_EQ(::symlink("../../secret/key", (vol_ + "/keylink").c_str()), 0);
  EXPECT_EQ(OpenBeneath(vol_, "keylink", false).status().code(), Code::kForbidden);
}

TEST_F(SafePathTest, RefusesDotDotAndAbsolutePaths) {
  for (const char* bad : {"..", "../secret", "a/../../secret", "a/b/..", "/etc", "/"}) {
    auto r = OpenBeneath(vol_, bad, true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalid) << bad;
    EXPECT_EQ(r.status().message(), "subPath must be a relative path without '..'");
  }
  EXPECT_TRUE(OpenBeneath(vol_, "a/..b", false).status().IsNotFound());  // a name, not ".."
}

TEST_F(SafePathTest, MissingIsNotFoundUnlessCreatingDirs) {
  auto r = OpenBeneath(vol_, "a/x/y", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(),
            "subPath 'a/x/y' does not exist: 'a/x' is missing inside the volume");
  EXPECT_FALSE(Exists(vol_ + "/a/x"));

  const mode_t old = ::umask(077);
  r = OpenBeneath(vol_, "a/x/y", true);
  ::umask(old);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat((vol_ + "/a/x/y").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_TRUE(OpenBeneath(vol_, "a/x/y", true).ok());  // again: opens what exists
}

TEST_F(SafePathTest, FileInTheMiddleIsInvalid) {
  auto r = OpenBeneath(vol_, "a/b/file/more", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
}

TEST_F(SafePathTest, BindMountFdBindsTheOpenedDirectoryReadOnly) {
  auto d = OpenBeneath(vol_, "a/b", false);
  ASSERT_TRUE(d.ok());
  const std::string target = s_ / "target";
  ASSERT_TRUE(MakeDirs(target).ok());
  // Swapping the path after the open does not change what gets mounted.
  ASSERT_EQ(::rename((vol_ + "/a/b").c_str(), (vol_ + "/a/moved").c_str()), 0);
  ASSERT_EQ(::symlink((s_ / "secret").c_str(), (vol_ + "/a/b").c_str()), 0);
  Status st = BindMountFd(*d, target, /*readOnly=*/true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(*IsMountPoint(target));
  EXPECT_EQ(*ReadFile(target + "/file"), "inside");
  EXPECT_FALSE(Exists(target + "/key"));
  int fd = ::open((target + "/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
  ASSERT_TRUE(RealMounter().Unmount(target).ok());

  // A file, read-write.
  auto f = OpenBeneath(vol_, "a/moved/file", false);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(WriteFileAtomic(s_ / "filetarget", "").ok());
  ASSERT_TRUE(BindMountFd(*f, s_ / "filetarget", false).ok());
  EXPECT_EQ(*ReadFile(s_ / "filetarget"), "inside");
  ASSERT_TRUE(RealMounter().Unmount(s_ / "filetarget").ok());
}

TEST(FdTest, ClosesOnDestructionAndMoves) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    Fd a(raw);
    Fd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), raw);
    Fd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_NE(::fcntl(raw, F_GETFD), -1);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
}

}  // namespace
}  // namespace kvol::os
