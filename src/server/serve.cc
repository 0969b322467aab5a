#include "kvol/server/serve.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "bootstrap.h"
#include "kvol/api/scheme.h"
#include "kvol/apiserver/handler.h"
#include "kvol/apiserver/http_server.h"
#include "kvol/apiserver/peer_cred.h"
#include "kvol/apiserver/tls_certs.h"
#include "kvol/client/client.h"
#include "kvol/os/fs.h"
#include "kvol/store/encrypting_store.h"
#include "kvol/store/sqlite_store.h"

namespace kvol::server {

namespace {

void Log(const std::string& m) { std::fprintf(stderr, "kvol: %s\n", m.c_str()); }

int Fail(const Status& s) {
  Log(s.message());
  return 1;
}

// "HOST:PORT", "[v6]:PORT".
Result<std::pair<std::string, int>> ParseListen(const std::string& l) {
  auto colon = l.rfind(':');
  if (colon == std::string::npos || colon + 1 == l.size()) {
    return BadRequest("--listen must be HOST:PORT, got \"" + l + "\"");
  }
  std::string host = l.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    size_t pos = 0;
    port = std::stoi(l.substr(colon + 1), &pos);
    if (pos != l.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range(l);
  } catch (...) {
    return BadRequest("--listen must be HOST:PORT, got \"" + l + "\"");
  }
  return std::make_pair(host, port);
}

std::string UrlHost(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "[::1]";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

}  // namespace

int RunServe(const ServeOptions& opts) { return RunServe(opts, DefaultComponents()); }

int RunServe(const ServeOptions& opts, const std::vector<ComponentStart>& components) {
  // Stop signals are taken synchronously by this thread; every thread started below inherits
  // the mask, so none of them is interrupted.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (opts.dataDir.empty()) return Fail(BadRequest("--data-dir is required"));
  std::error_code ec;
  std::filesystem::create_directories(opts.dataDir, ec);
  if (ec) return Fail(Internal("cannot create " + opts.dataDir + ": " + ec.message()));
  ::chmod(opts.dataDir.c_str(), 0700);
  auto listen = ParseListen(opts.listen);
  if (!listen.ok()) return Fail(listen.status());
  // Off loopback the API is HTTPS only, with DIR/pki's self-signed CA (made at the first start).
  bool tls = listen->first != "localhost" && !apiserver::IsLoopbackAddress(listen->first);
  apiserver::HttpServerOptions httpOpts;
  std::string caPem, caFile;  // the in-process node agent trusts caFile
  if (tls) {
    auto certs = apiserver::LoadOrCreateServingCertificates(opts.dataDir + "/pki",
                                                            apiserver::ServingHosts(listen->first));
    if (!certs.ok()) return Fail(certs.status());
    if (certs->caCreated) Log("made a CA in " + opts.dataDir + "/pki");
    if (certs->certCreated) Log("made a serving certificate in " + opts.dataDir + "/pki");
    httpOpts.tlsCertFile = certs->certFile;
    httpOpts.tlsKeyFile = certs->keyFile;
    caPem = certs->caPem;
    caFile = certs->caCertFile;
  }
  if (!opts.storeUrl.empty() && opts.storeUrl.rfind("sqlite://", 0) != 0) {
    return Fail(Unavailable("store " + opts.storeUrl + " is not supported yet (only SQLite)"));
  }
  std::string dbPath = opts.dataDir + "/kvol.db";
  if (opts.storeUrl.rfind("sqlite://", 0) == 0 && opts.storeUrl.size() > 9) {
    dbPath = opts.storeUrl.substr(9);
  }
  auto st = store::OpenSqliteStore(dbPath);
  if (!st.ok()) return Fail(st.status());
  std::unique_ptr<store::Store> storePtr = std::move(st).value();
  {
    // Secrets at rest: Secret values encrypted with the keys of DIR/encryption-keys.json
    // (created with one random key at first start); see kvol/store/encrypting_store.h.
    auto keys = store::LoadOrCreateKeyFile(opts.dataDir + "/encryption-keys.json");
    if (!keys.ok()) return Fail(keys.status());
    auto enc = store::EncryptingStore::Wrap(std::move(storePtr), std::move(keys).value());
    if (!enc.ok()) return Fail(enc.status());
    auto n = (*enc)->RewriteStale();  // plain or old-key secrets -> the first key
    if (!n.ok()) Log("re-encrypting secrets: " + n.status().message());
    if (n.ok() && *n > 0) Log("encrypted " + std::to_string(*n) + " secret(s) with the first key");
    storePtr = std::move(enc).value();
  }
  auto token = LoadOrCreateToken(opts.dataDir);
  if (!token.ok()) return Fail(token.status());

  std::atomic<bool> ready{false};
  apiserver::HandlerOptions ho;
  ho.store = storePtr.get();
  ho.scheme = &api::Scheme::Default();
  ho.token = *token;
  ho.trustLoopback = true;  // kubectl sends no token over http:// (see handler.h)
  ho.ready = [&ready] { return ready.load(); };
  apiserver::ApiHandler handler(ho);
  apiserver::HttpServer http(handler, httpOpts);
  auto port = http.Listen(listen->first, listen->second);
  if (!port.ok()) return Fail(port.status());
  http.Start();
  std::string url =
      (tls ? "https://" : "http://") + UrlHost(listen->first) + ":" + std::to_string(*port);
  Log("API serving at " + url + ", store " + dbPath);

  std::vector<std::function<void()>> stops;
  auto shutdown = [&] {
    for (auto it = stops.rbegin(); it != stops.rend(); ++it) (*it)();
    http.Stop();
    storePtr.reset();
  };
  Status s = EnsureNamespaces(handler);
  if (s.ok() && !opts.disableBuiltinClasses) s = EnsureBuiltinClasses(handler);
  // The Node is registered by the node agent component (src/server/components.cc), before the
  // ready line, as `kvol node` registers its own.
  std::string nodeName;
  if (!opts.noNode) nodeName = opts.nodeName.empty() ? DefaultNodeName() : opts.nodeName;
  ServeContext ctx{&opts, storePtr.get(), url, *token, nodeName, caPem, caFile};
  for (const auto& start : components) {
    if (!s.ok()) break;
    auto stop = start(ctx);
    if (!stop.ok()) {
      s = stop.status();
    } else if (*stop) {
      stops.push_back(std::move(stop).value());
    }
  }
  if (s.ok())
    s = os::WriteFileAtomic(opts.dataDir + "/kubeconfig", KubeconfigYaml(url, *token, caPem), 0600);
  if (!s.ok()) {
    shutdown();
    return Fail(s);
  }
  ready = true;
  std::fprintf(stdout, "kvol ready %s\n", url.c_str());
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&sigs, &sig) != 0) {
  }
  Log(std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
  ready = false;
  shutdown();
  Log("stopped");
  return 0;
}

}  // namespace kvol::server
