// The client verbs of the `kvol` binary: get, describe, apply, delete, for people without kubectl.
//
// Each talks to a kvol (or any Kubernetes) API server over HTTP with the kubeconfig's server and
// token (--kubeconfig, else $KUBECONFIG, else ~/.kube/config) and prints what kubectl prints for
// the same command: tables as kubectl renders the server's Table, `persistentvolumeclaim/x
// created`, `Error from server (NotFound): ...`. Normal output goes to `out`, errors and
// "No resources found" to `err`. Each returns the process exit code (0 ok, 1 error).
//
// Thread safety: each call is independent (its own connection).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace kvol::cli {

struct ClientOptions {
  std::string kubeconfig;  // path; "" = $KUBECONFIG, else ~/.kube/config
  std::string ns;          // -n; "" = the kubeconfig context's namespace, else "default"
  bool allNamespaces = false;
};

// kubectl get TYPE[,TYPE...] [NAME...] | TYPE/NAME... [-o wide|yaml|json|name] [-l SELECTOR] [-A]
int RunGet(const ClientOptions& opts, const std::vector<std::string>& args,
           const std::string& output, const std::string& labelSelector, std::ostream& out,
           std::ostream& err);

// kubectl describe TYPE NAME | TYPE/NAME (pvc, pv, sc, pod have kubectl's layout; other kinds
// print their fields generically).
int RunDescribe(const ClientOptions& opts, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);

// kubectl apply -f FILE... (client-side apply). With `wait`, returns once every applied claim is
// Bound and every applied pod is Running, Succeeded or Failed, or fails after timeoutSec.
int RunApply(const ClientOptions& opts, const std::vector<std::string>& files, bool wait,
             double timeoutSec, std::ostream& out, std::ostream& err);

// kubectl delete TYPE NAME... | TYPE/NAME... | -f FILE...; waits until each object is gone.
int RunDelete(const ClientOptions& opts, const std::vector<std::string>& args,
              const std::vector<std::string>& files, bool ignoreNotFound, std::ostream& out,
              std::ostream& err);

}  // namespace kvol::cli
