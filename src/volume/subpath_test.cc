// subPath: $(VAR) expansion as Kubernetes does it, real binds at the kubelet's volume-subpaths
// path, symlink escapes refused, cleanup leaving the volume's data.
#include "kvol/volume/subpath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/os/test_scratch.h"

namespace kvol::volume {
namespace {

TEST(ExpandSubPathExprTest, KubernetesExpansionRules) {
  std::map<std::string, std::string> env = {{"POD_NAME", "web-0"}, {"NS", "prod"}};
  auto x = [&](const std::string& e) {
    auto r = ExpandSubPathExpr(e, env);
    return r.ok() ? *r : "ERROR: " + r.status().message();
  };
  EXPECT_EQ(x("$(POD_NAME)/logs"), "web-0/logs");
  EXPECT_EQ(x("$(NS)-$(POD_NAME)"), "prod-web-0");
  EXPECT_EQ(x("$$(POD_NAME)"), "$(POD_NAME)");   // $$ escapes
  EXPECT_EQ(x("$(UNKNOWN)/x"), "$(UNKNOWN)/x");  // an unknown reference stays
  EXPECT_EQ(x("a$(POD_NAME"), "a$(POD_NAME");    // unterminated: as written
  EXPECT_EQ(x("a$b$"), "a$b$");
  EXPECT_EQ(x("plain"), "plain");
  EXPECT_EQ(x(""), "");
}

TEST(ExpandSubPathExprTest, ResultMustStayRelativeWithoutDotDot) {
  std::map<std::string, std::string> env = {{"ABS", "/etc"}, {"UP", ".."}, {"DOTS", "..x"}};
  auto abs = ExpandSubPathExpr("$(ABS)/passwd", env);
  EXPECT_EQ(abs.status().code(), Code::kInvalid);
  EXPECT_EQ(abs.status().message(),
            "subPathExpr \"$(ABS)/passwd\" expands to \"/etc/passwd\": must not be an absolute "
            "path");
  auto up = ExpandSubPathExpr("a/$(UP)/$(UP)", env);
  EXPECT_EQ(up.status().message(),
            "subPathExpr \"a/$(UP)/$(UP)\" expands to \"a/../..\": must not contain '..'");
  EXPECT_TRUE(ExpandSubPathExpr("$(DOTS)/y", env).ok());  // "..x" is a name, not a backstep
}

class SubPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(s_.path().empty());
    vol_ = s_.path() + "/vol";
    podDir_ = s_.path() + "/pods/u1";
    ASSERT_TRUE(os::MakeDirs(vol_ + "/a/b").ok());
    ASSERT_TRUE(os::MakeDirs(podDir_).ok());
  }
  std::string Target(int i) const {
    return podDir_ + "/volume-subpaths/data/app/" + std::to_string(i);
  }
  size_t MountCount(const std::string& dir) {
    auto m = os::MountsUnder(dir);
    return m.ok() ? m->size() : 0;
  }

  os::testing::Scratch s_;
  os::Mounter& m_ = os::RealMounter();
  std::string vol_, podDir_;
};

TEST_F(SubPathTest, DirectoryIsBoundIdempotentlyAndCleanedUp) {
  auto t = PrepareSubPath(m_, podDir_, vol_, "a/b", "data", "app", 0, false);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, Target(0));
  EXPECT_TRUE(*os::IsMountPoint(*t));
  ASSERT_TRUE(os::WriteFileAtomic(*t + "/through-bind", "hi").ok());
  EXPECT_EQ(*os::ReadFile(vol_ + "/a/b/through-bind"), "hi");

  auto again = PrepareSubPath(m_, podDir_, vol_, "a/b", "data", "app", 0, false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *t);
  EXPECT_EQ(MountCount(podDir_), 1u);

  // A missing directory is created (writable volume), and a file subPath binds onto a file.
  auto created = PrepareSubPath(m_, podDir_, vol_, "new/dir", "data", "app", 1, false);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(os::Exists(vol_ + "/new/dir"));
  ASSERT_TRUE(os::WriteFileAtomic(vol_ + "/conf", "x=1").ok());
  auto file = PrepareSubPath(m_, podDir_, vol_, "conf", "data", "app", 2, false);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*os::ReadFile(*file), "x=1");

  ASSERT_TRUE(CleanupSubPaths(m_, podDir_).ok());
  EXPECT_EQ(MountCount(podDir_), 0u);
  EXPECT_FALSE(os::Exists(podDir_ + "/volume-subpaths"));
  EXPECT_EQ(*os::ReadFile(vol_ + "/a/b/through-bind"), "hi");  // the volume's data stays
  EXPECT_EQ(*os::ReadFile(vol_ + "/conf"), "x=1");
  EXPECT_TRUE(CleanupSubPaths(m_, podDir_).ok());  // nothing there: OK
}

TEST_F(SubPathTest, ReadOnlyBindRefusesWritesAndCreatesNothing) {
  auto t = PrepareSubPath(m_, podDir_, vol_, "a", "data", "app", 0, true);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  int fd = ::open((*t + "/x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int err = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(err, EROFS);
  auto missing = PrepareSubPath(m_, podDir_, vol_, "not/there", "data", "app", 1, true);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_FALSE(os::Exists(vol_ + "/not"));
  ASSERT_TRUE(CleanupSubPaths(m_, podDir_).ok());
}

TEST_F(SubPathTest, SymlinkPointingOutsideIsRefused) {
  ASSERT_TRUE(os::MakeDirs(s_.path() + "/outside").ok());
  ASSERT_TRUE(os::WriteFileAtomic(s_.path() + "/outside/secret", "s").ok());
  ASSERT_EQ(::symlink((s_.path() + "/outside").c_str(), (vol_ + "/escape").c_str()), 0);
  ASSERT_EQ(::symlink("../../outside", (vol_ + "/a/rel").c_str()), 0);
  for (const std::string sp : {"escape", "escape/secret", "a/rel", "a/rel/new"}) {
    auto t = PrepareSubPath(m_, podDir_, vol_, sp, "data", "app", 0, false);
    ASSERT_FALSE(t.ok()) << sp;
    EXPECT_EQ(t.status().code(), Code::kForbidden) << sp;
    EXPECT_NE(t.status().message().find("subPath '" + sp + "'"), std::string::npos)
        << t.status().message();
  }
  EXPECT_EQ(MountCount(podDir_), 0u);
  EXPECT_FALSE(os::Exists(s_.path() + "/outside/new"));
  auto dotdot = PrepareSubPath(m_, podDir_, vol_, "../outside", "data", "app", 0, false);
  EXPECT_EQ(dotdot.status().code(), Code::kInvalid);
  ASSERT_TRUE(CleanupSubPaths(m_, podDir_).ok());
}

}  // namespace
}  // namespace kvol::volume
