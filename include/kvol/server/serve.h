// `kvol serve`: the daemon. Opens the store in DIR, serves the Kubernetes API, makes the
// built-in objects (namespaces, the `local` StorageClass, the local Node), writes DIR/kubeconfig
// and prints `kvol ready <url>`; then runs until SIGTERM/SIGINT and stops cleanly (exit 0).
//
// The contract is DESIGN.md's "The contract the outside sees" (`kvol serve`), to the letter:
// - DIR/kvol.db is the SQLite store; DIR/token (0600, hex) is made at the first start and kept.
// - Ready = the API serves, the built-in class exists (unless disableBuiltinClasses), the Node
//   is registered (unless noNode), the components started by `startComponents` run; then
//   DIR/kubeconfig is written atomically (temp + rename) and exactly one stdout line
//   `kvol ready <url>` is printed and flushed. Logs go to stderr only.
// - Off loopback (a --listen host outside 127.0.0.0/8, ::1 and localhost, including 0.0.0.0 and
//   ::) the API is HTTPS only: DIR/pki holds a self-signed CA and a serving certificate made at
//   the first start (kvol/apiserver/tls_certs.h), the url is https://, the kubeconfig carries the
//   CA inline, and the in-process clients trust that CA.
//
// Thread safety: RunServe blocks the calling thread until a stop signal; call it once per process
// (it blocks SIGTERM/SIGINT in the calling thread before any thread starts, and waits for them).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "kvol/common/status.h"
#include "kvol/store/store.h"

namespace kvol::server {

struct ServeOptions {
  std::string dataDir;                    // required
  std::string listen = "127.0.0.1:6443";  // HOST:PORT; port 0 picks a free port
  std::string nodeName;                   // default: the hostname, lowercased, DNS-1123
  std::string zone;                       // topology.kubernetes.io/zone of the local node
  std::string storeUrl;                   // "" = SQLite in dataDir; etcd:// not yet
  bool noNode = false;
  std::vector<std::string> allowedHostPaths;
  std::string blockPool;
  bool disableBuiltinClasses = false;
  // A node whose heartbeat is older than this is NotReady (Kubernetes'
  // --node-monitor-grace-period); the local agent heartbeats every nodeStatusUpdateFrequency.
  double nodeMonitorGracePeriodSeconds = 40;
  int nodeStatusUpdateFrequencySeconds = 10;
  bool protectKernelDefaults = false;  // the local node agent's --protect-kernel-defaults
};

// What in-process components (controllers, the node agent) get when the API serves.
struct ServeContext {
  const ServeOptions* options = nullptr;
  store::Store* store = nullptr;
  std::string url;          // "http://127.0.0.1:41234" (https:// off loopback)
  std::string token;        // the API token
  std::string nodeName;     // the local node's name ("" with noNode)
  std::string caPem = {};   // https: the CA clients must trust (PEM); "" on plain http
  std::string caFile = {};  // https: the same CA as a file (DIR/pki/ca.crt)
};

// A component started before the ready line; its stop function runs at shutdown (in reverse
// start order) before the API server stops.
using ComponentStart = std::function<Result<std::function<void()>>(const ServeContext&)>;

// Runs the daemon; returns the process exit code (0 after a clean stop, 1 on a start-up error,
// printed to stderr as `kvol: <message>`).
// Runs the daemon with DefaultComponents().
int RunServe(const ServeOptions& opts);
int RunServe(const ServeOptions& opts, const std::vector<ComponentStart>& components);

// The components `kvol serve` runs in process: today the controller manager (binder, provisioner,
// reclaimer, protection, scheduler); the node agent joins it in a later issue.
std::vector<ComponentStart> DefaultComponents();

// Helpers (exposed for tests).
// hostname lowercased and made DNS-1123 ("My_Host.Local" -> "my-host.local").
std::string DefaultNodeName();
std::string MakeDns1123(const std::string& s);
// Reads DIR/token, or makes it (32 random bytes as hex, mode 0600) when missing.
Result<std::string> LoadOrCreateToken(const std::string& dataDir);
// The kubeconfig text for `url` and `token`; with `caPem`, the cluster carries it as
// certificate-authority-data (base64).
std::string KubeconfigYaml(const std::string& url, const std::string& token,
                           const std::string& caPem = "");

}  // namespace kvol::server
