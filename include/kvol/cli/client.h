// The client side of the kvol CLI verbs: kubeconfig loading, a small synchronous HTTP client for
// the Kubernetes REST API (Boost.Beast; http:// only for now), kubectl-worded errors, and the
// kubectl renderings (Go tabwriter alignment, Table printing) the verbs share.
//
// Thread safety: an ApiClient is used by one thread at a time; everything else is stateless.
// Ownership: ApiClient owns its connections; they close with it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/common/status.h"

namespace kvol::cli {

using json = api::json;

// --- kubeconfig ---------------------------------------------------------------------------

struct Kubeconfig {
  std::string server;  // "http://127.0.0.1:41234"
  std::string token;   // bearer token ("" = none)
  std::string ns;      // the current context's namespace ("" when unset)
  std::string caData;  // certificate-authority-data (base64), for https later
  bool insecureSkipTlsVerify = false;
};

// Parses a kubeconfig's YAML and picks the current context's cluster and user.
Result<Kubeconfig> ParseKubeconfig(const std::string& yamlText);
// The kubeconfig file to use: `flag`, else the first entry of $KUBECONFIG, else ~/.kube/config.
std::string KubeconfigPath(const std::string& flag);
// Reads and parses the kubeconfig KubeconfigPath(flag) names.
Result<Kubeconfig> LoadKubeconfig(const std::string& flag);

// --- HTTP -----------------------------------------------------------------------------------

struct HttpResult {
  int status = 0;
  std::string contentType;
  std::string body;
};

class ApiClient {
 public:
  explicit ApiClient(Kubeconfig cfg);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const Kubeconfig& config() const { return cfg_; }

  // One request on the kept-alive connection (reconnecting once if the server closed it).
  // A non-OK Status only for transport failures (kUnavailable: connection refused; kTimeout).
  Result<HttpResult> Do(const std::string& method, const std::string& target,
                        const std::string& body = "", const std::string& contentType = "",
                        const std::string& accept = "application/json", double timeoutSec = 60);

  // Opens a watch (target must carry watch=true) on its own connection and calls onEvent with
  // each event ({"type":..., "object":...}) until onEvent returns false (OK), the server ends the
  // stream (OK), or `deadline` passes (kTimeout). A non-200 answer gives a kBadRequest Status
  // and, when `errorReply` is set, the reply there.
  Status Watch(const std::string& target, const std::function<bool(const json&)>& onEvent,
               std::chrono::steady_clock::time_point deadline, HttpResult* errorReply = nullptr);

 private:
  struct Impl;
  Kubeconfig cfg_;
  std::unique_ptr<Impl> impl_;
};

// --- kubectl's error wording -------------------------------------------------------------

// What kubectl prints (without the trailing newline) for a failed API call answered with
// `r`: "Error from server (NotFound): persistentvolumeclaims \"x\" not found", the 422
// "The PersistentVolumeClaim \"x\" is invalid: ..." form, or "Error from server: ...".
// `source` (a file name) adds kubectl's `error when <verb>ing "<file>": ` prefix to the message.
std::string FormatServerError(const HttpResult& r, const std::string& verb = "",
                              const std::string& source = "");
// "The connection to the server HOST:PORT was refused - did you specify the right host or
// port?" and similar, for transport failures.
std::string FormatTransportError(const Kubeconfig& cfg, const Status& s);

// --- rendering ----------------------------------------------------------------------------

// Go's text/tabwriter (flags 0: left-aligned, padding with spaces): cells end at '\t', lines at
// '\n'; a column's width is set per block of consecutive lines that have that column.
std::string TabFormat(const std::string& text, int minwidth, int padding);

struct TableRenderOptions {
  bool wide = false;
  bool withNamespace = false;  // -A: a NAMESPACE column from row.object.metadata.namespace
  std::string kindPrefix;      // "persistentvolumeclaim" when several kinds print together
  bool noHeaders = false;
};
// The tab-separated text kubectl's table printer writes for a meta.k8s.io/v1 Table (before
// alignment): upper-cased headers, priority-1 columns only when wide, null cells empty.
std::string TableText(const json& table, const TableRenderOptions& opts);
// TableText aligned as kubectl aligns it (tabwriter minwidth 6, padding 3).
std::string RenderTable(const json& table, const TableRenderOptions& opts);

// --- manifests --------------------------------------------------------------------------------

// Every YAML document in `text` (or one JSON document) as JSON; empty documents skipped; a
// `kind: List` is expanded into its items.
Result<std::vector<json>> ParseManifests(const std::string& text);
// Reads a manifest file ("-" = stdin).
Result<std::string> ReadFileText(const std::string& path);
// YAML text of a JSON value, as kubectl -o yaml prints it (sorted keys, 2-space indent, lists at
// their key's indentation).
std::string JsonToYaml(const json& v);

}  // namespace kvol::cli
