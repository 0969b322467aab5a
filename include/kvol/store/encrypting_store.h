// EncryptingStore: encryption at rest for chosen resources (Secrets by default), as a Store
// decorator over any backend, mirroring kube-apiserver's EncryptionConfiguration with the aesgcm
// provider first and the identity provider last.
//
// - Every value written under an encrypted prefix (default "/registry/secrets/") is stored as
//     {"kvolEncrypted": "k8s:enc:aesgcm:v1:<key name>:" + base64(nonce(12) || ciphertext || tag),
//      "kvolKey": "<the store key>"}
//   encrypted with AES-GCM (key of 16, 24 or 32 bytes; kvol generates 32) under the FIRST key,
//   a fresh random 12-byte nonce per write, and the store key (e.g.
//   "/registry/secrets/default/db") as additional authenticated data, so a ciphertext copied to
//   another key does not decrypt. The plaintext is the whole object without resourceVersion.
// - Reads (Get, List, Watch events, Txn results, and the filters of List and Watch) see the
//   decrypted object. A filter gets only the value, so the value names its store key in
//   "kvolKey" (no secret: the key is stored in the clear anyway); every other read authenticates
//   against the real key. Every key of the ring decrypts (rotation: add a new key first; each
//   later write re-encrypts with it; RewriteStale() rewrites the rest at once).
// - A value without "kvolEncrypted" (written before encryption was on) is returned as stored
//   (identity fallback). A value that does not decrypt is a kInternal error, never garbage:
//   `failed to decrypt <key> with key "<name>": authentication failed`, or
//   `failed to decrypt <key>: no key named "<name>"`; a watch ends with it (onClose).
// - Deviation from kube-apiserver, forced by Store's contract that the backend applies the
//   finalizer rule (op_plan.h): the metadata fields that rule reads or writes -- finalizers,
//   deletionTimestamp, deletionGracePeriodSeconds, generation -- are also kept in the clear next
//   to the ciphertext ("metadata": {...}, only the fields the object has). On read, the clear
//   copies (which the backend may have changed, e.g. a delete marking deletionTimestamp) win over
//   the decrypted ones. Names, labels, annotations and data are only in the ciphertext.
// - Keys outside the encrypted prefixes pass through unchanged.
//
// Key file (LoadOrCreateKeyFile): JSON {"keys":[{"name":"key1","secret":"<base64 of the key>"}]},
// mode 0600; the first key encrypts, all decrypt. Names are non-empty, unique, without ':'.
//
// Thread safety: every method may be called from any thread concurrently (the key ring is
// immutable after construction). Ownership: the EncryptingStore owns the wrapped Store. Watch
// handles it returns may outlive it, as the backend's do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kvol/store/store.h"

namespace kvol::store {

struct EncryptionKey {
  std::string name;
  std::string secret;  // raw key bytes (16, 24 or 32)
};

// "k8s:enc:aesgcm:v1:"
inline constexpr const char* kAesGcmPrefix = "k8s:enc:aesgcm:v1:";
// The name kvol gives the key it generates.
inline constexpr const char* kDefaultKeyName = "key1";

// Parses a key file's text; kBadRequest naming the problem (and `path`) when it is malformed.
Result<std::vector<EncryptionKey>> ParseKeyFile(const std::string& text,
                                                const std::string& path = "encryption keys");
// The key file's text for `keys` (what ParseKeyFile reads).
std::string FormatKeyFile(const std::vector<EncryptionKey>& keys);
// Reads `path`; when it does not exist, creates it (mode 0600, written atomically) with one
// random 32-byte key named "key1".
Result<std::vector<EncryptionKey>> LoadOrCreateKeyFile(const std::string& path);
// A random 32-byte key.
Result<EncryptionKey> GenerateKey(const std::string& name);

class EncryptingStore : public Store {
 public:
  // kBadRequest when `keys` is empty or a key is malformed. `prefixes`: the key prefixes to
  // encrypt (each should end with '/').
  static Result<std::unique_ptr<EncryptingStore>> Wrap(std::unique_ptr<Store> inner,
                                                       std::vector<EncryptionKey> keys,
                                                       std::vector<std::string> prefixes = {
                                                           "/registry/secrets/"});
  ~EncryptingStore() override;

  Result<Object> Get(const std::string& key) override;
  Result<ListResult> List(const ListOptions& opts) override;
  Result<TxnResult> Txn(std::vector<Op> ops) override;
  std::vector<Result<TxnResult>> TxnBatch(std::vector<std::vector<Op>> txns) override;
  Result<std::unique_ptr<WatchHandle>> Watch(
      const WatchOptions& opts, std::function<void(const WatchEvent&)> onEvent,
      std::function<void(const Status&)> onClose = nullptr) override;
  Revision CurrentRevision() override;
  Status Compact(Revision rev) override;
  Revision CompactedRevision() override;

  // Storage migration (what `kubectl get secrets -A -o json | kubectl replace -f -` does for
  // kube-apiserver): rewrites every value under an encrypted prefix that is stored in the clear
  // or under a key other than the first, so old keys can then be removed. Each rewrite is an
  // update conditioned on the value's revision (a value changed meanwhile was re-encrypted by
  // that write and is skipped). Returns how many values were rewritten; stops at the first
  // value that does not decrypt.
  Result<int64_t> RewriteStale();

  // The wrapped store: raw (encrypted) values. For tests and tools.
  Store& inner() { return *inner_; }

  struct Ring;  // the keys and prefixes (internal)

 private:
  EncryptingStore(std::unique_ptr<Store> inner, std::shared_ptr<const Ring> ring);
  std::unique_ptr<Store> inner_;
  std::shared_ptr<const Ring> ring_;
};

}  // namespace kvol::store
