// Server-side apply: create, update with pruning, shared ownership, conflicts (kube's exact
// messages), force, list merge by key, the client-side apply upgrade, and Update entries.
#include "kvol/patch/apply.h"

#include <gtest/gtest.h>

namespace kvol::patch {
namespace {

FieldManagerOptions Opts(const std::string& manager, const std::string& kind = "ConfigMap") {
  FieldManagerOptions o;
  o.apiVersion = "v1";
  o.kind = kind;
  o.manager = manager;
  o.now = "2026-11-27T04:49:44Z";
  o.ignoreStatus = kind != "ConfigMap";
  return o;
}

json Cm(const json& data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "x"}, {"namespace", "default"}}},
          {"data", data}};
}

// The live object as the store would have it: system metadata added.
json Stored(json o) {
  o["metadata"]["uid"] = "u-1";
  o["metadata"]["creationTimestamp"] = "2026-11-27T04:00:00Z";
  return o;
}

json Entries(const json& obj) { return obj["metadata"].value("managedFields", json::array()); }

json EntryOf(const json& obj, const std::string& manager, const std::string& op) {
  for (const auto& e : Entries(obj)) {
    if (e["manager"] == manager && e["operation"] == op) return e;
  }
  return nullptr;
}

ApplyResult MustApply(const json& live, const json& config, const FieldManagerOptions& o,
                      bool force = false) {
  Result<ApplyResult> r = Apply(live, config, o, force);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : ApplyResult{};
}

TEST(ApplyTest, CreateOwnsExactlyTheAppliedFields) {
  ApplyResult r = MustApply(nullptr, Cm({{"key", "v1"}}), Opts("kubectl"));
  ASSERT_TRUE(r.conflicts.empty());
  EXPECT_EQ(r.object["data"], json({{"key", "v1"}}));
  EXPECT_EQ(Entries(r.object), json::parse(R"([{"manager":"kubectl","operation":"Apply",
      "apiVersion":"v1","time":"2026-11-27T04:49:44Z","fieldsType":"FieldsV1",
      "fieldsV1":{"f:data":{"f:key":{}}}}])"));
}

TEST(ApplyTest, UpdateChangesValuesAndRemovesDroppedFields) {
  json cfg = Cm({{"a", "1"}, {"b", "2"}});
  cfg["metadata"]["labels"] = {{"app", "demo"}};
  json live = Stored(MustApply(nullptr, cfg, Opts("kubectl")).object);
  ApplyResult r = MustApply(live, Cm({{"a", "changed"}}), Opts("kubectl"));
  ASSERT_TRUE(r.conflicts.empty());
  EXPECT_EQ(r.object["data"], json({{"a", "changed"}}));
  EXPECT_FALSE(r.object["metadata"].contains("labels"));  // dropped, owned by nobody else
  EXPECT_EQ(r.object["metadata"]["uid"], "u-1");
  EXPECT_EQ(EntryOf(r.object, "kubectl", "Apply")["fieldsV1"],
            json::parse(R"({"f:data":{"f:a":{}}})"));
  // Nothing applied any more: the data map goes too.
  json cfg2 = Cm(nullptr);
  cfg2.erase("data");
  r = MustApply(Stored(r.object), cfg2, Opts("kubectl"));
  EXPECT_FALSE(r.object.contains("data"));
  EXPECT_FALSE(r.object["metadata"].contains("managedFields"));
}

TEST(ApplyTest, TwoManagersShareAFieldUntilBothDropIt) {
  json live = Stored(MustApply(nullptr, Cm({{"shared", "s"}, {"one", "1"}}), Opts("one")).object);
  ApplyResult r = MustApply(live, Cm({{"shared", "s"}, {"two", "2"}}), Opts("two"));
  ASSERT_TRUE(r.conflicts.empty());  // same value: co-owned, no conflict
  EXPECT_EQ(EntryOf(r.object, "one", "Apply")["fieldsV1"],
            json::parse(R"({"f:data":{"f:one":{},"f:shared":{}}})"));
  EXPECT_EQ(EntryOf(r.object, "two", "Apply")["fieldsV1"],
            json::parse(R"({"f:data":{"f:shared":{},"f:two":{}}})"));
  r = MustApply(Stored(r.object), Cm({{"one", "1"}}), Opts("one"));
  EXPECT_EQ(r.object["data"], json({{"one", "1"}, {"shared", "s"}, {"two", "2"}}));  // two owns it
  r = MustApply(Stored(r.object), Cm({{"two", "2"}}), Opts("two"));
  EXPECT_EQ(r.object["data"], json({{"one", "1"}, {"two", "2"}}));
}

TEST(ApplyTest, ConflictWithAnUpdaterHasKubernetesMessage) {
  // Created by `kubectl create` (an Update entry), then applied with another value.
  json created = TrackUpdate(nullptr, Stored(Cm({{"key", "v1"}, {"other", "o"}})),
                             Opts("kubectl-client-side-apply"));
  EXPECT_EQ(EntryOf(created, "kubectl-client-side-apply", "Update")["fieldsV1"],
            json::parse(R"({"f:data":{".":{},"f:key":{},"f:other":{}}})"));
  ApplyResult r = MustApply(created, Cm({{"key", "v2"}}), Opts("other"));
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].manager, "\"kubectl-client-side-apply\" using v1");
  EXPECT_EQ(r.conflicts[0].field, ".data.key");
  EXPECT_EQ(ConflictMessage(r.conflicts),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: "
            ".data.key");
  EXPECT_TRUE(r.object.is_null());

  // Two managers, three fields: the N-conflict form, managers sorted.
  json both = Stored(MustApply(created, Cm({{"third", "t"}}), Opts("applier")).object);
  r = MustApply(both, Cm({{"key", "x"}, {"other", "y"}, {"third", "z"}}), Opts("other"));
  ASSERT_EQ(r.conflicts.size(), 3u);
  EXPECT_EQ(ConflictMessage(r.conflicts),
            "Apply failed with 3 conflicts: conflicts with \"applier\":\n- .data.third\n"
            "conflicts with \"kubectl-client-side-apply\" using v1:\n- .data.key\n- .data.other");
}

TEST(ApplyTest, ForceMovesOwnership) {
  json created = TrackUpdate(nullptr, Stored(Cm({{"key", "v1"}, {"other", "o"}})),
                             Opts("kubectl-client-side-apply"));
  ApplyResult r = MustApply(created, Cm({{"key", "v2"}}), Opts("other"), /*force=*/true);
  ASSERT_TRUE(r.conflicts.empty());
  EXPECT_EQ(r.object["data"], json({{"key", "v2"}, {"other", "o"}}));
  EXPECT_EQ(EntryOf(r.object, "kubectl-client-side-apply", "Update")["fieldsV1"],
            json::parse(R"({"f:data":{".":{},"f:other":{}}})"));
  EXPECT_EQ(EntryOf(r.object, "other", "Apply")["fieldsV1"],
            json::parse(R"({"f:data":{"f:key":{}}})"));
  // Apply entries sort before Update entries.
  EXPECT_EQ(Entries(r.object)[0]["operation"], "Apply");
  // The old owner's next apply of its old value now conflicts the other way.
  r = MustApply(Stored(r.object), Cm({{"key", "v1"}}), Opts("third"));
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].manager, "\"other\"");
}

TEST(ApplyTest, ListsMergeByKeyAndOwnItems) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"finalizers", {"a"}}}},
              {"spec",
               {{"containers",
                 {{{"name", "app"},
                   {"image", "nginx:1"},
                   {"ports", {{{"containerPort", 80}}}},
                   {"args", {"x"}}},
                  {{"name", "side"}, {"image", "busybox"}}}}}}};
  json live = Stored(MustApply(nullptr, pod, Opts("kubectl", "Pod")).object);
  EXPECT_EQ(EntryOf(live, "kubectl", "Apply")["fieldsV1"], json::parse(R"({
      "f:metadata":{"f:finalizers":{"v:\"a\"":{}}},
      "f:spec":{"f:containers":{
        "k:{\"name\":\"app\"}":{".":{},"f:args":{},"f:image":{},"f:name":{},
          "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},
                                                                     "f:containerPort":{}}}},
        "k:{\"name\":\"side\"}":{".":{},"f:image":{},"f:name":{}}}}})"));

  // Another manager sets only the image of "app" and adds a finalizer: items merge by key.
  json img = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"finalizers", {"b"}}}},
              {"spec", {{"containers", {{{"name", "app"}, {"image", "nginx:2"}}}}}}};
  ApplyResult r = MustApply(live, img, Opts("images", "Pod"));
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].field, ".spec.containers[name=\"app\"].image");
  r = MustApply(live, img, Opts("images", "Pod"), /*force=*/true);
  const json& cs = r.object["spec"]["containers"];
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0]["image"], "nginx:2");
  EXPECT_EQ(cs[0]["args"], json({"x"}));
  EXPECT_EQ(cs[0]["ports"], json::parse(R"([{"containerPort":80}])"));
  EXPECT_EQ(cs[1]["name"], "side");
  EXPECT_EQ(r.object["metadata"]["finalizers"], json({"a", "b"}));

  // The first manager drops "side": the item goes; "app" stays (owned by both).
  json noSide = pod;
  noSide["spec"]["containers"].erase(1);
  r = MustApply(Stored(r.object), noSide, Opts("kubectl", "Pod"), /*force=*/true);
  ASSERT_EQ(r.object["spec"]["containers"].size(), 1u);
  EXPECT_EQ(r.object["spec"]["containers"][0]["name"], "app");

  // An item without its key is refused.
  json bad = img;
  bad["spec"]["containers"][0].erase("name");
  Result<ApplyResult> e = Apply(live, bad, Opts("images", "Pod"), false);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            ".spec.containers: element 0: associative list with keys has an element that omits "
            "key field \"name\" (and doesn't have default value)");
}

TEST(ApplyTest, ClientSideAppliedObjectUpgradesWithoutConflict) {
  json cfg = Cm({{"key", "v1"}});
  json created = cfg;
  created["metadata"]["annotations"][kLastAppliedAnnotation] = cfg.dump() + "\n";
  created = TrackUpdate(nullptr, Stored(created), Opts("kubectl-client-side-apply"));

  // Another manager conflicts...
  ApplyResult r = MustApply(created, Cm({{"key", "v2"}}), Opts("other"));
  EXPECT_EQ(r.conflicts.size(), 1u);
  // ...kubectl does not, and rewrites the annotation to what it applied.
  r = MustApply(created, Cm({{"key", "v2"}}), Opts("kubectl"));
  ASSERT_TRUE(r.conflicts.empty());
  EXPECT_EQ(r.object["data"]["key"], "v2");
  EXPECT_EQ(r.object["metadata"]["annotations"][kLastAppliedAnnotation],
            R"({"apiVersion":"v1","data":{"key":"v2"},"kind":"ConfigMap",)"
            R"("metadata":{"name":"x","namespace":"default"}})"
            "\n");
  EXPECT_EQ(EntryOf(r.object, "kubectl", "Apply")["fieldsV1"],
            json::parse(R"({"f:data":{"f:key":{}}})"));

  // A field changed since the client-side apply still conflicts.
  json edited = TrackUpdate(created, Stored(Cm({{"key", "edited"}})), Opts("kubectl-edit"));
  edited["metadata"]["annotations"] = created["metadata"]["annotations"];
  r = MustApply(edited, Cm({{"key", "v2"}}), Opts("kubectl"));
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].manager, "\"kubectl-edit\" using v1");
}

TEST(ApplyTest, ObjectsWithoutManagedFieldsStartWithBeforeFirstApply) {
  ApplyResult r = MustApply(Stored(Cm({{"key", "v1"}})), Cm({{"key", "v2"}}), Opts("kubectl"));
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].manager, "\"before-first-apply\" using v1");
  // Same value: shared, no conflict.
  r = MustApply(Stored(Cm({{"key", "v1"}})), Cm({{"key", "v1"}}), Opts("kubectl"));
  EXPECT_TRUE(r.conflicts.empty());
  EXPECT_EQ(Entries(r.object).size(), 2u);
}

TEST(ApplyTest, UpdateEntriesTrackChangesPerManager) {
  FieldManagerOptions o = Opts("kubectl-create", "PersistentVolumeClaim");
  json pvc = Stored(
      {{"apiVersion", "v1"},
       {"kind", "PersistentVolumeClaim"},
       {"metadata", {{"name", "c"}, {"labels", {{"app", "x"}}}}},
       {"spec",
        {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}},
       {"status", {{"phase", "Pending"}}}});
  json created = TrackUpdate(nullptr, pvc, o);
  EXPECT_EQ(Entries(created), json::parse(R"([{"manager":"kubectl-create","operation":"Update",
      "apiVersion":"v1","time":"2026-11-27T04:49:44Z","fieldsType":"FieldsV1","fieldsV1":{
      "f:metadata":{"f:labels":{".":{},"f:app":{}}},
      "f:spec":{"f:accessModes":{},"f:resources":{"f:requests":{".":{},"f:storage":{}}}}}}])"));
  // An edit that changes nothing keeps everything as it was.
  EXPECT_EQ(TrackUpdate(created, created, Opts("kubectl-edit", "PersistentVolumeClaim")), created);
  // A label change moves that field to the editor; a removal leaves every entry.
  json next = created;
  next["metadata"]["labels"] = {{"app", "y"}};
  next["spec"].erase("accessModes");
  o.manager = "kubectl-edit";
  o.now = "2026-11-27T05:00:00Z";
  json edited = TrackUpdate(created, next, o);
  EXPECT_EQ(EntryOf(edited, "kubectl-create", "Update")["fieldsV1"],
            json::parse(R"({"f:metadata":{"f:labels":{}},
                "f:spec":{"f:resources":{"f:requests":{".":{},"f:storage":{}}}}})"));
  EXPECT_EQ(EntryOf(edited, "kubectl-edit", "Update")["fieldsV1"],
            json::parse(R"({"f:metadata":{"f:labels":{"f:app":{}}}})"));
  EXPECT_EQ(EntryOf(edited, "kubectl-edit", "Update")["time"], "2026-11-27T05:00:00Z");
  // managedFields written by the client replace the live ones; [{}] clears them.
  json given = created;
  given["metadata"]["managedFields"] = json::parse(R"([{"manager":"m","operation":"Apply",
      "apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:accessModes":{}}}}])");
  EXPECT_EQ(EntryOf(TrackUpdate(created, given, o), "m", "Apply")["fieldsV1"],
            json::parse(R"({"f:spec":{"f:accessModes":{}}})"));
  json cleared = created;
  cleared["metadata"]["managedFields"] = json::array({json::object()});
  EXPECT_FALSE(TrackUpdate(created, cleared, o)["metadata"].contains("managedFields"));
  // An existing object that was never tracked stays untracked.
  next["metadata"].erase("managedFields");
  EXPECT_FALSE(TrackUpdate(pvc, next, o)["metadata"].contains("managedFields"));
}

TEST(ApplyTest, ManagerNameFromQueryOrUserAgent) {
  EXPECT_EQ(ManagerFor("kubectl-edit", "kubectl/v1.32.4 (linux/amd64)"), "kubectl-edit");
  EXPECT_EQ(ManagerFor("", "kubectl/v1.32.4 (linux/amd64) kubernetes/abc"), "kubectl");
  EXPECT_EQ(ManagerFor("", "kvol\x01node/1"), "kvolnode");
  EXPECT_EQ(ManagerFor("", ""), "unknown");
  EXPECT_EQ(ManagerFor("", std::string(300, 'a')).size(), 128u);
}

}  // namespace
}  // namespace kvol::patch
