// The Kubernetes REST client every kvol component outside the API server uses (the CLI verbs,
// the node agent): kubeconfig loading and a small synchronous HTTP/1.1 client (Boost.Beast) with
// watch streams, over http:// or https://.
//
// https: TLS 1.2 or later, ALPN http/1.1, the server certificate verified against the cluster's CA
// (certificate-authority-data, else certificate-authority (a PEM file), else the system's trusted
// CAs) and the URL's host (an IP literal
// must be an IP subjectAltName, as Go checks it); insecure-skip-tls-verify turns both checks off.
//
// Thread safety: an ApiClient is used by one thread at a time (make one per thread); the free
// functions are stateless.
// Ownership: ApiClient owns its connections; they close with it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "kvol/api/reflect.h"
#include "kvol/common/status.h"

namespace kvol::client {

using json = api::json;

// --- kubeconfig ---------------------------------------------------------------------------

struct Kubeconfig {
  std::string server;  // "http://127.0.0.1:41234"
  std::string token;   // bearer token ("" = none)
  std::string ns;      // the current context's namespace ("" when unset)
  std::string caData;  // certificate-authority-data (base64 of PEM)
  bool insecureSkipTlsVerify = false;
  std::string caFile =
      {};  // certificate-authority (a PEM file; relative to the kubeconfig's folder)
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

  // Thread-safe, from any thread: a Watch running on another thread returns soon (kUnavailable,
  // "interrupted"), and every later Watch or Do returns that at once. For a watcher that must
  // stop promptly without re-opening its watch every few moments to look at a stop flag.
  void Interrupt();

 private:
  struct Impl;
  Kubeconfig cfg_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvol::client
