#include "kvol/store/encrypting_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "kvol/store/op_plan.h"

namespace kvol::store {

namespace {

constexpr const char* kValueField = "kvolEncrypted";  // the ciphertext, with its prefix
constexpr const char* kKeyField = "kvolKey";          // the store key (for List/Watch filters)
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
// Metadata fields the backend's finalizer rule reads or writes (op_plan.h): kept in the clear.
constexpr const char* kClearFields[] = {"finalizers", "deletionTimestamp",
                                        "deletionGracePeriodSeconds", "generation"};

// ---- base64 (RFC 4648, padded) ------------------------------------------------------------------

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string B64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 |
                 uint32_t(uint8_t(in[i + 2]));
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// False when `in` is not padded standard base64.
bool B64Decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int pad = 0;
    if (last && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      int d = 0;
      if (j < 4 - size_t(pad)) {
        d = B64Value(in[i + j]);
        if (d < 0) return false;
      }
      v = v << 6 | uint32_t(d);
    }
    out += char(v >> 16);
    if (pad < 2) out += char((v >> 8) & 0xff);
    if (pad < 1) out += char(v & 0xff);
  }
  return true;
}

// ---- AES-GCM ------------------------------------------------------------------------------------

const EVP_CIPHER* CipherFor(size_t keySize) {
  switch (keySize) {
    case 16:
      return EVP_aes_128_gcm();
    case 24:
      return EVP_aes_192_gcm();
    case 32:
      return EVP_aes_256_gcm();
  }
  return nullptr;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// nonce || ciphertext || tag.
Result<std::string> GcmSeal(const std::string& key, std::string_view plain, std::string_view aad) {
  const EVP_CIPHER* cipher = CipherFor(key.size());
  if (!cipher) return Internal("encryption key has " + std::to_string(key.size()) + " bytes");
  std::string out(kNonceSize + plain.size() + kTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(o, int(kNonceSize)) != 1) return Internal("RAND_bytes failed");
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, U(key), o) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), int(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonceSize, &len, U(plain), int(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonceSize + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kTagSize),
                          o + kNonceSize + plain.size()) != 1) {
    return Internal("AES-GCM encryption failed");
  }
  return out;
}

// False when the tag does not verify (wrong key, wrong store key, or altered bytes).
bool GcmOpen(const std::string& key, std::string_view sealed, std::string_view aad,
             std::string& plain) {
  const EVP_CIPHER* cipher = CipherFor(key.size());
  if (!cipher || sealed.size() < kNonceSize + kTagSize) return false;
  const size_t n = sealed.size() - kNonceSize - kTagSize;
  plain.assign(n, '\0');
  auto* p = reinterpret_cast<unsigned char*>(plain.data());
  std::string tag(sealed.substr(kNonceSize + n));
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  return ctx && EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, U(key), U(sealed)) == 1 &&
         EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), int(aad.size())) == 1 &&
         EVP_DecryptUpdate(ctx.get(), p, &len, U(sealed) + kNonceSize, int(n)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTagSize), tag.data()) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), p + len, &fin) == 1;
}

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

// ---- the key ring -------------------------------------------------------------------------------

struct EncryptingStore::Ring {
  std::vector<EncryptionKey> keys;  // [0] encrypts
  std::vector<std::string> prefixes;

  bool Covers(const std::string& key) const {
    for (const auto& p : prefixes)
      if (HasPrefix(key, p)) return true;
    return false;
  }

  static const std::string* Sealed(const json& raw) {
    if (!raw.is_object()) return nullptr;
    auto it = raw.find(kValueField);
    if (it == raw.end() || !it->is_string()) return nullptr;
    return &it->get_ref<const std::string&>();
  }

  // The stored form of `value` under store key `key`.
  Result<json> Seal(const std::string& key, const json& value) const {
    const json plain = StripResourceVersion(value);
    const EncryptionKey& k = keys.front();
    KVOL_ASSIGN_OR_RETURN(std::string sealed, GcmSeal(k.secret, plain.dump(), key));
    json out = {{kValueField, kAesGcmPrefix + k.name + ":" + B64Encode(sealed)}, {kKeyField, key}};
    auto m = plain.find("metadata");
    if (m != plain.end() && m->is_object()) {
      for (const char* f : kClearFields) {
        auto it = m->find(f);
        if (it != m->end()) out["metadata"][f] = *it;
      }
    }
    return out;
  }

  // The object stored as `raw` under `key` (identity when `raw` is not encrypted).
  Result<json> Open(const std::string& key, const json& raw) const {
    const std::string* sealed = Sealed(raw);
    if (!sealed) return raw;
    auto fail = [&](const std::string& why) {
      return Internal("failed to decrypt " + key + ": " + why);
    };
    if (!HasPrefix(*sealed, kAesGcmPrefix)) return fail("unknown encryption prefix");
    std::string_view rest = std::string_view(*sealed).substr(std::strlen(kAesGcmPrefix));
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return fail("malformed value (no key name)");
    std::string name(rest.substr(0, colon));
    const EncryptionKey* k = nullptr;
    for (const auto& c : keys)
      if (c.name == name) k = &c;
    if (!k) return fail("no key named \"" + name + "\"");
    auto failWith = [&](const std::string& why) {
      return Internal("failed to decrypt " + key + " with key \"" + name + "\": " + why);
    };
    std::string bytes, text;
    if (!B64Decode(rest.substr(colon + 1), bytes)) return failWith("invalid base64");
    if (!GcmOpen(k->secret, bytes, key, text)) return failWith("authentication failed");
    json plain = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!plain.is_object()) return failWith("the decrypted value is not a JSON object");
    // The clear metadata (which the backend may have changed) wins.
    auto rm = raw.find("metadata");
    const bool hasRaw = rm != raw.end() && rm->is_object();
    auto pm = plain.find("metadata");
    if (pm == plain.end() && hasRaw) pm = plain.emplace("metadata", json::object()).first;
    if (pm != plain.end() && pm->is_object()) {
      for (const char* f : kClearFields) {
        if (hasRaw && rm->contains(f)) {
          (*pm)[f] = (*rm)[f];
        } else {
          pm->erase(f);
        }
      }
      if (hasRaw && rm->contains("resourceVersion"))
        (*pm)["resourceVersion"] = (*rm)["resourceVersion"];
    }
    return plain;
  }

  // True when `raw` is not encrypted with the first key.
  bool IsStale(const json& raw) const {
    const std::string* sealed = Sealed(raw);
    return !sealed || !HasPrefix(*sealed, kAesGcmPrefix + keys.front().name + ":");
  }

  Status OpenObject(Object& o) const {
    if (!Covers(o.key)) return Status::Ok();
    KVOL_ASSIGN_OR_RETURN(o.value, Open(o.key, o.value));
    return Status::Ok();
  }

  Status SealOps(std::vector<Op>& ops) const {
    for (Op& op : ops) {
      if (op.type == Op::Type::kDelete || !op.value.is_object() || !Covers(op.key)) continue;
      KVOL_ASSIGN_OR_RETURN(op.value, Seal(op.key, op.value));
    }
    return Status::Ok();
  }

  Result<TxnResult> OpenResult(Result<TxnResult> r) const {
    if (!r.ok()) return r;
    for (Object& o : r->objects) KVOL_RETURN_IF_ERROR(OpenObject(o));
    return r;
  }

  // A List/Watch filter over stored values: decrypts first (the store key is in the value).
  // A value that does not decrypt passes, so the read that follows reports the error.
  static std::function<bool(const json&)> WrapFilter(std::shared_ptr<const Ring> ring,
                                                     std::function<bool(const json&)> filter) {
    if (!filter) return nullptr;
    return [ring = std::move(ring), filter = std::move(filter)](const json& raw) {
      if (!Sealed(raw)) return filter(raw);
      auto k = raw.find(kKeyField);
      if (k == raw.end() || !k->is_string()) return true;
      auto plain = ring->Open(k->get<std::string>(), raw);
      return plain.ok() ? filter(*plain) : true;
    };
  }
};

// ---- key files ----------------------------------------------------------------------------------

Result<std::vector<EncryptionKey>> ParseKeyFile(const std::string& text, const std::string& path) {
  auto bad = [&](const std::string& why) { return BadRequest(path + ": " + why); };
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not valid JSON");
  if (!doc.is_object()) return bad("must be a JSON object {\"keys\": [...]}");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "keys") return bad("unknown field \"" + it.key() + "\"");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array() || keys->empty())
    return bad("keys: must list at least one key");
  std::vector<EncryptionKey> out;
  std::set<std::string> names;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& k = (*keys)[i];
    const std::string at = "keys[" + std::to_string(i) + "]";
    if (!k.is_object()) return bad(at + ": must be an object with name and secret");
    for (auto it = k.begin(); it != k.end(); ++it) {
      if (it.key() != "name" && it.key() != "secret")
        return bad(at + ": unknown field \"" + it.key() + "\"");
    }
    auto n = k.find("name");
    if (n == k.end() || !n->is_string() || n->get_ref<const std::string&>().empty())
      return bad(at + ".name: Required value");
    EncryptionKey key;
    key.name = n->get<std::string>();
    if (key.name.find(':') != std::string::npos)
      return bad(at + ".name: must not contain ':', got \"" + key.name + "\"");
    if (!names.insert(key.name).second)
      return bad(at + ".name: Duplicate value: \"" + key.name + "\"");
    auto s = k.find("secret");
    if (s == k.end() || !s->is_string()) return bad(at + ".secret: Required value");
    if (!B64Decode(s->get_ref<const std::string&>(), key.secret))
      return bad(at + ".secret: must be standard (padded) base64");
    if (!CipherFor(key.secret.size())) {
      return bad(at + ".secret: must be 16, 24 or 32 bytes, got " +
                 std::to_string(key.secret.size()));
    }
    out.push_back(std::move(key));
  }
  return out;
}

std::string FormatKeyFile(const std::vector<EncryptionKey>& keys) {
  json arr = json::array();
  for (const auto& k : keys) arr.push_back({{"name", k.name}, {"secret", B64Encode(k.secret)}});
  return json{{"keys", arr}}.dump(2) + "\n";
}

Result<EncryptionKey> GenerateKey(const std::string& name) {
  EncryptionKey k;
  k.name = name;
  k.secret.assign(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.secret.data()), 32) != 1)
    return Internal("RAND_bytes failed");
  return k;
}

namespace {

Status Errno(const std::string& what) { return Internal(what + ": " + std::strerror(errno)); }

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Errno("cannot read " + path);
  return ss.str();
}

// Writes `text` to `path` (0600) unless `path` exists: no key is ever overwritten.
// Returns false in *created when the file already existed.
Status CreateExclusive(const std::string& path, const std::string& text, bool* created) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + tmp);
  Status st;
  if (::fchmod(fd, 0600) != 0) st = Errno("chmod " + tmp);
  size_t off = 0;
  while (st.ok() && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) st = Errno("write " + tmp);
    if (n > 0) off += size_t(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync " + tmp);
  ::close(fd);
  *created = false;
  if (st.ok()) {
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      *created = true;
    } else if (errno != EEXIST) {
      st = Errno("cannot create " + path);
    }
  }
  ::unlink(tmp.c_str());
  if (st.ok() && *created) {
    std::string dir =
        path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
    if (dir.empty()) dir = path.find('/') == 0 ? "/" : ".";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }
  return st;
}

}  // namespace

Result<std::vector<EncryptionKey>> LoadOrCreateKeyFile(const std::string& path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) {
    if (errno != ENOENT) return Errno("cannot stat " + path);
    KVOL_ASSIGN_OR_RETURN(EncryptionKey k, GenerateKey(kDefaultKeyName));
    bool created = false;
    KVOL_RETURN_IF_ERROR(CreateExclusive(path, FormatKeyFile({k}), &created));
    if (created) return std::vector<EncryptionKey>{std::move(k)};
  }
  KVOL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseKeyFile(text, path);
}

// ---- the decorator ------------------------------------------------------------------------------

Result<std::unique_ptr<EncryptingStore>> EncryptingStore::Wrap(std::unique_ptr<Store> inner,
                                                               std::vector<EncryptionKey> keys,
                                                               std::vector<std::string> prefixes) {
  if (!inner) return BadRequest("EncryptingStore: no store to wrap");
  if (keys.empty()) return BadRequest("EncryptingStore: no encryption key");
  std::set<std::string> names;
  for (const auto& k : keys) {
    if (k.name.empty() || k.name.find(':') != std::string::npos)
      return BadRequest("EncryptingStore: invalid key name \"" + k.name + "\"");
    if (!names.insert(k.name).second)
      return BadRequest("EncryptingStore: duplicate key name \"" + k.name + "\"");
    if (!CipherFor(k.secret.size())) {
      return BadRequest("EncryptingStore: key \"" + k.name + "\" must be 16, 24 or 32 bytes, got " +
                        std::to_string(k.secret.size()));
    }
  }
  auto ring = std::make_shared<Ring>();
  ring->keys = std::move(keys);
  ring->prefixes = std::move(prefixes);
  return std::unique_ptr<EncryptingStore>(new EncryptingStore(std::move(inner), std::move(ring)));
}

EncryptingStore::EncryptingStore(std::unique_ptr<Store> inner, std::shared_ptr<const Ring> ring)
    : inner_(std::move(inner)), ring_(std::move(ring)) {}

EncryptingStore::~EncryptingStore() = default;

Result<Object> EncryptingStore::Get(const std::string& key) {
  KVOL_ASSIGN_OR_RETURN(Object o, inner_->Get(key));
  KVOL_RETURN_IF_ERROR(ring_->OpenObject(o));
  return o;
}

Result<ListResult> EncryptingStore::List(const ListOptions& opts) {
  ListOptions o = opts;
  o.filter = Ring::WrapFilter(ring_, opts.filter);
  KVOL_ASSIGN_OR_RETURN(ListResult r, inner_->List(o));
  for (Object& item : r.items) KVOL_RETURN_IF_ERROR(ring_->OpenObject(item));
  return r;
}

Result<TxnResult> EncryptingStore::Txn(std::vector<Op> ops) {
  KVOL_RETURN_IF_ERROR(ring_->SealOps(ops));
  return ring_->OpenResult(inner_->Txn(std::move(ops)));
}

std::vector<Result<TxnResult>> EncryptingStore::TxnBatch(std::vector<std::vector<Op>> txns) {
  // A Txn whose values cannot be sealed fails alone; the others go to the backend together.
  std::vector<Result<TxnResult>> out(txns.size(), Result<TxnResult>(Internal("not run")));
  std::vector<std::vector<Op>> run;
  std::vector<size_t> index;
  for (size_t i = 0; i < txns.size(); ++i) {
    Status st = ring_->SealOps(txns[i]);
    if (!st.ok()) {
      out[i] = st;
      continue;
    }
    run.push_back(std::move(txns[i]));
    index.push_back(i);
  }
  if (run.empty()) return out;
  std::vector<Result<TxnResult>> results = inner_->TxnBatch(std::move(run));
  for (size_t j = 0; j < results.size() && j < index.size(); ++j)
    out[index[j]] = ring_->OpenResult(std::move(results[j]));
  return out;
}

namespace {

// Owns the backend's handle; the shared state outlives it in the backend's callbacks.
class EncryptingWatchHandle : public WatchHandle {
 public:
  explicit EncryptingWatchHandle(std::unique_ptr<WatchHandle> inner) : inner_(std::move(inner)) {}

 private:
  std::unique_ptr<WatchHandle> inner_;
};

}  // namespace

Result<std::unique_ptr<WatchHandle>> EncryptingStore::Watch(
    const WatchOptions& opts, std::function<void(const WatchEvent&)> onEvent,
    std::function<void(const Status&)> onClose) {
  if (!onEvent) return BadRequest("watch needs an event callback");
  struct State {
    std::shared_ptr<const Ring> ring;
    std::function<void(const WatchEvent&)> onEvent;
    std::function<void(const Status&)> onClose;
    std::atomic<bool> closed{false};
    void Close(const Status& s) {
      if (closed.exchange(true)) return;
      if (onClose) onClose(s);
    }
  };
  auto state = std::make_shared<State>();
  state->ring = ring_;
  state->onEvent = std::move(onEvent);
  state->onClose = std::move(onClose);
  WatchOptions o = opts;
  o.filter = Ring::WrapFilter(ring_, opts.filter);
  auto inner = inner_->Watch(
      o,
      [state](const WatchEvent& e) {
        if (state->closed.load()) return;
        if (!state->ring->Covers(e.object.key)) return state->onEvent(e);
        WatchEvent d = e;
        Status st = state->ring->OpenObject(d.object);
        if (!st.ok()) return state->Close(st);
        state->onEvent(d);
      },
      [state](const Status& s) { state->Close(s); });
  if (!inner.ok()) return inner.status();
  return std::unique_ptr<WatchHandle>(new EncryptingWatchHandle(std::move(inner).value()));
}

Revision EncryptingStore::CurrentRevision() { return inner_->CurrentRevision(); }
Status EncryptingStore::Compact(Revision rev) { return inner_->Compact(rev); }
Revision EncryptingStore::CompactedRevision() { return inner_->CompactedRevision(); }

Result<int64_t> EncryptingStore::RewriteStale() {
  constexpr size_t kBatch = 256;
  int64_t rewritten = 0;
  for (const std::string& prefix : ring_->prefixes) {
    ListOptions lo;
    lo.prefix = prefix;
    KVOL_ASSIGN_OR_RETURN(ListResult all, inner_->List(lo));
    std::vector<std::vector<Op>> batch;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::Ok();
      for (auto& r : inner_->TxnBatch(std::move(batch))) {
        if (r.ok()) {
          ++rewritten;
        } else if (!r.status().IsConflict() && !r.status().IsNotFound()) {
          return r.status();  // changed or gone meanwhile: that write re-encrypted it
        }
      }
      batch.clear();
      return Status::Ok();
    };
    for (const Object& o : all.items) {
      if (!ring_->Covers(o.key) || !ring_->IsStale(o.value)) continue;
      KVOL_ASSIGN_OR_RETURN(json plain, ring_->Open(o.key, o.value));
      KVOL_ASSIGN_OR_RETURN(json sealed, ring_->Seal(o.key, plain));
      batch.push_back({Op::Update(o.key, std::move(sealed), o.modRevision)});
      if (batch.size() == kBatch) KVOL_RETURN_IF_ERROR(flush());
    }
    KVOL_RETURN_IF_ERROR(flush());
  }
  return rewritten;
}

}  // namespace kvol::store
