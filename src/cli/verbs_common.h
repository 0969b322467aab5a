// Private to the client verbs (src/cli/verbs_*.cc): connecting, resolving resource types, REST
// paths and kubectl's object naming.
//
// Thread safety: plain helpers; a Session is used by one thread.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/scheme.h"
#include "kvol/cli/client.h"
#include "kvol/cli/verbs.h"

namespace kvol::cli::internal {

struct Session {
  std::unique_ptr<ApiClient> client;
  std::string ns;  // the namespace to use: -n, else the context's, else "default"
};

// Loads the kubeconfig and prepares a client; on failure prints kubectl's error to `err`.
std::optional<Session> OpenSession(const ClientOptions& opts, std::ostream& err);

// Resolves "pvc", "persistentvolumeclaims", "sc", "storageclass.storage.k8s.io"...; nullptr when
// unknown.
const api::ResourceInfo* ResolveType(const std::string& name);
const api::ResourceInfo* ResolveKind(const std::string& apiVersion, const std::string& kind);
// `error: the server doesn't have a resource type "foo"`.
std::string UnknownTypeError(const std::string& name);

// "/api/v1/namespaces/NS/persistentvolumeclaims" (ns "" = all namespaces / cluster-scoped).
std::string CollectionPath(const api::ResourceInfo& info, const std::string& ns);
std::string ObjectPath(const api::ResourceInfo& info, const std::string& ns,
                       const std::string& name);
// Percent-encodes a query value.
std::string QueryEscape(const std::string& s);

// kubectl's "persistentvolumeclaim", "storageclass.storage.k8s.io" (lower-case kind[.group]).
std::string KindGroup(const api::ResourceInfo& info);

// Accept header asking for a meta.k8s.io Table (with plain JSON as the fallback).
extern const char* const kTableAccept;

// Seconds since the epoch, now.
int64_t NowUnix();

// Waits until `done(object)` holds for NAME (object null = NotFound), watching the collection
// with a metadata.name field selector; falls back to polling when the watch is refused. Returns
// kTimeout when `deadline` passes first. `known`, when given, is the object as a write of this
// process just returned it (with its resourceVersion): it stands in for the first GET.
Status WaitFor(ApiClient& c, const api::ResourceInfo& info, const std::string& ns,
               const std::string& name, const std::function<bool(const json* obj)>& done,
               std::chrono::steady_clock::time_point deadline, const json* known = nullptr);

}  // namespace kvol::cli::internal
