// Discovery documents built from the Scheme: /version, /api, /apis (aggregated v2 and legacy),
// /api/v1 and /apis/G/V APIResourceLists, and a minimal OpenAPI v3 (/openapi/v3 and one document
// per group/version) that declares the fieldValidation parameter on each kind's PATCH, which is
// what kubectl's default (strict) validation checks.
//
// Thread safety: stateless functions over a read-only Scheme.
#pragma once

#include <optional>
#include <string>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/http.h"

namespace kvol::apiserver {

inline constexpr const char* kAggregatedDiscoveryType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

api::json VersionInfo();
// True when the Accept header asks for aggregated discovery v2.
bool WantsAggregated(const std::string& accept);
// `/api` (core == true) or `/apis`, aggregated or legacy per the Accept header.
Response DiscoveryRoot(const api::Scheme& s, bool core, const std::string& accept);
// APIResourceList for a group/version; nullopt when the scheme serves nothing there.
std::optional<api::json> ResourceList(const api::Scheme& s, const std::string& group,
                                      const std::string& version);
// The OpenAPI v3 root and per group/version ("api/v1", "apis/storage.k8s.io/v1") documents.
api::json OpenApiRoot(const api::Scheme& s);
std::optional<api::json> OpenApiGroupVersion(const api::Scheme& s, const std::string& gvPath);

}  // namespace kvol::apiserver
