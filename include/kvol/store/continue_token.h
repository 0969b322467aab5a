// List continue tokens, in kube-apiserver's format: base64url (no padding) of
// {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key minus the list prefix>"}.
// Every page of a paged list reads at the first page's revision, so the pages form one
// consistent snapshot.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "kvol/store/store.h"

namespace kvol::store {

struct ContinuePosition {
  Revision revision = 0;
  std::string startAfter;  // the full key of the last item returned; the next page starts after it
};

// `lastKey` is the full key of the last item of the page; `prefix` the list prefix.
std::string EncodeContinue(Revision rev, const std::string& prefix, const std::string& lastKey);
// kBadRequest "continue key is not valid: ..." when malformed.
Result<ContinuePosition> DecodeContinue(const std::string& token, const std::string& prefix);

}  // namespace kvol::store
