#include <sys/stat.h>

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

class ConfigMapVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env_.scratch.path().empty());
    env_.volume.name = "cfg";
    env_.volume.configMap.emplace();
    env_.volume.configMap->name = "app";
    env_.objects.Put("configmaps", "default", "app",
                     {{"data", {{"app.conf", "x=1\n"}, {"b", "two"}}},
                      {"binaryData", {{"blob", api::Base64Encode(std::string("\0\1\2", 3))}}}});
  }
  std::string Dir() const { return env_.podDir + "/volumes/kubernetes.io~configmap/cfg"; }

  Env env_;
  std::unique_ptr<Plugin> plugin_ = NewConfigMapPlugin();
};

TEST_F(ConfigMapVolumeTest, EveryKeyWithDefaultModeReadOnly) {
  EXPECT_EQ(plugin_->PluginDir(), "kubernetes.io~configmap");
  EXPECT_TRUE(plugin_->CanHandle(env_.volume));
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->pluginDir, "kubernetes.io~configmap");
  EXPECT_EQ(mv->dirName, "cfg");
  EXPECT_EQ(mv->hostPath, Dir());
  EXPECT_TRUE(mv->readOnly);
  EXPECT_FALSE(mv->block);
  EXPECT_EQ(Slurp(Dir() + "/app.conf"), "x=1\n");
  EXPECT_EQ(Slurp(Dir() + "/b"), "two");
  EXPECT_EQ(Slurp(Dir() + "/blob"), std::string("\0\1\2", 3));
  EXPECT_EQ(LinkOf(Dir() + "/app.conf"), "..data/app.conf");
  for (const char* f : {"/app.conf", "/b", "/blob"}) EXPECT_EQ(ModeOf(Dir() + f), 0644u) << f;
  EXPECT_EQ(ModeOf(Dir()), 0755u);
}

TEST_F(ConfigMapVolumeTest, ItemsSelectKeysPathsAndModes) {
  env_.volume.configMap->defaultMode = 0640;
  env_.volume.configMap->items = {{"app.conf", "conf/app.conf", 0400}, {"b", "b-file", {}}};
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(Slurp(Dir() + "/conf/app.conf"), "x=1\n");
  EXPECT_EQ(ModeOf(Dir() + "/conf/app.conf"), 0400u);
  EXPECT_EQ(Slurp(Dir() + "/b-file"), "two");
  EXPECT_EQ(ModeOf(Dir() + "/b-file"), 0640u);
  EXPECT_FALSE(os::Exists(Dir() + "/app.conf"));
  EXPECT_FALSE(os::Exists(Dir() + "/blob"));
}

TEST_F(ConfigMapVolumeTest, MissingConfigMapWaitsUnlessOptional) {
  env_.volume.configMap->name = "nope";
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kUnavailable);
  EXPECT_EQ(mv.status().message(), "configmap \"nope\" not found");
  EXPECT_FALSE(os::Exists(Dir()));

  env_.volume.configMap->optional = true;
  mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_TRUE(os::Exists(Dir() + "/..data"));
  EXPECT_FALSE(os::Exists(Dir() + "/b"));
}

TEST_F(ConfigMapVolumeTest, MissingKeyWaitsUnlessOptional) {
  env_.volume.configMap->items = {{"b", "b", {}}, {"gone", "gone", {}}};
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kUnavailable);
  EXPECT_EQ(mv.status().message(), "configmap references non-existent config key: gone");

  env_.volume.configMap->optional = true;
  mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(Slurp(Dir() + "/b"), "two");
  EXPECT_FALSE(os::Exists(Dir() + "/gone"));
}

TEST_F(ConfigMapVolumeTest, SetUpAgainRewritesOnlyOnChange) {
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  std::string ts = LinkOf(Dir() + "/..data");
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_EQ(LinkOf(Dir() + "/..data"), ts);

  env_.objects.Put("configmaps", "default", "app", {{"data", {{"app.conf", "x=2\n"}}}});
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_NE(LinkOf(Dir() + "/..data"), ts);
  EXPECT_EQ(Slurp(Dir() + "/app.conf"), "x=2\n");
  EXPECT_FALSE(os::Exists(Dir() + "/b"));
  EXPECT_FALSE(os::Exists(Dir() + "/" + ts));
}

TEST_F(ConfigMapVolumeTest, DotDotItemPathIsRefused) {
  env_.volume.configMap->items = {{"b", "../../escape", {}}};
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kInvalid);
  EXPECT_EQ(mv.status().message(), "invalid path: must not contain '..': ../../escape");
  EXPECT_FALSE(os::Exists(env_.podDir + "/volumes/escape"));
}

TEST_F(ConfigMapVolumeTest, TearDownRemovesTheDirectory) {
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  ASSERT_TRUE(plugin_->TearDown(env_.node, env_.podDir, "cfg").ok());
  EXPECT_FALSE(os::Exists(Dir()));
  EXPECT_TRUE(os::Exists(env_.podDir + "/volumes/kubernetes.io~configmap"));
  EXPECT_TRUE(plugin_->TearDown(env_.node, env_.podDir, "cfg").ok());  // already gone: OK
}

TEST_F(ConfigMapVolumeTest, ReferencesTheConfigMap) {
  std::vector<ObjectRef> refs = plugin_->References(env_.pod, env_.volume);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].resource, "configmaps");
  EXPECT_EQ(refs[0].ns, "default");
  EXPECT_EQ(refs[0].name, "app");
}

TEST_F(ConfigMapVolumeTest, MalformedObjectIsAnInternalError) {
  env_.objects.Put("configmaps", "default", "app", {{"binaryData", {{"k", "!!!"}}}});
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), Code::kInternal);
  EXPECT_EQ(mv.status().message(),
            "configmap \"app\": binaryData[k]: illegal base64 data at input byte 0");
}

}  // namespace
}  // namespace kvol::volume
