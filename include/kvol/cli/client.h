// The CLI verbs' shared client-side pieces: kubectl-worded errors, the kubectl renderings (Go
// tabwriter alignment, Table printing) and manifest reading. The REST client itself is
// kvol::client (include/kvol/client/client.h), re-exported here.
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
#include "kvol/client/client.h"
#include "kvol/common/status.h"

namespace kvol::cli {

using json = api::json;

// --- the REST client (kvol::client) ------------------------------------------------------

using client::ApiClient;
using client::HttpResult;
using client::Kubeconfig;
using client::KubeconfigPath;
using client::LoadKubeconfig;
using client::ParseKubeconfig;

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
