// WatchCache and the lists ApiHandler serves from it, over a real SQLite store and the real
// Scheme: byte-for-byte the same bodies as the store path (JSON, Tables, selectors, namespaces),
// reads after writes, concurrent writers, deletes, relist after a watch error and a compaction,
// and Secrets decrypted in the cache while the store file keeps them sealed.
#include "kvol/apiserver/watch_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/handler.h"
#include "kvol/store/encrypting_store.h"
#include "kvol/store/sqlite_store.h"
#include "src/store/sqlite/test_util.h"

namespace kvol::apiserver {
namespace {

using api::json;
using store::testing::TempDir;

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr const char* kTable = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

// A Store that forwards to another and can end its watches as a failing backend would: onClose
// with an error, and no event of those watches afterwards.
class BreakableStore : public store::Store {
 public:
  explicit BreakableStore(store::Store& s) : s_(s) {}
  Result<store::Object> Get(const std::string& k) override { return s_.Get(k); }
  Result<store::ListResult> List(const store::ListOptions& o) override { return s_.List(o); }
  Result<store::TxnResult> Txn(std::vector<store::Op> ops) override { return s_.Txn(ops); }
  std::vector<Result<store::TxnResult>> TxnBatch(std::vector<std::vector<store::Op>> t) override {
    return s_.TxnBatch(std::move(t));
  }
  Result<std::unique_ptr<store::WatchHandle>> Watch(
      const store::WatchOptions& opts, std::function<void(const store::WatchEvent&)> onEvent,
      std::function<void(const Status&)> onClose) override {
    auto w = std::make_shared<W>();
    w->onClose = std::move(onClose);
    {
      std::lock_guard<std::mutex> lk(mu_);
      watches_.push_back(w);
      ++started_;
    }
    return s_.Watch(
        opts,
        [w, onEvent = std::move(onEvent)](const store::WatchEvent& e) {
          std::lock_guard<std::mutex> lk(w->mu);
          if (!w->broken) onEvent(e);
        },
        [w](const Status& s) {
          std::lock_guard<std::mutex> lk(w->mu);
          if (!w->broken && w->onClose) w->onClose(s);
          w->broken = true;
        });
  }
  store::Revision CurrentRevision() override { return s_.CurrentRevision(); }
  Status Compact(store::Revision r) override { return s_.Compact(r); }
  store::Revision CompactedRevision() override { return s_.CompactedRevision(); }

  // Ends every watch started so far with an error.
  void BreakWatches() {
    std::vector<std::shared_ptr<W>> ws;
    {
      std::lock_guard<std::mutex> lk(mu_);
      ws.swap(watches_);
    }
    for (auto& w : ws) {
      std::lock_guard<std::mutex> lk(w->mu);
      if (!w->broken && w->onClose) w->onClose(Internal("watch stream broke"));
      w->broken = true;
    }
  }
  int started() {
    std::lock_guard<std::mutex> lk(mu_);
    return started_;
  }

 private:
  struct W {
    std::mutex mu;
    bool broken = false;
    std::function<void(const Status&)> onClose;
  };
  store::Store& s_;
  std::mutex mu_;
  std::vector<std::shared_ptr<W>> watches_;
  int started_ = 0;
};

class WatchCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(dir_.File("kvol.db"));
    ASSERT_TRUE(s.ok()) << s.status().message();
    sqlite_ = std::move(s).value();
    breakable_ = std::make_unique<BreakableStore>(*sqlite_);
    cached_ = MakeHandler(true);
    plain_ = MakeHandler(false);
    for (const char* ns : {"default", "other"}) {
      ASSERT_EQ(Call(*plain_, "POST", "/api/v1/namespaces", {{"metadata", {{"name", ns}}}}).status,
                201);
    }
  }
  void TearDown() override {
    cached_.reset();
    plain_.reset();
  }

  std::unique_ptr<ApiHandler> MakeHandler(bool cache) {
    HandlerOptions o;
    o.store = breakable_.get();
    o.scheme = &api::Scheme::Default();
    o.now = [] { return kNow; };
    o.watchCache = cache;
    return std::make_unique<ApiHandler>(o);
  }

  static Response Call(const ApiHandler& h, const std::string& method, const std::string& target,
                       const json& body = nullptr, const std::string& accept = "") {
    std::map<std::string, std::string> headers = {{"content-type", "application/json"}};
    if (!accept.empty()) headers["accept"] = accept;
    return h.Handle(Request::Make(method, target, body.is_null() ? "" : body.dump(), headers))
        .response;
  }

  static json Pvc(const std::string& name, const std::string& app) {
    return {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
            {"spec",
             {{"storageClassName", "none"},
              {"accessModes", {"ReadWriteOnce"}},
              {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  }
  void CreatePvc(const std::string& ns, const std::string& name, const std::string& app) {
    Response r = Call(*plain_, "POST", "/api/v1/namespaces/" + ns + "/persistentvolumeclaims",
                      Pvc(name, app));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // The same request to both handlers: same status, same body bytes (the cache's resourceVersion
  // may only be newer when writes happened meanwhile; none do here).
  void ExpectSame(const std::string& target, const std::string& accept = "") {
    Response a = Call(*cached_, "GET", target, nullptr, accept);
    Response b = Call(*plain_, "GET", target, nullptr, accept);
    EXPECT_EQ(a.status, b.status) << target;
    EXPECT_EQ(a.body, b.body) << target << " accept=" << accept;
  }
  static std::vector<std::string> Names(const Response& r) {
    std::vector<std::string> out;
    json b = json::parse(r.body);
    for (const auto& i : b["items"]) out.push_back(i["metadata"]["name"].get<std::string>());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> sqlite_;
  std::unique_ptr<BreakableStore> breakable_;
  std::unique_ptr<ApiHandler> cached_, plain_;
};

TEST_F(WatchCacheTest, ListsAreByteForByteTheStorePathsAndSelectorsAgree) {
  for (int i = 0; i < 6; ++i)
    CreatePvc(i % 2 ? "other" : "default", "c" + std::to_string(i), i % 3 ? "web" : "db");
  // A pod with a restart (its RESTARTS cell says "(... ago)": a row computed per request) and an
  // event (LAST SEEN), next to the rows whose only time-dependent cell is AGE.
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"labels", {{"app", "web"}}}}},
              {"spec", {{"nodeName", "n1"}, {"containers", {{{"name", "c"}, {"image", "i"}}}}}}};
  ASSERT_EQ(Call(*plain_, "POST", "/api/v1/namespaces/default/pods", pod).status, 201);
  json status = {
      {"status",
       {{"phase", "Running"},
        {"containerStatuses",
         {{{"name", "c"},
           {"image", "i"},
           {"imageID", ""},
           {"ready", true},
           {"restartCount", 2},
           {"state", {{"running", {{"startedAt", "2025-12-31T23:00:00Z"}}}}},
           {"lastState",
            {{"terminated", {{"exitCode", 1}, {"finishedAt", "2025-12-31T22:55:00Z"}}}}}}}}}}};
  Response st =
      plain_
          ->Handle(Request::Make("PATCH", "/api/v1/namespaces/default/pods/p/status", status.dump(),
                                 {{"content-type", "application/merge-patch+json"}}))
          .response;
  ASSERT_EQ(st.status, 200) << st.body;
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "e1"}}},
             {"involvedObject", {{"kind", "Pod"}, {"name", "p"}, {"namespace", "default"}}},
             {"reason", "Started"},
             {"message", "started"},
             {"type", "Normal"},
             {"firstTimestamp", "2025-12-31T20:00:00Z"},
             {"lastTimestamp", "2025-12-31T23:30:00Z"},
             {"count", 3}};
  ASSERT_EQ(Call(*plain_, "POST", "/api/v1/namespaces/default/events", ev).status, 201);

  for (const std::string accept : {"", "application/json", kTable}) {
    for (const std::string path :
         {"/api/v1/persistentvolumeclaims", "/api/v1/namespaces/other/persistentvolumeclaims",
          "/api/v1/namespaces/nope/persistentvolumeclaims", "/api/v1/pods", "/api/v1/events",
          "/api/v1/namespaces", "/apis/storage.k8s.io/v1/storageclasses"}) {
      ExpectSame(path, accept);
      ExpectSame(path + "?labelSelector=app%3Dweb", accept);
      ExpectSame(path + "?labelSelector=app+notin+(web),app", accept);
      ExpectSame(path + "?fieldSelector=metadata.name%3Dc3", accept);
      ExpectSame(path + "?fieldSelector=metadata.namespace!%3Ddefault", accept);
      ExpectSame(path + "?resourceVersion=0", accept);
    }
  }
  ExpectSame("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1");
  ExpectSame("/api/v1/pods?fieldSelector=spec.nodeName%3Dn2", kTable);
  ExpectSame("/api/v1/persistentvolumeclaims?includeObject=Object", kTable);
  ExpectSame("/api/v1/persistentvolumeclaims?includeObject=None", kTable);
  ExpectSame("/api/v1/pods?includeObject=Object", kTable);
  ExpectSame("/api/v1/persistentvolumeclaims?fieldSelector=bogus%3D1");  // 400 either way
  ExpectSame("/api/v1/persistentvolumeclaims?labelSelector=a%3D%3D%3D");
  // Pages: the same bytes (same revision in the tokens), from the cache's kept snapshot.
  for (const std::string accept : {"", kTable}) {
    ExpectSame("/api/v1/persistentvolumeclaims?limit=4", accept);
    ExpectSame("/api/v1/persistentvolumeclaims?limit=2&labelSelector=app%3Dweb", accept);
    ExpectSame("/api/v1/namespaces/other/persistentvolumeclaims?limit=1", accept);
    ExpectSame("/api/v1/persistentvolumeclaims?limit=0", accept);
  }
  Response page = Call(*cached_, "GET", "/api/v1/persistentvolumeclaims?limit=4");
  ASSERT_EQ(page.status, 200);
  json pb = json::parse(page.body);
  EXPECT_EQ(pb["items"].size(), 4u);
  EXPECT_EQ(pb["metadata"]["remainingItemCount"], 2);
  std::string tok = pb["metadata"]["continue"];
  Response rest = Call(*cached_, "GET", "/api/v1/persistentvolumeclaims?limit=4&continue=" + tok);
  EXPECT_EQ(Names(rest), (std::vector<std::string>{"c3", "c5"}));  // default/ sorts first
  ExpectSame("/api/v1/persistentvolumeclaims?limit=4&continue=" + tok, kTable);
  Response sel =
      Call(*cached_, "GET", "/api/v1/persistentvolumeclaims?limit=2&labelSelector=app%3Dweb");
  std::string selTok = json::parse(sel.body)["metadata"]["continue"];
  ExpectSame("/api/v1/persistentvolumeclaims?limit=2&labelSelector=app%3Dweb&continue=" + selTok);
  ExpectSame("/api/v1/persistentvolumeclaims?limit=4&continue=bogus");  // 400 either way
  // One store watch fed every cached list (none fell back after a timeout: this test is fast).
  EXPECT_EQ(breakable_->started(), 1);
}

TEST_F(WatchCacheTest, AListRightAfterAWriteSeesIt) {
  const std::string coll = "/api/v1/namespaces/default/persistentvolumeclaims";
  ASSERT_EQ(Names(Call(*cached_, "GET", coll)).size(), 0u);
  for (int i = 0; i < 40; ++i) {
    std::string name = "c" + std::to_string(i);
    CreatePvc("default", name, "a");
    auto names = Names(Call(*cached_, "GET", coll));
    ASSERT_EQ(names.size(), size_t(i + 1));
    ASSERT_EQ(std::count(names.begin(), names.end(), name), 1);
    // A label change is seen by the next selector list.
    Response p = cached_
                     ->Handle(Request::Make("PATCH", coll + "/" + name,
                                            R"({"metadata":{"labels":{"app":"b"}}})",
                                            {{"content-type", "application/merge-patch+json"}}))
                     .response;
    ASSERT_EQ(p.status, 200) << p.body;
    ASSERT_EQ(Names(Call(*cached_, "GET", coll + "?labelSelector=app%3Da")).size(), 0u);
  }
  // Deletes: the claims carry the protection finalizer, so a delete marks them; removing the
  // finalizer removes them; each list right after shows the state.
  for (int i = 0; i < 40; i += 2) {
    std::string name = "c" + std::to_string(i);
    ASSERT_EQ(Call(*cached_, "DELETE", coll + "/" + name).status, 200);
    json after =
        json::parse(Call(*cached_, "GET", coll + "?fieldSelector=metadata.name%3D" + name).body);
    ASSERT_EQ(after["items"].size(), 1u);
    EXPECT_TRUE(after["items"][0]["metadata"].contains("deletionTimestamp"));
    Response p = cached_
                     ->Handle(Request::Make("PATCH", coll + "/" + name,
                                            R"({"metadata":{"finalizers":null}})",
                                            {{"content-type", "application/merge-patch+json"}}))
                     .response;
    ASSERT_EQ(p.status, 200) << p.body;
    auto names = Names(Call(*cached_, "GET", coll));
    ASSERT_EQ(std::count(names.begin(), names.end(), name), 0) << name;
  }
  EXPECT_EQ(Names(Call(*cached_, "GET", coll)).size(), 20u);
  ExpectSame(coll);
  ExpectSame(coll, kTable);
}

TEST_F(WatchCacheTest, StaysConsistentWithTheStoreUnderConcurrentWrites) {
  ASSERT_EQ(Call(*cached_, "GET", "/api/v1/configmaps").status, 200);  // starts the cache
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([this, w] {
      for (int i = 0; i < 60; ++i) {
        std::string key = store::KeyFor("configmaps", "default",
                                        "w" + std::to_string(w) + "-" + std::to_string(i % 15));
        json v = {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata",
                   {{"name", key.substr(key.rfind('/') + 1)},
                    {"namespace", "default"},
                    {"creationTimestamp", "2025-12-31T00:00:00Z"}}},
                  {"data", {{"i", std::to_string(i)}}}};
        if (i % 7 == 6) {
          (void)sqlite_->Delete(key);
        } else if (!sqlite_->Update(key, v).ok()) {
          (void)sqlite_->Create(key, v);
        }
      }
    });
  }
  std::thread reader([&] {
    while (!stop.load()) {
      // Every consistent list shows at least every write that finished before it started.
      store::Revision before = sqlite_->CurrentRevision();
      Response r = Call(*cached_, "GET", "/api/v1/configmaps");
      ASSERT_EQ(r.status, 200);
      EXPECT_GE(std::stoll(json::parse(r.body)["metadata"]["resourceVersion"].get<std::string>()),
                before);
    }
  });
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  ExpectSame("/api/v1/configmaps");
  ExpectSame("/api/v1/namespaces/default/configmaps", kTable);
  Response a = Call(*cached_, "GET", "/api/v1/configmaps");
  EXPECT_EQ(json::parse(a.body)["metadata"]["resourceVersion"],
            std::to_string(sqlite_->CurrentRevision()));
}

TEST_F(WatchCacheTest, PagesReadOneSnapshotWhileWritesGoOn) {
  for (int i = 0; i < 9; ++i) CreatePvc("default", "c" + std::to_string(i), "a");
  const std::string coll = "/api/v1/namespaces/default/persistentvolumeclaims";
  std::vector<std::string> seen;
  std::string tok;
  std::string rv;
  for (int page = 0; page < 5; ++page) {
    Response r = Call(*cached_, "GET", coll + "?limit=4" + (tok.empty() ? "" : "&continue=" + tok));
    ASSERT_EQ(r.status, 200) << r.body;
    json b = json::parse(r.body);
    if (rv.empty()) rv = b["metadata"]["resourceVersion"];
    EXPECT_EQ(b["metadata"]["resourceVersion"], rv);  // every page at the first page's revision
    for (const auto& n : Names(r)) seen.push_back(n);
    // Writes between pages do not show in this list.
    CreatePvc("default", "z" + std::to_string(page), "a");
    if (page == 0) {
      ASSERT_EQ(Call(*plain_, "DELETE", coll + "/c8").status, 200);
    }
    tok = b["metadata"].value("continue", "");
    if (tok.empty()) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}));
  EXPECT_EQ(breakable_->started(), 1);  // served by the cache's one watch
  // A consistent list now shows the writes.
  auto now = Names(Call(*cached_, "GET", coll));
  EXPECT_EQ(now.size(),
            12u);  // c0..c8 (c8 is only marked: it has the protection finalizer), z0..z2
}

TEST_F(WatchCacheTest, RelistsAfterAWatchErrorAndAfterACompaction) {
  const std::string coll = "/api/v1/namespaces/default/persistentvolumeclaims";
  CreatePvc("default", "a", "x");
  EXPECT_EQ(Names(Call(*cached_, "GET", coll)), (std::vector<std::string>{"a"}));
  const int watches = breakable_->started();
  breakable_->BreakWatches();
  // Written while no watch feeds the cache: the next list must see it (it relists).
  CreatePvc("default", "b", "x");
  ASSERT_EQ(sqlite_->Compact(sqlite_->CurrentRevision()).ok(), true);
  EXPECT_EQ(Names(Call(*cached_, "GET", coll)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(breakable_->started(), watches + 1);
  CreatePvc("default", "c", "x");
  EXPECT_EQ(Names(Call(*cached_, "GET", coll)), (std::vector<std::string>{"a", "b", "c"}));
  ExpectSame(coll, kTable);
}

TEST_F(WatchCacheTest, ResourceVersionsAndTheCacheDirectly) {
  WatchCache::Options o;
  o.store = sqlite_.get();
  o.scheme = &api::Scheme::Default();
  WatchCache cache(o);
  EXPECT_EQ(cache.ResourceCount(), 0u);
  const api::ResourceInfo& info =
      api::Scheme::Default().ByResource("", "v1", "persistentvolumeclaims")->info();
  CreatePvc("default", "a", "x");
  auto l = cache.List(info, store::PrefixFor("persistentvolumeclaims"), -1, nullptr);
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->items.size(), 1u);
  EXPECT_EQ(l->revision, sqlite_->CurrentRevision());
  EXPECT_EQ(cache.ResourceCount(), 1u);
  auto got = sqlite_->Get(store::KeyFor("persistentvolumeclaims", "default", "a"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(l->items[0]->revision(), got->modRevision);
  json parsed = json::parse(l->items[0]->objectJson());
  EXPECT_EQ(parsed["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(parsed["metadata"]["resourceVersion"], std::to_string(got->modRevision));
  EXPECT_EQ(json::parse(l->items[0]->metadataJson()), parsed["metadata"]);
  // A snapshot stays as it was after later writes.
  CreatePvc("default", "b", "x");
  EXPECT_EQ(l->items.size(), 1u);
  auto l2 = cache.List(info, store::PrefixFor("persistentvolumeclaims", "default"), -1, nullptr);
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ(l2->items.size(), 2u);
  // resourceVersion newer than the store: the handler answers from the store, as before.
  Response r = Call(*cached_, "GET", "/api/v1/persistentvolumeclaims?resourceVersion=999999");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Names(r).size(), 2u);
  // An older one is answered by the cache (not older than asked).
  Response r2 = Call(*cached_, "GET", "/api/v1/persistentvolumeclaims?resourceVersion=1");
  EXPECT_EQ(Names(r2).size(), 2u);
}

TEST(WatchCacheSecrets, ServesDecryptedSecretsAndWritesNoPlaintext) {
  TempDir dir;
  auto inner = store::OpenSqliteStore(dir.File("kvol.db"));
  ASSERT_TRUE(inner.ok());
  auto keys = store::LoadOrCreateKeyFile(dir.File("keys.json"));
  ASSERT_TRUE(keys.ok());
  auto enc = store::EncryptingStore::Wrap(std::move(inner).value(), std::move(keys).value());
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  std::unique_ptr<store::Store> s = std::move(enc).value();
  HandlerOptions o;
  o.store = s.get();
  o.scheme = &api::Scheme::Default();
  {
    ApiHandler h(o);
    auto call = [&](const std::string& m, const std::string& t, const std::string& body = "") {
      return h.Handle(Request::Make(m, t, body, {{"content-type", "application/json"}})).response;
    };
    ASSERT_EQ(call("POST", "/api/v1/namespaces", R"({"metadata":{"name":"default"}})").status, 201);
    // "cGxhaW50ZXh0LXZhbHVl" is base64 of "plaintext-value".
    ASSERT_EQ(call("GET", "/api/v1/secrets").status, 200);  // the cache is filled
    ASSERT_EQ(call("POST", "/api/v1/namespaces/default/secrets",
                   R"({"metadata":{"name":"s"},"data":{"k":"cGxhaW50ZXh0LXZhbHVl"}})")
                  .status,
              201);
    json l = json::parse(call("GET", "/api/v1/secrets").body);
    ASSERT_EQ(l["items"].size(), 1u);
    EXPECT_EQ(l["items"][0]["data"]["k"], "cGxhaW50ZXh0LXZhbHVl");
  }
  s.reset();
  // No file under the data dir holds the secret's value.
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find("cGxhaW50ZXh0LXZhbHVl"), std::string::npos) << f.path();
    EXPECT_EQ(ss.str().find("plaintext-value"), std::string::npos) << f.path();
  }
}

}  // namespace
}  // namespace kvol::apiserver
