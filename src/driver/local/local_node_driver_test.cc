// kvol.io/local node half on real bind mounts: publish, read-only publish, idempotence, errors,
// unpublish leaving the volume's data.
#include "src/driver/local/local_node_driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/os/test_scratch.h"

namespace kvol::driver {
namespace {

class LocalNodeDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(s_.path().empty());
    ASSERT_TRUE(os::MakeDirs(s_.path() + "/local/pv-1").ok());
    ASSERT_TRUE(os::WriteFileAtomic(s_.path() + "/local/pv-1/data", "d").ok());
  }
  NodePublishRequest Req(const std::string& id, bool readOnly = false) {
    NodePublishRequest r;
    r.volumeId = id;
    r.targetPath = target_;
    r.readOnly = readOnly;
    return r;
  }
  size_t Mounts() {
    auto m = os::MountsUnder(s_.path());
    return m.ok() ? m->size() : 0;
  }

  os::testing::Scratch s_;
  LocalNodeDriver d_{s_.path()};
  std::string target_ = s_.path() + "/pods/u1/volumes/kubernetes.io~csi/pv-1/mount";
};

TEST_F(LocalNodeDriverTest, PublishBindsTheVolumeDirectoryAndUnpublishRemovesTheTarget) {
  EXPECT_EQ(d_.Name(), "kvol.io/local");
  EXPECT_FALSE(d_.NeedsStaging());
  ASSERT_TRUE(d_.NodePublishVolume(Req("pv-1")).ok());
  EXPECT_TRUE(*os::IsMountPoint(target_));
  EXPECT_EQ(*os::ReadFile(target_ + "/data"), "d");
  ASSERT_TRUE(os::WriteFileAtomic(target_ + "/new", "n").ok());
  EXPECT_EQ(*os::ReadFile(s_.path() + "/local/pv-1/new"), "n");
  ASSERT_TRUE(d_.NodePublishVolume(Req("pv-1")).ok());  // idempotent
  EXPECT_EQ(Mounts(), 1u);

  ASSERT_TRUE(d_.NodeUnpublishVolume("pv-1", target_).ok());
  EXPECT_EQ(Mounts(), 0u);
  EXPECT_FALSE(os::Exists(target_));
  EXPECT_EQ(*os::ReadFile(s_.path() + "/local/pv-1/data"), "d");
  EXPECT_TRUE(d_.NodeUnpublishVolume("pv-1", target_).ok());  // nothing there: OK
}

TEST_F(LocalNodeDriverTest, ReadOnlyPublishRefusesWrites) {
  ASSERT_TRUE(d_.NodePublishVolume(Req("pv-1", true)).ok());
  int fd = ::open((target_ + "/x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int err = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(err, EROFS);
  ASSERT_TRUE(d_.NodeUnpublishVolume("pv-1", target_).ok());
}

TEST_F(LocalNodeDriverTest, MissingVolumeBadIdAndBlockAreRefused) {
  Status missing = d_.NodePublishVolume(Req("pv-2"));
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "kvol.io/local: volume \"pv-2\" not found (" + s_.path() +
                                   "/local/pv-2 does not exist on this node)");
  EXPECT_FALSE(os::Exists(target_));
  EXPECT_EQ(d_.NodePublishVolume(Req("../etc")).code(), Code::kInvalid);
  NodePublishRequest b = Req("pv-1");
  b.block = true;
  EXPECT_EQ(d_.NodePublishVolume(b).code(), Code::kInvalid);
  EXPECT_EQ(Mounts(), 0u);
}

}  // namespace
}  // namespace kvol::driver
