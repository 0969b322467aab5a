#include <linux/magic.h>
#include <sys/statfs.h>

#include "gtest/gtest.h"
#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"
#include "src/volume/projected_test_util.h"

namespace kvol::volume {
namespace {

using testing::Env;
using testing::LinkOf;
using testing::ModeOf;
using testing::Slurp;

api::DownwardAPIVolumeFile Field(const std::string& path, const std::string& fieldPath,
                                 std::optional<int32_t> mode = {}) {
  api::DownwardAPIVolumeFile f;
  f.path = path;
  f.fieldRef.emplace();
  f.fieldRef->apiVersion = "v1";
  f.fieldRef->fieldPath = fieldPath;
  f.mode = mode;
  return f;
}

TEST(FormatMapTest, SortedKeyEqualsGoQuotedValueLines) {
  EXPECT_EQ(FormatMap({}), "");
  EXPECT_EQ(FormatMap({{"tier", "front end"}, {"app", "web"}}), "app=\"web\"\ntier=\"front end\"");
  EXPECT_EQ(FormatMap({{"k", "say \"hi\"\n\\ \t"}}), "k=\"say \\\"hi\\\"\\n\\\\ \\t\"");
}

TEST(FormatMapTest, GoQuoteEscapesLikeStrconvQuote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("\a\b\f\r\v"), "\"\\a\\b\\f\\r\\v\"");
  EXPECT_EQ(GoQuote(std::string("\0\x1f\x7f", 3)), "\"\\x00\\x1f\\x7f\"");
  EXPECT_EQ(GoQuote("h\xc3\xa9llo \xe4\xb8\x96"), "\"h\xc3\xa9llo \xe4\xb8\x96\"");  // printable
  EXPECT_EQ(GoQuote("\xc2\xa0"), "\"\\u00a0\"");                                     // NBSP
  EXPECT_EQ(GoQuote("\xef\xbb\xbf"), "\"\\ufeff\"");                                 // BOM
  EXPECT_EQ(GoQuote("\xf3\xb0\x80\x80"), "\"\\U000f0000\"");  // private use plane 15
  EXPECT_EQ(GoQuote("\xff"
                    "a\xc3"),
            "\"\\xffa\\xc3\"");                               // invalid UTF-8 bytes
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // a surrogate is invalid
  EXPECT_EQ(GoQuote("\xe0\x80\xaf"), "\"\\xe0\\x80\\xaf\"");  // overlong
}

TEST(ExtractFieldPathTest, MetadataSpecAndStatusFields) {
  api::Pod pod = testing::TestPod();
  pod.status.podIP = "10.1.2.3";
  pod.status.hostIP = "192.0.2.1";
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.name"), "web");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.namespace"), "default");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.uid"), "uid-1");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.labels"), "app=\"web\"\ntier=\"front end\"");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.annotations"), "note=\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.labels['tier']"), "front end");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.annotations['note']"), "say \"hi\"\n");
  EXPECT_EQ(*ExtractFieldPath(pod, "metadata.labels['absent']"), "");
  EXPECT_EQ(*ExtractFieldPath(pod, "spec.nodeName"), "node-1");
  EXPECT_EQ(*ExtractFieldPath(pod, "spec.serviceAccountName"), "default");
  EXPECT_EQ(*ExtractFieldPath(pod, "status.podIP"), "10.1.2.3");
  EXPECT_EQ(*ExtractFieldPath(pod, "status.hostIP"), "192.0.2.1");

  Result<std::string> bad = ExtractFieldPath(pod, "spec.containers");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), FailedPrecondition("").code());
  EXPECT_EQ(bad.status().message(), "unsupported fieldPath: spec.containers");
  bad = ExtractFieldPath(pod, "metadata.name['x']");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "fieldPath \"metadata.name\" does not support subscript");
}

class DownwardApiVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env_.scratch.path().empty());
    env_.volume.name = "info";
    env_.volume.downwardAPI.emplace();
    env_.volume.downwardAPI->items = {Field("labels", "metadata.labels"),
                                      Field("meta/name", "metadata.name", 0600),
                                      Field("annotations", "metadata.annotations")};
  }
  std::string Dir() const { return env_.podDir + "/volumes/kubernetes.io~downward-api/info"; }

  Env env_;
  std::unique_ptr<Plugin> plugin_ = NewDownwardApiPlugin();
};

TEST_F(DownwardApiVolumeTest, FilesAsTheKubeletWritesThem) {
  EXPECT_EQ(plugin_->PluginDir(), "kubernetes.io~downward-api");
  EXPECT_TRUE(plugin_->CanHandle(env_.volume));
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->hostPath, Dir());
  EXPECT_TRUE(mv->readOnly);
  struct statfs sfs;
  ASSERT_EQ(statfs(Dir().c_str(), &sfs), 0);
  EXPECT_EQ(sfs.f_type, static_cast<decltype(sfs.f_type)>(TMPFS_MAGIC));
  EXPECT_EQ(Slurp(Dir() + "/labels"), "app=\"web\"\ntier=\"front end\"");
  EXPECT_EQ(Slurp(Dir() + "/annotations"), "note=\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(Slurp(Dir() + "/meta/name"), "web");
  EXPECT_EQ(ModeOf(Dir() + "/labels"), 0644u);
  EXPECT_EQ(ModeOf(Dir() + "/meta/name"), 0600u);
  EXPECT_EQ(LinkOf(Dir() + "/meta"), "..data/meta");
}

TEST_F(DownwardApiVolumeTest, LabelChangeRewritesOnSetUpAgain) {
  env_.volume.downwardAPI->defaultMode = 0444;
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  std::string ts = LinkOf(Dir() + "/..data");
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_EQ(LinkOf(Dir() + "/..data"), ts);

  env_.pod.metadata.labels["version"] = "2";
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  EXPECT_NE(LinkOf(Dir() + "/..data"), ts);
  EXPECT_EQ(Slurp(Dir() + "/labels"), "app=\"web\"\ntier=\"front end\"\nversion=\"2\"");
  EXPECT_EQ(ModeOf(Dir() + "/labels"), 0444u);
}

TEST_F(DownwardApiVolumeTest, UnsupportedFieldsAreReportedTogether) {
  api::DownwardAPIVolumeFile cpu;
  cpu.path = "cpu";
  cpu.resourceFieldRef.emplace();
  cpu.resourceFieldRef->resource = "limits.cpu";
  env_.volume.downwardAPI->items.push_back(cpu);
  env_.volume.downwardAPI->items.push_back(Field("x", "spec.volumes"));
  Result<MountedVolume> mv = plugin_->SetUp(env_.Request());
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.status().code(), FailedPrecondition("").code());
  EXPECT_EQ(mv.status().message(),
            "[resourceFieldRef \"limits.cpu\" (path \"cpu\") is not supported by kvol yet, "
            "unsupported fieldPath: spec.volumes]");
  EXPECT_FALSE(os::Exists(Dir()));
}

TEST_F(DownwardApiVolumeTest, TearDownAndReferences) {
  ASSERT_TRUE(plugin_->SetUp(env_.Request()).ok());
  ASSERT_TRUE(plugin_->TearDown(env_.node, env_.podDir, "info").ok());
  EXPECT_FALSE(os::Exists(Dir()));
  auto mounts = os::MountsUnder(env_.scratch.path());
  ASSERT_TRUE(mounts.ok());
  EXPECT_TRUE(mounts->empty());
  std::vector<ObjectRef> refs = plugin_->References(env_.pod, env_.volume);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].resource, "pods");
  EXPECT_EQ(refs[0].ns, "default");
  EXPECT_EQ(refs[0].name, "web");
}

}  // namespace
}  // namespace kvol::volume
