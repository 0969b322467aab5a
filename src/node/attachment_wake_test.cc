// Which claims the agent wakes when a VolumeAttachment or its Node's status.volumesInUse changes.
#include "attachment_wake.h"

#include <gtest/gtest.h>

#include <map>

namespace kvol::node {
namespace {

using api::json;

class FakeObjects : public volume::ObjectSource {
 public:
  Result<json> Get(const std::string& resource, const std::string& ns,
                   const std::string& name) override {
    auto it = objs.find(resource + "/" + ns + "/" + name);
    if (it == objs.end()) return NotFound(resource + " \"" + name + "\" not found");
    return it->second;
  }
  std::map<std::string, json> objs;
};

json Pv(const std::string& name, const std::string& driver, const std::string& handle,
        const std::string& claim) {
  json pv = {{"metadata", {{"name", name}}},
             {"spec", {{"csi", {{"driver", driver}, {"volumeHandle", handle}}}}}};
  if (!claim.empty()) pv["spec"]["claimRef"] = {{"namespace", "shop"}, {"name", claim}};
  return pv;
}

json Va(const std::string& node, const std::string& pv) {
  return {{"metadata", {{"name", "csi-x"}}},
          {"spec",
           {{"attacher", "kvol.io/block"},
            {"nodeName", node},
            {"source", {{"persistentVolumeName", pv}}}}},
          {"status", {{"attached", true}}}};
}

std::vector<std::string> Names(const std::vector<volume::ObjectRef>& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) out.push_back(r.resource + " " + r.ns + "/" + r.name);
  return out;
}

TEST(AttachmentWake, AnAttachmentOfThisNodeWakesTheClaimOfItsPv) {
  FakeObjects objects;
  objects.objs["persistentvolumes//pv-1"] = Pv("pv-1", "kvol.io/block", "vol-1", "db");
  objects.objs["persistentvolumes//pv-2"] = Pv("pv-2", "kvol.io/block", "vol-2", "");
  EXPECT_EQ(Names(ClaimsOfAttachment(Va("n1", "pv-1"), "n1", objects)),
            std::vector<std::string>{"persistentvolumeclaims shop/db"});
  EXPECT_TRUE(ClaimsOfAttachment(Va("n2", "pv-1"), "n1", objects).empty());  // another node's
  EXPECT_TRUE(ClaimsOfAttachment(Va("n1", "pv-2"), "n1", objects).empty());  // no claimRef
  EXPECT_TRUE(ClaimsOfAttachment(Va("n1", "pv-gone"), "n1", objects).empty());
  EXPECT_TRUE(ClaimsOfAttachment(json{{"spec", {{"nodeName", "n1"}}}}, "n1", objects).empty());
}

TEST(AttachmentWake, VolumesNewlyInUseWakeTheClaimsOfTheirPvs) {
  std::vector<json> pvs = {Pv("pv-1", "kvol.io/block", "vol-1", "db"),
                           Pv("pv-2", "kvol.io/block", "vol-2", "cache"),
                           json{{"metadata", {{"name", "host"}}}, {"spec", {{"hostPath", {}}}}}};
  EXPECT_EQ(Names(ClaimsOfVolumes({"kubernetes.io/csi/kvol.io/block^vol-2"}, pvs)),
            std::vector<std::string>{"persistentvolumeclaims shop/cache"});
  EXPECT_TRUE(ClaimsOfVolumes({}, pvs).empty());
  json node = {{"status", {{"volumesInUse", {"a", "b"}}, {"volumesAttached", json::array()}}}};
  EXPECT_EQ(VolumesInUseOf(node), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(VolumesInUseOf(json{{"status", json::object()}}).empty());
}

}  // namespace
}  // namespace kvol::node
