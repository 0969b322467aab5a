// BuiltinPlugins(): the nine plugins in the documented order, and exactly one claims each source.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvol/volume/plugin.h"

namespace kvol::volume {
namespace {

TEST(BuiltinPluginsTest, NinePluginsInOrderEachClaimingOneSource) {
  auto plugins = BuiltinPlugins();
  std::vector<std::string> dirs;
  for (const auto& p : plugins) dirs.push_back(p->PluginDir());
  EXPECT_EQ(dirs,
            (std::vector<std::string>{"kubernetes.io~empty-dir", "", "kubernetes.io~configmap",
                                      "kubernetes.io~secret", "kubernetes.io~projected",
                                      "kubernetes.io~downward-api", "kubernetes.io~git-repo",
                                      "kubernetes.io~nfs", "kubernetes.io~csi"}));

  std::vector<api::Volume> vols(9);
  vols[0].emptyDir.emplace();
  vols[1].hostPath.emplace();
  vols[2].configMap.emplace();
  vols[3].secret.emplace();
  vols[4].projected.emplace();
  vols[5].downwardAPI.emplace();
  vols[6].gitRepo.emplace();
  vols[7].nfs.emplace();
  vols[8].persistentVolumeClaim.emplace();
  for (size_t v = 0; v < vols.size(); ++v) {
    for (size_t p = 0; p < plugins.size(); ++p) {
      EXPECT_EQ(plugins[p]->CanHandle(vols[v]), p == v) << "volume " << v << " plugin " << p;
    }
  }
  api::Volume csiInline;
  csiInline.csi.emplace();
  for (const auto& p : plugins) EXPECT_FALSE(p->CanHandle(csiInline)) << p->PluginDir();
}

}  // namespace
}  // namespace kvol::volume
