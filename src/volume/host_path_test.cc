// hostPath: the kubelet's type checks with its messages, --allowed-host-paths by whole components,
// symlink escapes refused, and TearDown leaving the host's data alone.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvol/os/fs.h"
#include "kvol/volume/plugin.h"
#include "src/os/test_scratch.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

class HostPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(s_.path().empty());
    node_.dataDir = s_.path() + "/kvol";
    pod_.metadata.uid = "uid-1";
    plugin_ = NewHostPathPlugin();
  }

  Result<MountedVolume> Set(const std::string& path, std::optional<std::string> type = {}) {
    api::Volume v;
    v.name = "host";
    v.hostPath.emplace();
    v.hostPath->path = path;
    v.hostPath->type = std::move(type);
    VolumeRequest r;
    r.pod = &pod_;
    r.volume = &v;
    r.podDir = node_.dataDir + "/pods/uid-1";
    r.node = &node_;
    return plugin_->SetUp(r);
  }

  std::string P(const std::string& rel) const { return s_.path() + "/" + rel; }

  os::testing::Scratch s_;
  NodeContext node_;
  api::Pod pod_;
  std::unique_ptr<Plugin> plugin_;
};

unsigned ModeOf(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST_F(HostPathTest, NoTypeMeansNoChecksAndNothingOnDisk) {
  auto mv = Set(P("missing"));
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->pluginDir, "");
  EXPECT_EQ(mv->hostPath, P("missing"));
  EXPECT_FALSE(os::Exists(P("missing")));
  EXPECT_FALSE(os::Exists(node_.dataDir));
  EXPECT_EQ(plugin_->PluginDir(), "");
}

TEST_F(HostPathTest, DirectoryOrCreateMakesTheTree0755) {
  auto mv = Set(P("a/b/c"), "DirectoryOrCreate");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(ModeOf(P("a/b/c")), 0755u);
  EXPECT_EQ(mv->hostPath, P("a/b/c"));
  ASSERT_TRUE(Set(P("a/b/c"), "DirectoryOrCreate").ok());  // existing: fine
  ASSERT_TRUE(os::WriteFileAtomic(P("f"), "x").ok());
  auto st = Set(P("f"), "DirectoryOrCreate");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().message(), "hostPath type check failed: " + P("f") + " is not a directory");
}

TEST_F(HostPathTest, DirectoryMustExistAndBeADirectory) {
  auto missing = Set(P("nope"), "Directory");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kUnavailable);
  EXPECT_EQ(missing.status().message(),
            "hostPath type check failed: " + P("nope") + " does not exist");
  ASSERT_TRUE(os::WriteFileAtomic(P("f"), "x").ok());
  EXPECT_EQ(Set(P("f"), "Directory").status().message(),
            "hostPath type check failed: " + P("f") + " is not a directory");
  ASSERT_TRUE(os::MakeDirs(P("d")).ok());
  EXPECT_TRUE(Set(P("d"), "Directory").ok());
}

TEST_F(HostPathTest, FileOrCreateMakesParentsAndAnEmptyFile0644) {
  auto mv = Set(P("x/y/file"), "FileOrCreate");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(ModeOf(P("x/y/file")), 0644u);
  EXPECT_EQ(*os::ReadFile(P("x/y/file")), "");
  ASSERT_TRUE(os::WriteFileAtomic(P("x/y/file"), "data").ok());
  ASSERT_TRUE(Set(P("x/y/file"), "FileOrCreate").ok());
  EXPECT_EQ(*os::ReadFile(P("x/y/file")), "data");  // never truncated
  EXPECT_EQ(Set(P("x/y"), "FileOrCreate").status().message(),
            "hostPath type check failed: " + P("x/y") + " is not a file");
}

TEST_F(HostPathTest, FileSocketCharAndBlockDeviceChecks) {
  EXPECT_EQ(Set(P("nofile"), "File").status().message(),
            "hostPath type check failed: " + P("nofile") + " does not exist");
  ASSERT_TRUE(os::WriteFileAtomic(P("f"), "x").ok());
  EXPECT_TRUE(Set(P("f"), "File").ok());

  EXPECT_EQ(Set(P("f"), "Socket").status().message(),
            "hostPath type check failed: " + P("f") + " is not a socket file");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sp = P("sock");
  ASSERT_LT(sp.size(), sizeof(addr.sun_path));
  std::copy(sp.begin(), sp.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_TRUE(Set(sp, "Socket").ok());
  ::close(fd);

  EXPECT_EQ(Set(P("f"), "CharDevice").status().message(),
            "hostPath type check failed: " + P("f") + " is not a character device");
  EXPECT_TRUE(Set("/dev/null", "CharDevice").ok());
  EXPECT_EQ(Set("/dev/null", "BlockDevice").status().message(),
            "hostPath type check failed: /dev/null is not a block device");
  ASSERT_EQ(::mknod(P("blk").c_str(), S_IFBLK | 0600, makedev(7, 200)), 0);
  EXPECT_TRUE(Set(P("blk"), "BlockDevice").ok());

  auto bad = Set(P("f"), "Weird");
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  EXPECT_EQ(bad.status().message(), "Weird is an invalid volume type");
}

TEST_F(HostPathTest, AllowedPrefixesCompareWholeComponents) {
  node_.allowedHostPaths = {P("data"), P("srv")};
  ASSERT_TRUE(os::MakeDirs(P("data/x")).ok());
  ASSERT_TRUE(os::MakeDirs(P("database")).ok());
  EXPECT_TRUE(Set(P("data/x"), "Directory").ok());
  EXPECT_TRUE(Set(P("data"), "Directory").ok());
  EXPECT_TRUE(Set(P("srv/new"), "DirectoryOrCreate").ok());
  EXPECT_TRUE(Set(s_.path() + "//data/./x/").ok());  // lexically cleaned

  auto refused = Set(P("database"), "Directory");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "hostPath \"" + P("database") +
                                            "\" is not under an allowed prefix "
                                            "(--allowed-host-paths: " +
                                            P("data") + "," + P("srv") + ")");
  EXPECT_EQ(Set("/etc").status().message(),
            "hostPath \"/etc\" is not under an allowed prefix (--allowed-host-paths: " + P("data") +
                "," + P("srv") + ")");
  EXPECT_EQ(Set("/etc").status().code(), PermissionDenied("").code());

  // Nothing was created outside the prefixes by a refused DirectoryOrCreate.
  EXPECT_FALSE(Set(P("elsewhere/new"), "DirectoryOrCreate").ok());
  EXPECT_FALSE(os::Exists(P("elsewhere")));
}

TEST_F(HostPathTest, DotDotAndRelativePathsAreRefused) {
  node_.allowedHostPaths = {P("data")};
  auto dd = Set(P("data/../etc"));
  EXPECT_EQ(dd.status().code(), Code::kInvalid);
  EXPECT_EQ(dd.status().message(), "hostPath \"" + P("data/../etc") + "\" must not contain '..'");
  EXPECT_EQ(Set("data/x").status().message(), "hostPath \"data/x\" must be an absolute path");
}

TEST_F(HostPathTest, SymlinkUnderAnAllowedPrefixPointingOutsideIsRefused) {
  node_.allowedHostPaths = {P("data")};
  ASSERT_TRUE(os::MakeDirs(P("data")).ok());
  ASSERT_TRUE(os::MakeDirs(P("secret")).ok());
  ASSERT_EQ(::symlink(P("secret").c_str(), P("data/link").c_str()), 0);
  auto mv = Set(P("data/link"), "Directory");
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().message(), "hostPath \"" + P("data/link") + "\" (resolves to \"" +
                                       P("secret") +
                                       "\") is not under an allowed prefix "
                                       "(--allowed-host-paths: " +
                                       P("data") + ")");
  // Also through the link to a path that does not exist yet: nothing is created outside.
  EXPECT_FALSE(Set(P("data/link/new"), "DirectoryOrCreate").ok());
  EXPECT_FALSE(os::Exists(P("secret/new")));
  // A dangling symlink is refused rather than created through.
  ASSERT_EQ(::symlink(P("gone").c_str(), P("data/dangling").c_str()), 0);
  EXPECT_FALSE(Set(P("data/dangling/x"), "DirectoryOrCreate").ok());
  EXPECT_FALSE(os::Exists(P("gone")));
  // A symlink that stays inside is fine, and the volume is its target.
  ASSERT_TRUE(os::MakeDirs(P("data/real")).ok());
  ASSERT_EQ(::symlink(P("data/real").c_str(), P("data/inner").c_str()), 0);
  auto ok = Set(P("data/inner"), "Directory");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->hostPath, P("data/real"));
}

TEST_F(HostPathTest, TearDownNeverDeletes) {
  ASSERT_TRUE(os::MakeDirs(P("keep")).ok());
  ASSERT_TRUE(os::WriteFileAtomic(P("keep/file"), "x").ok());
  ASSERT_TRUE(Set(P("keep"), "Directory").ok());
  EXPECT_TRUE(plugin_->TearDown(node_, node_.dataDir + "/pods/uid-1", "host").ok());
  EXPECT_EQ(*os::ReadFile(P("keep/file")), "x");
}

}  // namespace
}  // namespace kvol::volume
