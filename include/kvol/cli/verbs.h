// The client verbs of the `kvol` binary: get, describe, apply, delete, logs, for people without
// kubectl; and play (an embedded server running one manifest).
//
// Each talks to a kvol (or any Kubernetes) API server over HTTP with the kubeconfig's server and
// token (--kubeconfig, else $KUBECONFIG, else ~/.kube/config) and prints what kubectl prints for
// the same command: tables as kubectl renders the server's Table, `persistentvolumeclaim/x
// created`, `Error from server (NotFound): ...`. Normal output goes to `out`, errors and
// "No resources found" to `err`. Each returns the process exit code (0 ok, 1 error).
//
// Thread safety: each call is independent (its own connection).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "kvol/client/client.h"
#include "kvol/common/status.h"

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

struct LogsOptions {
  std::string pod;        // POD, pod/POD or pods/POD
  std::string container;  // -c; "" = the default-container annotation, else the first container
  bool follow = false;    // -f
  bool previous = false;  // -p, --previous
  bool timestamps = false;
  int64_t tail = -1;  // --tail; -1 = all lines
};

// kubectl logs POD [-c C] [-f] [--tail N] [--previous] [--timestamps]: the container's log to
// `out` as it arrives; "Defaulted container ..." and errors to `err` as kubectl words them.
int RunLogs(const ClientOptions& opts, const LogsOptions& logs, std::ostream& out,
            std::ostream& err);

// GET `target` (a pods/NAME/log path and query) and hand the body to `onData` piece by piece as
// it arrives (for follow=true, until the server ends the stream). OK at the end of the body, or
// soon after `cancel` is set (checked every 100 ms); kUnavailable/kTimeout for transport
// failures; kBadRequest for a non-200 answer, whose reply goes to `errorReply` when set.
// Thread safety: independent calls may run on many threads (each has its own connection).
Status StreamGet(const client::Kubeconfig& cfg, const std::string& target,
                 const std::function<void(std::string_view)>& onData,
                 const std::atomic<bool>* cancel, client::HttpResult* errorReply);

struct PlayOptions {
  std::string file;     // -f: the manifest
  std::string dataDir;  // --data-dir: "" = a temporary directory, deleted at the end
  // Where the images come from: a data dir whose images/ the play's server uses when its own
  // data dir has none ("" = `kvol image import`'s default: /var/lib/kvol as root, else
  // $XDG_DATA_HOME/kvol).
  std::string imagesFrom;
  // The kvol binary to run as the embedded server ("" = /proc/self/exe).
  std::string serverBinary;
  double timeoutSec = 0;  // 0 = none; else stop (as Ctrl-C does) after this many seconds
};

// kvol play -f FILE [--data-dir DIR]: starts `kvol serve` as a child on 127.0.0.1:0, applies
// FILE, follows every container's log to `out` as `pod/container | line`, and when every pod has
// finished (or on SIGINT/SIGTERM) deletes the applied objects, stops the server and removes a
// temporary data dir. Returns 0 when every pod Succeeded (or the play was interrupted), else 1.
// Installs SIGINT/SIGTERM handlers for its duration; call from the main thread.
int RunPlay(const PlayOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace kvol::cli
