#include "kvol/store/encrypting_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "kvol/store/op_plan.h"
#include "kvol/store/sqlite_store.h"
#include "src/store/sqlite/test_util.h"

namespace kvol::store {
namespace {

using testing::Collector;
using testing::Describe;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TempDir;

constexpr const char* kPlain = "s3cr3t-value-XYZ";
constexpr const char* kPlainB64 = "czNjcjN0LXZhbHVlLVhZWg==";  // base64("s3cr3t-value-XYZ")
constexpr const char* kConfigValue = "config-value-in-the-clear-42";

std::string SecretKey(const std::string& name) { return KeyFor("secrets", "default", name); }

json Secret(const std::string& name, const std::string& b64 = kPlainB64) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "db"}}}}},
          {"data", {{"password", b64}}},
          {"type", "Opaque"}};
}

json ConfigMap(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"data", {{"setting", kConfigValue}}}};
}

EncryptionKey Key(const std::string& name) {
  auto k = GenerateKey(name);
  EXPECT_TRUE(k.ok());
  return *k;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string& Sealed(const json& raw) {
  return raw.at("kvolEncrypted").get_ref<const std::string&>();
}

class EncryptingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key1_ = Key("key1");
    key2_ = Key("key2");
    Open({key1_});
  }
  void Open(std::vector<EncryptionKey> keys) {
    store_.reset();
    auto s = OpenSqliteStore(Db());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto e = EncryptingStore::Wrap(std::move(*s), std::move(keys));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    store_ = std::move(*e);
  }
  std::string Db() const { return dir_.File("kvol.db"); }
  // Every byte SQLite has on disk for the store.
  std::string DiskBytes() const {
    return ReadAll(Db()) + ReadAll(Db() + "-wal") + ReadAll(Db() + "-shm");
  }
  json Raw(const std::string& key) {
    auto o = store_->inner().Get(key);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? o->value : json();
  }

  TempDir dir_;
  EncryptionKey key1_, key2_;
  std::unique_ptr<EncryptingStore> store_;
};

TEST_F(EncryptingStoreTest, SecretReadsBackEqualAndIsStoredEncrypted) {
  auto c = store_->Create(SecretKey("db"), Secret("db"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(StripResourceVersion(c->value), Secret("db"));
  EXPECT_EQ(c->value["metadata"]["resourceVersion"], std::to_string(c->modRevision));

  auto g = store_->Get(SecretKey("db"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(StripResourceVersion(g->value), Secret("db"));
  EXPECT_EQ(g->value["metadata"]["resourceVersion"], std::to_string(c->modRevision));

  json raw = Raw(SecretKey("db"));
  EXPECT_THAT(Sealed(raw), StartsWith("k8s:enc:aesgcm:v1:key1:"));
  EXPECT_FALSE(raw.contains("data"));
  EXPECT_EQ(raw["kvolKey"], SecretKey("db"));
  // Only resourceVersion (set by the backend on read) is in the clear metadata.
  EXPECT_EQ(raw["metadata"], json({{"resourceVersion", std::to_string(c->modRevision)}}));

  // A fresh nonce per write: the same object written twice seals differently.
  auto c2 = store_->Create(SecretKey("db2"), Secret("db"));
  ASSERT_TRUE(c2.ok());
  std::string a = Sealed(raw), b = Sealed(Raw(SecretKey("db2")));
  EXPECT_NE(a.substr(a.size() - 40), b.substr(b.size() - 40));
}

TEST_F(EncryptingStoreTest, DatabaseFilesHoldNoSecretValueButConfigMapsInTheClear) {
  ASSERT_TRUE(store_->Create(SecretKey("db"), Secret("db")).ok());
  ASSERT_TRUE(store_->Create(KeyFor("configmaps", "default", "cfg"), ConfigMap("cfg")).ok());
  json upd = Secret("db");
  upd["metadata"]["labels"]["rev"] = "2";
  ASSERT_TRUE(store_->Update(SecretKey("db"), upd).ok());

  std::string disk = DiskBytes();
  EXPECT_EQ(disk.find(kPlain), std::string::npos);
  EXPECT_EQ(disk.find(kPlainB64), std::string::npos);
  EXPECT_NE(disk.find(kConfigValue), std::string::npos);  // the check can see values
  EXPECT_NE(disk.find("k8s:enc:aesgcm:v1:key1:"), std::string::npos);

  store_.reset();  // close: SQLite checkpoints the WAL into kvol.db
  disk = DiskBytes();
  EXPECT_EQ(disk.find(kPlain), std::string::npos);
  EXPECT_EQ(disk.find(kPlainB64), std::string::npos);
  EXPECT_NE(disk.find(kConfigValue), std::string::npos);

  Open({key1_});
  auto g = store_->Get(SecretKey("db"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->value["data"]["password"], kPlainB64);
  EXPECT_EQ(g->value["metadata"]["labels"]["rev"], "2");
}

TEST_F(EncryptingStoreTest, ListDecryptsAndFiltersSeeTheDecryptedObject) {
  ASSERT_TRUE(store_->Create(SecretKey("a"), Secret("a")).ok());
  ASSERT_TRUE(store_->Create(SecretKey("b"), Secret("b", "b3RoZXI=")).ok());
  ASSERT_TRUE(store_->Create(KeyFor("configmaps", "default", "cfg"), ConfigMap("cfg")).ok());

  ListOptions lo;
  lo.prefix = PrefixFor("secrets");
  auto l = store_->List(lo);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->items.size(), 2u);
  EXPECT_EQ(StripResourceVersion(l->items[0].value), Secret("a"));
  EXPECT_EQ(StripResourceVersion(l->items[1].value), Secret("b", "b3RoZXI="));

  // A filter on the data (a field selector would look at the same object).
  lo.filter = [](const json& v) { return v["data"]["password"] == "b3RoZXI="; };
  l = store_->List(lo);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->items.size(), 1u);
  EXPECT_EQ(l->items[0].key, SecretKey("b"));

  // Paging and a snapshot at an older revision (read from the log, not memory).
  ListOptions page;
  page.prefix = PrefixFor("secrets");
  page.limit = 1;
  auto p1 = store_->List(page);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 1u);
  EXPECT_EQ(p1->items[0].value["data"]["password"], kPlainB64);
  page.continueToken = p1->continueToken;
  auto p2 = store_->List(page);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].value["data"]["password"], "b3RoZXI=");

  // Everything under /registry/: secrets decrypted, the rest untouched.
  ListOptions all;
  all.prefix = "/registry/";
  auto a = store_->List(all);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->items.size(), 3u);
  EXPECT_EQ(a->items[0].value["data"]["setting"], kConfigValue);
  EXPECT_EQ(a->items[1].value["data"]["password"], kPlainB64);
}

TEST_F(EncryptingStoreTest, WatchDeliversDecryptedObjects) {
  ASSERT_TRUE(store_->Create(KeyFor("configmaps", "default", "cfg"), ConfigMap("cfg")).ok());
  const Revision start = store_->CurrentRevision();
  ASSERT_TRUE(store_->Create(SecretKey("a"), Secret("a")).ok());

  Collector history, filtered;
  WatchOptions wo;
  wo.prefix = PrefixFor("secrets", "default");
  wo.afterRevision = start;  // from history, then live
  auto h = store_->Watch(wo, history.Fn());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  WatchOptions fo;
  fo.prefix = PrefixFor("secrets", "default");
  fo.filter = [](const json& v) { return v["metadata"]["labels"].value("app", "") == "db"; };
  auto fh = store_->Watch(fo, filtered.Fn());
  ASSERT_TRUE(fh.ok()) << fh.status().ToString();

  json relabeled = Secret("a");
  relabeled["metadata"]["labels"]["app"] = "web";
  ASSERT_TRUE(store_->Update(SecretKey("a"), relabeled).ok());
  ASSERT_TRUE(store_->Delete(SecretKey("a")).ok());

  auto ev = history.WaitFor(3);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(Describe(ev)[0], "ADDED " + SecretKey("a") + "@" + std::to_string(start + 1));
  EXPECT_EQ(StripResourceVersion(ev[0].object.value), Secret("a"));
  EXPECT_EQ(ev[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(StripResourceVersion(ev[1].object.value), relabeled);
  EXPECT_EQ(ev[2].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(ev[2].object.value["data"]["password"], kPlainB64);
  EXPECT_EQ(ev[2].object.value["metadata"]["resourceVersion"], std::to_string(start + 3));

  // The filtered watch saw the relabel as the object leaving its selection (the filter ran on
  // the decrypted old and new states).
  auto fev = filtered.WaitFor(1);
  ASSERT_EQ(fev.size(), 1u);
  EXPECT_EQ(fev[0].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(fev[0].object.value["metadata"]["labels"]["app"], "web");
}

TEST_F(EncryptingStoreTest, TxnAndTxnBatchWithSecretOps) {
  auto t = store_->Txn({Op::Create(SecretKey("a"), Secret("a")),
                        Op::Create(KeyFor("configmaps", "default", "cfg"), ConfigMap("cfg"))});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(StripResourceVersion(t->objects[0].value), Secret("a"));
  EXPECT_EQ(StripResourceVersion(t->objects[1].value), ConfigMap("cfg"));
  EXPECT_EQ(Raw(KeyFor("configmaps", "default", "cfg"))["data"]["setting"], kConfigValue);

  // A failed precondition still fails the whole Txn with the backend's message.
  auto dup = store_->Txn(
      {Op::Create(SecretKey("b"), Secret("b")), Op::Create(SecretKey("a"), Secret("a"))});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "key \"" + SecretKey("a") + "\" already exists");
  EXPECT_TRUE(store_->Get(SecretKey("b")).status().IsNotFound());

  auto batch = store_->TxnBatch({{Op::Update(SecretKey("a"), Secret("a", "bmV3"))},
                                 {Op::Create(SecretKey("a"), Secret("a"))},
                                 {Op::Create(SecretKey("c"), Secret("c"))}});
  ASSERT_EQ(batch.size(), 3u);
  ASSERT_TRUE(batch[0].ok());
  EXPECT_EQ(batch[0]->objects[0].value["data"]["password"], "bmV3");
  EXPECT_TRUE(batch[1].status().IsAlreadyExists());
  ASSERT_TRUE(batch[2].ok());
  EXPECT_EQ(StripResourceVersion(batch[2]->objects[0].value), Secret("c"));

  auto gu = store_->GuaranteedUpdate(SecretKey("c"), [](json& v) {
    EXPECT_EQ(v["data"]["password"], kPlainB64);  // fn sees the decrypted object
    v["data"]["extra"] = "eA==";
    return Status::Ok();
  });
  ASSERT_TRUE(gu.ok()) << gu.status().ToString();
  EXPECT_EQ(gu->value["data"]["extra"], "eA==");
  EXPECT_THAT(Sealed(Raw(SecretKey("c"))), StartsWith("k8s:enc:aesgcm:v1:key1:"));

  // A no-op GuaranteedUpdate writes nothing (compared on decrypted values).
  const Revision before = store_->CurrentRevision();
  auto noop = store_->GuaranteedUpdate(SecretKey("c"), [](json&) { return Status::Ok(); });
  ASSERT_TRUE(noop.ok());
  EXPECT_EQ(store_->CurrentRevision(), before);
}

TEST_F(EncryptingStoreTest, FinalizerRuleStillAppliesToEncryptedSecrets) {
  json s = Secret("f");
  s["metadata"]["finalizers"] = {"example.com/keep"};
  s["metadata"]["generation"] = 3;
  ASSERT_TRUE(store_->Create(SecretKey("f"), s).ok());
  EXPECT_EQ(Raw(SecretKey("f"))["metadata"]["finalizers"], json({"example.com/keep"}));

  bool deleted = true;
  auto d = store_->Delete(SecretKey("f"), kAnyRevision, &deleted);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(deleted);
  EXPECT_TRUE(d->value["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(d->value["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(d->value["data"]["password"], kPlainB64);
  EXPECT_EQ(d->value["metadata"]["generation"], 4);  // bumped by the backend, in the clear copy

  auto g = store_->Get(SecretKey("f"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->value["metadata"]["deletionTimestamp"], d->value["metadata"]["deletionTimestamp"]);

  json cleared = g->value;
  cleared["metadata"].erase("finalizers");
  auto u = store_->Txn({Op::Update(SecretKey("f"), cleared, g->modRevision)});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->deleted[0]);
  EXPECT_TRUE(store_->Get(SecretKey("f")).status().IsNotFound());
}

TEST_F(EncryptingStoreTest, KeyRotation) {
  ASSERT_TRUE(store_->Create(SecretKey("old"), Secret("old")).ok());
  ASSERT_TRUE(store_->Create(SecretKey("untouched"), Secret("untouched")).ok());

  // key2 added first: new writes use it, key1 values still read.
  Open({key2_, key1_});
  auto g = store_->Get(SecretKey("old"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(StripResourceVersion(g->value), Secret("old"));
  json upd = g->value;
  upd["data"]["password"] = "cm90YXRlZA==";
  ASSERT_TRUE(store_->Update(SecretKey("old"), upd).ok());
  EXPECT_THAT(Sealed(Raw(SecretKey("old"))), StartsWith("k8s:enc:aesgcm:v1:key2:"));
  EXPECT_THAT(Sealed(Raw(SecretKey("untouched"))), StartsWith("k8s:enc:aesgcm:v1:key1:"));
  ASSERT_TRUE(store_->Create(SecretKey("new"), Secret("new")).ok());
  EXPECT_THAT(Sealed(Raw(SecretKey("new"))), StartsWith("k8s:enc:aesgcm:v1:key2:"));

  // key1 removed: what was rewritten still reads; what was not names the missing key.
  Open({key2_});
  g = store_->Get(SecretKey("old"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->value["data"]["password"], "cm90YXRlZA==");
  ASSERT_TRUE(store_->Get(SecretKey("new")).ok());
  auto missing = store_->Get(SecretKey("untouched"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInternal);
  EXPECT_EQ(missing.status().message(),
            "failed to decrypt /registry/secrets/default/untouched: no key named \"key1\"");

  // RewriteStale (with key1 back, second) migrates the rest; then key1 can go.
  Open({key2_, key1_});
  auto n = store_->RewriteStale();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_THAT(Sealed(Raw(SecretKey("untouched"))), StartsWith("k8s:enc:aesgcm:v1:key2:"));
  n = store_->RewriteStale();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  Open({key2_});
  g = store_->Get(SecretKey("untouched"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(StripResourceVersion(g->value), Secret("untouched"));
}

TEST_F(EncryptingStoreTest, TamperedOrMovedCiphertextIsAnErrorNeverGarbage) {
  ASSERT_TRUE(store_->Create(SecretKey("x"), Secret("x")).ok());
  json raw = StripResourceVersion(Raw(SecretKey("x")));

  // One byte of the ciphertext changed.
  json tampered = raw;
  std::string sealed = Sealed(raw);
  size_t at = sealed.size() - 20;
  sealed[at] = sealed[at] == 'A' ? 'B' : 'A';
  tampered["kvolEncrypted"] = sealed;
  ASSERT_TRUE(store_->inner().Update(SecretKey("x"), tampered).ok());
  const std::string want =
      "failed to decrypt /registry/secrets/default/x with key \"key1\": authentication failed";
  auto g = store_->Get(SecretKey("x"));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Code::kInternal);
  EXPECT_EQ(g.status().message(), want);
  ListOptions lo;
  lo.prefix = PrefixFor("secrets");
  auto l = store_->List(lo);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message(), want);
  lo.filter = [](const json&) { return true; };
  EXPECT_EQ(store_->List(lo).status().message(), want);

  // The intact ciphertext copied under another key: the store key is authenticated.
  ASSERT_TRUE(store_->inner().Create(SecretKey("y"), raw).ok());
  auto y = store_->Get(SecretKey("y"));
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().message(),
            "failed to decrypt /registry/secrets/default/y with key \"key1\": authentication "
            "failed");

  // A watch that meets such a value ends with the error.
  std::mutex mu;
  std::condition_variable cv;
  Status closed;
  bool gotClose = false;
  Collector events;
  WatchOptions wo;
  wo.prefix = PrefixFor("secrets");
  auto h = store_->Watch(wo, events.Fn(), [&](const Status& s) {
    std::lock_guard<std::mutex> lk(mu);
    closed = s;
    gotClose = true;
    cv.notify_all();
  });
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(store_->inner().Update(SecretKey("x"), tampered).ok());
  ASSERT_TRUE(store_->Create(SecretKey("z"), Secret("z")).ok());
  {
    std::unique_lock<std::mutex> lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return gotClose; }));
    EXPECT_EQ(closed.message(), want);
  }
  h->reset();
  EXPECT_TRUE(events.Events().empty());  // nothing after the error either
}

TEST_F(EncryptingStoreTest, LegacyPlainValuesReadAsIsAndRewriteStaleEncryptsThem) {
  ASSERT_TRUE(store_->inner().Create(SecretKey("legacy"), Secret("legacy")).ok());
  auto g = store_->Get(SecretKey("legacy"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(StripResourceVersion(g->value), Secret("legacy"));
  ListOptions lo;
  lo.prefix = PrefixFor("secrets");
  lo.filter = [](const json& v) { return v.contains("data"); };
  auto l = store_->List(lo);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->items.size(), 1u);

  auto n = store_->RewriteStale();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  json raw = Raw(SecretKey("legacy"));
  EXPECT_FALSE(raw.contains("data"));
  EXPECT_THAT(Sealed(raw), StartsWith("k8s:enc:aesgcm:v1:key1:"));
  g = store_->Get(SecretKey("legacy"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(StripResourceVersion(g->value), Secret("legacy"));
}

TEST(EncryptionKeyFile, CreatedOnceWithModeAndOneKey) {
  TempDir dir;
  const std::string path = dir.File("encryption-keys.json");
  auto k = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  ASSERT_EQ(k->size(), 1u);
  EXPECT_EQ((*k)[0].name, "key1");
  EXPECT_EQ((*k)[0].secret.size(), 32u);
  struct stat sb;
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600);
  json doc = json::parse(ReadAll(path));
  ASSERT_EQ(doc["keys"].size(), 1u);
  EXPECT_EQ(doc["keys"][0]["name"], "key1");
  EXPECT_EQ(doc["keys"][0]["secret"].get<std::string>().size(), 44u);  // base64 of 32 bytes

  auto again = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].secret, (*k)[0].secret);

  // Rotation: a new key first in the file.
  std::vector<EncryptionKey> rotated = {*GenerateKey("key2"), (*k)[0]};
  std::ofstream(path) << FormatKeyFile(rotated);
  auto r = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "key2");
  EXPECT_EQ((*r)[1].secret, (*k)[0].secret);
}

TEST(EncryptionKeyFile, MalformedFilesAreRejected) {
  auto msg = [](const std::string& text) {
    return ParseKeyFile(text, "f.json").status().message();
  };
  EXPECT_EQ(msg("nope"), "f.json: not valid JSON");
  EXPECT_EQ(msg(R"({"keys":[]})"), "f.json: keys: must list at least one key");
  EXPECT_EQ(msg(R"({"keys":[{"name":"a","secret":"AAAA"}]})"),
            "f.json: keys[0].secret: must be 16, 24 or 32 bytes, got 3");
  EXPECT_EQ(msg(R"({"keys":[{"name":"a","secret":"***"}]})"),
            "f.json: keys[0].secret: must be standard (padded) base64");
  EXPECT_EQ(msg(R"({"keys":[{"secret":"AAAA"}]})"), "f.json: keys[0].name: Required value");
  EXPECT_EQ(msg(R"({"keys":[{"name":"a:b","secret":"AAAA"}]})"),
            "f.json: keys[0].name: must not contain ':', got \"a:b\"");
  const std::string k32 = "\"" + std::string(43, 'A') + "=\"";
  EXPECT_EQ(
      msg(R"({"keys":[{"name":"a","secret":)" + k32 + R"(},{"name":"a","secret":)" + k32 + "}]}"),
      "f.json: keys[1].name: Duplicate value: \"a\"");
  EXPECT_EQ(msg(R"({"keys":[{"name":"a","secret":)" + k32 + R"(,"x":1}]})"),
            "f.json: keys[0]: unknown field \"x\"");
  EXPECT_TRUE(ParseKeyFile(R"({"keys":[{"name":"a","secret":)" + k32 + "}]}").ok());
}

}  // namespace
}  // namespace kvol::store
