#include <linux/magic.h>
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

class ProjectedVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env_.scratch.path().empty());
    env_.objects.Put("configmaps", "default", "app", {{"data", {{"app.conf", "x=1"}, {"b", "2"}}}});
    env_.objects.Put("secrets", "default", "db",
                     {{"data", {{"password", api::Base64Encode("s3cr3t")}}}});
    env_.volume.name = "all";
    env_.volume.projected.emplace();
    api::VolumeProjection cm, sec, dapi;
    cm.configMap.emplace();
    cm.configMap->name = "app";
    cm.configMap->items = {{"app.conf", "config/app.conf", {}}};
    sec.secret.emplace();
    sec.secret->name = "db";
    sec.secret->items = {{"password", "config/password", 0400}};
    dapi.downwardAPI.emplace();
    api::DownwardAPIVolumeFile labels;
    labels.path = "labels";
    labels.fieldRef.emplace();
    labels.fieldRef->fieldPath = "metadata.labels";
    dapi.downwardAPI->items = {labels};
    env_.volume.projected->sources = {cm, sec, dapi};
  }
  std::string Dir() const { return env_.podDir + "/volumes/kubernetes.io~projected/all"; }

  Env env_;
  std::unique_ptr<Plugin> plugin_ = NewProjectedPlugin();
};

TEST_F(ProjectedVolumeTest, SourcesCombinedOnATmpfs) {
  EXPECT_EQ(plugin_->PluginDir(), "kubernetes.io~projected");
  EXPECT_TRUE(plugin_->CanHandle(env_.volume));
  env_.volume.projected->defaultMode = 0440;
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->hostPath, Dir());
  EXPECT_EQ(mv->pluginDir, "kubernetes.io~projected");
  EXPECT_TRUE(mv->readOnly);
  struct statfs sfs;
  ASSERT_EQ(statfs(Dir().c_str(), &sfs), 0);
  EXPECT_EQ(sfs.f_type, static_cast<decltype(sfs.f_type)>(TMPFS_MAGIC));
  EXPECT_EQ(Slurp(Dir() + "/config/app.conf"), "x=1");
  EXPECT_EQ(ModeOf(Dir() + "/config/app.conf"), 0440u);
  EXPECT_EQ(Slurp(Dir() + "/config/password"), "s3cr3t");
  EXPECT_EQ(ModeOf(Dir() + "/config/password"), 0400u);
  EXPECT_EQ(Slurp(Dir() + "/labels"), "app=\"web\"\ntier=\"front end\"");
  EXPECT_EQ(LinkOf(Dir() + "/config"), "..data/config");
  EXPECT_FALSE(os::Exists(Dir() + "/b"));

  // A change in any source rewrites the one payload; none leaves it as it is.
  std::string ts = LinkOf(Dir() + "/..data");
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_EQ(LinkOf(Dir() + "/..data"), ts);
  env_.objects.Put("secrets", "default", "db",
                   {{"data", {{"password", api::Base64Encode("rotated")}}}});
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_EQ(Slurp(Dir() + "/config/password"), "rotated");
  EXPECT_EQ(Slurp(Dir() + "/config/app.conf"), "x=1");
  auto mounts = os::MountsUnder(Dir());
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ(mounts->size(), 1u);

  ASSERT_TRUE(plugin_->TearDown(env_.node, env_.podDir, "all").ok());
  EXPECT_FALSE(os::Exists(Dir()));
  mounts = os::MountsUnder(env_.scratch.path());
  ASSERT_TRUE(mounts.ok());
  EXPECT_TRUE(mounts->empty());
}

TEST_F(ProjectedVolumeTest, MissingSourcesAreReportedTogetherUnlessOptional) {
  env_.objects.Remove("configmaps", "default", "app");
  env_.objects.Remove("secrets", "default", "db");
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kUnavailable);
  EXPECT_EQ(mv.status().message(), "[configmap \"app\" not found, secret \"db\" not found]");
  EXPECT_FALSE(os::Exists(Dir()));

  env_.volume.projected->sources[0].configMap->optional = true;
  mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().message(), "secret \"db\" not found");

  env_.volume.projected->sources[1].secret->optional = true;
  mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(Slurp(Dir() + "/labels"), "app=\"web\"\ntier=\"front end\"");
  EXPECT_FALSE(os::Exists(Dir() + "/config"));
}

TEST_F(ProjectedVolumeTest, MissingKeyUsesEachSourcesWording) {
  env_.volume.projected->sources[0].configMap->items = {{"nope", "n", {}}};
  env_.volume.projected->sources[1].secret->items = {{"nokey", "k", {}}};
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kUnavailable);
  EXPECT_EQ(mv.status().message(),
            "[configmap references non-existent config key: nope, references non-existent "
            "secret key: nokey]");
}

TEST_F(ProjectedVolumeTest, ServiceAccountTokenIsRefusedNamingTheSource) {
  api::VolumeProjection tok;
  tok.serviceAccountToken.emplace();
  tok.serviceAccountToken->path = "token";
  env_.volume.projected->sources.push_back(tok);
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), FailedPrecondition("").code());
  EXPECT_EQ(mv.status().message(),
            "projected volume \"all\": serviceAccountToken source (path \"token\") is not "
            "supported on this node");
  EXPECT_FALSE(os::Exists(Dir()));
}

TEST_F(ProjectedVolumeTest, ReferencesEveryObjectAndThePod) {
  std::vector<ObjectRef> refs = plugin_->References(env_.pod, env_.volume);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].resource + "/" + refs[0].ns + "/" + refs[0].name, "configmaps/default/app");
  EXPECT_EQ(refs[1].resource + "/" + refs[1].ns + "/" + refs[1].name, "secrets/default/db");
  EXPECT_EQ(refs[2].resource + "/" + refs[2].ns + "/" + refs[2].name, "pods/default/web");
}

}  // namespace
}  // namespace kvol::volume
