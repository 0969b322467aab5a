#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "gtest/gtest.h"
#include "kvol/api/defaults.h"
#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"
#include "src/volume/projected_test_util.h"

namespace kvol::volume {
namespace {

using testing::Env;
using testing::LinkOf;
using testing::ModeOf;
using testing::Slurp;

bool OnTmpfs(const std::string& path) {
  struct statfs sfs;
  return statfs(path.c_str(), &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
}

size_t MountCount(const std::string& dir) {
  auto mounts = os::MountsUnder(dir);
  return mounts.ok() ? mounts->size() : 999;
}

class SecretVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env_.scratch.path().empty());
    env_.volume.name = "creds";
    env_.volume.secret.emplace();
    env_.volume.secret->secretName = "db";
    env_.objects.Put("secrets", "default", "db",
                     {{"type", "Opaque"},
                      {"data",
                       {{"password", api::Base64Encode("s3cr3t")},
                        {"key.bin", api::Base64Encode(std::string("\xff\0\n", 3))}}}});
  }
  std::string Dir() const { return env_.podDir + "/volumes/kubernetes.io~secret/creds"; }

  Env env_;
  std::unique_ptr<Plugin> plugin_ = NewSecretPlugin();
};

TEST_F(SecretVolumeTest, DecodedKeysOnATmpfs) {
  EXPECT_EQ(plugin_->PluginDir(), "kubernetes.io~secret");
  EXPECT_TRUE(plugin_->CanHandle(env_.volume));
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->hostPath, Dir());
  EXPECT_EQ(mv->dirName, "creds");
  EXPECT_TRUE(mv->readOnly);
  EXPECT_TRUE(OnTmpfs(Dir()));
  EXPECT_TRUE(OnTmpfs(Dir() + "/..data/password"));
  EXPECT_EQ(ModeOf(Dir()), 0755u);
  EXPECT_EQ(Slurp(Dir() + "/password"), "s3cr3t");
  EXPECT_EQ(Slurp(Dir() + "/key.bin"), std::string("\xff\0\n", 3));
  EXPECT_EQ(ModeOf(Dir() + "/password"), 0644u);
  EXPECT_EQ(LinkOf(Dir() + "/password"), "..data/password");

  auto mounts = os::MountsUnder(Dir());
  ASSERT_TRUE(mounts.ok());
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].fsType, "tmpfs");
  EXPECT_NE((*mounts)[0].superOptions.find("size="), std::string::npos)
      << (*mounts)[0].superOptions;
}

TEST_F(SecretVolumeTest, ModesItemsAndStringData) {
  env_.volume.secret->defaultMode = 0400;
  env_.volume.secret->items = {{"password", "db/password", 0440}, {"user", "user", {}}};
  env_.objects.Put("secrets", "default", "db",
                   {{"data", {{"password", api::Base64Encode("old")}}},
                    {"stringData", {{"password", "plain"}, {"user", "admin"}}}});
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(Slurp(Dir() + "/db/password"), "plain");
  EXPECT_EQ(ModeOf(Dir() + "/db/password"), 0440u);
  EXPECT_EQ(Slurp(Dir() + "/user"), "admin");
  EXPECT_EQ(ModeOf(Dir() + "/user"), 0400u);
  EXPECT_FALSE(os::Exists(Dir() + "/key.bin"));
}

TEST_F(SecretVolumeTest, MissingSecretOrKeyWaitsUnlessOptionalAndMountsNothing) {
  env_.volume.secret->secretName = "absent";
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kUnavailable);
  EXPECT_EQ(mv.status().message(), "secret \"absent\" not found");
  EXPECT_FALSE(os::Exists(Dir()));
  EXPECT_EQ(MountCount(env_.scratch.path()), 0u);

  env_.volume.secret->secretName = "db";
  env_.volume.secret->items = {{"nokey", "x", {}}};
  mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kUnavailable);
  EXPECT_EQ(mv.status().message(), "references non-existent secret key: nokey");

  env_.volume.secret->optional = true;
  mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_FALSE(os::Exists(Dir() + "/x"));
  EXPECT_TRUE(OnTmpfs(Dir()));
}

TEST_F(SecretVolumeTest, SetUpAgainKeepsOneMountAndUpdatesAtomically) {
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  std::string ts = LinkOf(Dir() + "/..data");
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_EQ(LinkOf(Dir() + "/..data"), ts);
  EXPECT_EQ(MountCount(Dir()), 1u);

  env_.objects.Put("secrets", "default", "db",
                   {{"data", {{"password", api::Base64Encode("new")}}}});
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_EQ(MountCount(Dir()), 1u);
  EXPECT_NE(LinkOf(Dir() + "/..data"), ts);
  EXPECT_EQ(Slurp(Dir() + "/password"), "new");
  EXPECT_FALSE(os::Exists(Dir() + "/key.bin"));
}

TEST_F(SecretVolumeTest, TearDownUnmountsAndRemoves) {
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  ASSERT_TRUE(plugin_->TearDown(env_.node, env_.podDir, "creds").ok());
  EXPECT_FALSE(os::Exists(Dir()));
  EXPECT_EQ(MountCount(env_.scratch.path()), 0u);
  EXPECT_TRUE(plugin_->TearDown(env_.node, env_.podDir, "creds").ok());
}

TEST_F(SecretVolumeTest, BadBase64IsAnInternalErrorNamingTheKey) {
  env_.objects.Put("secrets", "default", "db", {{"data", {{"password", "c2VjcmV0"}, {"k", "YQ"}}}});
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kInternal);
  EXPECT_EQ(mv.status().message(), "secret \"db\": data[k]: illegal base64 data at input byte 2");
}

TEST(Base64DecodeTest, StandardPaddedWithNewlines) {
  EXPECT_EQ(*Base64Decode(""), "");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_EQ(*Base64Decode("YWJj"), "abc");
  EXPECT_EQ(*Base64Decode("YWJj\nZGVm\r\n"), "abcdef");
  EXPECT_EQ(*Base64Decode("+/8="), "\xfb\xff");
  EXPECT_FALSE(Base64Decode("YQ").ok());
  EXPECT_FALSE(Base64Decode("YQ=").ok());
  EXPECT_FALSE(Base64Decode("YQ==YQ==").ok());
  EXPECT_FALSE(Base64Decode("Y-==").ok());
  EXPECT_FALSE(Base64Decode("Y").ok());
}

TEST(SecretPluginReferences, TheSecret) {
  api::Pod pod = testing::TestPod();
  api::Volume v;
  v.name = "creds";
  v.secret.emplace();
  v.secret->secretName = "db";
  std::vector<ObjectRef> refs = NewSecretPlugin()->References(pod, v);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].resource, "secrets");
  EXPECT_EQ(refs[0].ns, "default");
  EXPECT_EQ(refs[0].name, "db");
}

}  // namespace
}  // namespace kvol::volume

namespace kvol::volume {
namespace {

TEST_F(SecretVolumeTest, PodFsGroupOwnsTheFilesAndAddsGroupRead) {
  env_.pod.spec.securityContext.emplace();
  env_.pod.spec.securityContext->fsGroup = 2000;
  env_.volume.secret->defaultMode = 0400;
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  struct stat st;
  ASSERT_EQ(stat((Dir() + "/password").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 2000u);
  EXPECT_EQ(st.st_mode & 07777, 0440u);
  ASSERT_EQ(stat(Dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 2000u);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
}

}  // namespace
}  // namespace kvol::volume
