// Internal to kvol_apiserver: the request metrics kube-apiserver exports, under its names and
// labels (k8s.io/apiserver/pkg/endpoints/metrics), and the GET /metrics endpoint.
//
// - apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,component,code}
// - apiserver_request_duration_seconds{verb,dry_run,group,version,resource,subresource,scope,
//   component} with Kubernetes' buckets (0.005 ... 60)
// - apiserver_longrunning_requests{verb,group,version,resource,subresource,scope,component}: open
//   watches (verb WATCH) and pod log streams (verb CONNECT)
// Verbs as Kubernetes reports them: GET, LIST (a GET of a collection), WATCH, POST, PUT, PATCH,
// APPLY (a server-side apply PATCH), DELETE, DELETECOLLECTION, CONNECT (pods/log). Scope:
// "resource" (a named object, or a create), "namespace", "cluster", or "" for non-resource paths,
// whose path is the subresource label ("/healthz", "/metrics", "/apis"...). Requests for paths the
// server does not serve are counted with empty group/version/resource/subresource, so label
// values stay a bounded set. A watch or log stream is counted (and its duration observed) when it
// ends, as kube-apiserver does.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <chrono>
#include <string>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/http.h"

namespace kvol::apiserver {

struct RequestMetricLabels {
  std::string verb, dryRun, group, version, resource, subresource, scope;
};

// How `req` is labelled (see above).
RequestMetricLabels ClassifyRequest(const api::Scheme& scheme, const Request& req);

// Records `reply` to `req` (started at `start`): at once for a whole response; for a watch or a
// stream, returns a reply whose watch/stream is counted as long-running while open and recorded
// when it ends.
Reply InstrumentReply(const api::Scheme& scheme, const Request& req, Reply reply,
                      std::chrono::steady_clock::time_point start);

// GET /metrics: the default registry in the text format (process metrics included).
Response MetricsResponse(const Request& req);

}  // namespace kvol::apiserver
