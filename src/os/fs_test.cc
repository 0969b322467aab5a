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

using testing::Scratch;

unsigned ModeOf(const std::string& p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

TEST(FsTest, MakeDirsSetsModeIgnoringUmaskAndLeavesExistingAlone) {
  Scratch s;
  ASSERT_TRUE(MakeDirs(s / "pre", 0700).ok());
  const mode_t old = ::umask(077);
  Status st = MakeDirs(s / "pre/a/b/c", 0775);
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ModeOf(s / "pre"), 0700u);
  EXPECT_EQ(ModeOf(s / "pre/a"), 0775u);
  EXPECT_EQ(ModeOf(s / "pre/a/b/c"), 0775u);
  EXPECT_TRUE(MakeDirs(s / "pre/a/b/c/").ok());  // exists: OK
  ASSERT_TRUE(WriteFileAtomic(s / "file", "x").ok());
  st = MakeDirs(s / "file/sub");
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_EQ(st.message(), "mkdir " + (s / "file") + ": Not a directory");
}

TEST(FsTest, WriteFileAtomicReplacesWithModeAndLeavesNoTemp) {
  Scratch s;
  const std::string p = s / "config.json";
  ASSERT_TRUE(WriteFileAtomic(p, "one", 0600).ok());
  EXPECT_EQ(*ReadFile(p), "one");
  EXPECT_EQ(ModeOf(p), 0600u);
  ASSERT_TRUE(WriteFileAtomic(p, std::string(200000, 'z'), 0640).ok());
  EXPECT_EQ(ReadFile(p)->size(), 200000u);
  EXPECT_EQ(ModeOf(p), 0640u);
  // Only the file itself is in the directory.
  ASSERT_TRUE(RemoveTreeOneFs(p).ok());
  EXPECT_TRUE(::rmdir(s.path().c_str()) == 0) << "a temporary file was left behind";
  ASSERT_TRUE(MakeDirs(s.path(), 0700).ok());
  Status st = WriteFileAtomic(s / "missing-dir/f", "x");
  EXPECT_EQ(st.code(), Code::kNotFound);
}

TEST(FsTest, ReplaceFileReplacesWithModeAndLeavesNoTemp) {
  Scratch s;
  const std::string p = s / "vol_data.json";
  ASSERT_TRUE(ReplaceFile(p, "{}", 0600).ok());
  ASSERT_TRUE(ReplaceFile(p, "{\"a\":1}").ok());
  EXPECT_EQ(*ReadFile(p), "{\"a\":1}");
  EXPECT_EQ(ModeOf(p), 0644u);
  ASSERT_TRUE(RemoveTreeOneFs(p).ok());
  EXPECT_TRUE(::rmdir(s.path().c_str()) == 0) << "a temporary file was left behind";
  ASSERT_TRUE(MakeDirs(s.path(), 0700).ok());
  EXPECT_EQ(ReplaceFile(s / "missing-dir/f", "x").code(), Code::kNotFound);
}

TEST(FsTest, ReadFileMissingIsNotFound) {
  Scratch s;
  auto r = ReadFile(s / "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "open " + (s / "nope") + ": No such file or directory");
}

TEST(FsTest, MakeSparseFileExtendsButNeverShrinks) {
  Scratch s;
  const std::string p = s / "img";
  ASSERT_TRUE(MakeSparseFile(p, 64 << 20).ok());
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);  // sparse
  ASSERT_TRUE(MakeSparseFile(p, 16 << 20).ok());
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64 << 20);
  ASSERT_TRUE(MakeSparseFile(p, 128 << 20).ok());
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 128 << 20);
  EXPECT_EQ(MakeSparseFile(p, -1).code(), Code::kInvalid);
}

TEST(FsTest, ExistsSeesDanglingSymlinks) {
  Scratch s;
  ASSERT_EQ(::symlink("/nonexistent/target", (s / "dangling").c_str()), 0);
  EXPECT_TRUE(Exists(s / "dangling"));
  EXPECT_FALSE(Exists(s / "nothing"));
}

TEST(RemoveTreeOneFsTest, RemovesTreeWithoutFollowingSymlinksOut) {
  Scratch s;
  const std::string outside = s / "outside";
  ASSERT_TRUE(MakeDirs(outside + "/keepdir").ok());
  ASSERT_TRUE(WriteFileAtomic(outside + "/keep", "precious").ok());
  ASSERT_TRUE(WriteFileAtomic(outside + "/keepdir/inner", "precious too").ok());
  const std::string root = s / "pod";
  ASSERT_TRUE(MakeDirs(root + "/a/b/c").ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/a/b/c/f", "x").ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/top", "y").ok());
  ASSERT_EQ(::symlink(outside.c_str(), (root + "/a/to-dir").c_str()), 0);
  ASSERT_EQ(::symlink((outside + "/keep").c_str(), (root + "/a/b/to-file").c_str()), 0);
  ASSERT_EQ(::symlink("../../outside", (root + "/rel").c_str()), 0);
  ASSERT_EQ(::chmod((root + "/a/b").c_str(), 0), 0);  // unreadable dirs go too (as root)

  Status st = RemoveTreeOneFs(root);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(Exists(root));
  EXPECT_EQ(*ReadFile(outside + "/keep"), "precious");
  EXPECT_EQ(*ReadFile(outside + "/keepdir/inner"), "precious too");
  EXPECT_TRUE(RemoveTreeOneFs(root).ok());  // missing: OK
}

TEST(RemoveTreeOneFsTest, RootThatIsASymlinkRemovesOnlyTheLink) {
  Scratch s;
  ASSERT_TRUE(MakeDirs(s / "real").ok());
  ASSERT_TRUE(WriteFileAtomic(s / "real/f", "x").ok());
  ASSERT_EQ(::symlink((s / "real").c_str(), (s / "link").c_str()), 0);
  ASSERT_TRUE(RemoveTreeOneFs(s / "link").ok());
  EXPECT_FALSE(Exists(s / "link"));
  EXPECT_EQ(*ReadFile(s / "real/f"), "x");
}

TEST(RemoveTreeOneFsTest, RefusesAndTouchesNothingWhenAMountIsBelow) {
  Scratch s;
  const std::string root = s / "pod";
  const std::string vol = root + "/volumes/v";
  ASSERT_TRUE(MakeDirs(vol).ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/aaa-first", "beside").ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/volumes/zzz-beside", "beside too").ok());
  ASSERT_TRUE(RealMounter().MountTmpfs(vol, 1 << 20, 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(vol + "/data", "volume data").ok());

  Status st = RemoveTreeOneFs(root);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.message(),
            "refusing to remove " + root + ": a mount point (another filesystem) is below it");
  EXPECT_EQ(*ReadFile(vol + "/data"), "volume data");
  EXPECT_EQ(*ReadFile(root + "/aaa-first"), "beside");
  EXPECT_EQ(*ReadFile(root + "/volumes/zzz-beside"), "beside too");

  // A same-filesystem bind (st_dev cannot tell) is refused too.
  ASSERT_TRUE(RealMounter().Unmount(vol).ok());
  ASSERT_TRUE(MakeDirs(s / "elsewhere").ok());
  ASSERT_TRUE(WriteFileAtomic(s / "elsewhere/x", "bound").ok());
  ASSERT_TRUE(RealMounter().BindMount(s / "elsewhere", vol, false).ok());
  EXPECT_EQ(RemoveTreeOneFs(root).code(), Code::kConflict);
  EXPECT_EQ(*ReadFile(s / "elsewhere/x"), "bound");
  EXPECT_EQ(*ReadFile(root + "/aaa-first"), "beside");

  ASSERT_TRUE(RealMounter().Unmount(vol).ok());
  EXPECT_TRUE(RemoveTreeOneFs(root).ok());
  EXPECT_FALSE(Exists(root));
  EXPECT_EQ(*ReadFile(s / "elsewhere/x"), "bound");
}

TEST(RemoveTreeOneFsTest, RefusesWhenRootItselfIsAMountPoint) {
  Scratch s;
  const std::string root = s / "vol";
  ASSERT_TRUE(MakeDirs(root).ok());
  ASSERT_TRUE(RealMounter().MountTmpfs(root, 1 << 20, 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/data", "keep").ok());
  EXPECT_EQ(RemoveTreeOneFs(root).code(), Code::kConflict);
  EXPECT_EQ(*ReadFile(root + "/data"), "keep");
}

}  // namespace
}  // namespace kvol::os
