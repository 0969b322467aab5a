// HttpServer: HTTP/1.1 over Boost.Beast/Asio for an ApiHandler.
//
// Asynchronous: a small fixed pool of io threads (default 2) serves every connection; there is no
// thread per connection, so thousands of open watch streams cost only their sockets and queues.
// Keep-alive; whole responses carry Content-Length, watches are chunked (one JSON line per chunk,
// flushed per event) with periodic BOOKMARKs when the client allowed them, an end after
// timeoutSeconds, and the stream dropped as soon as the client closes its side.
//
// HTTPS: with tlsCertFile and tlsKeyFile set, every connection is TLS (1.2 or later; ALPN offers
// only "http/1.1", so an HTTP/2-capable client such as kubectl speaks HTTP/1.1), and nothing is
// served in clear text: a plain HTTP request gets Go's answer `400 Client sent an HTTP request to
// an HTTPS server.` and the connection closes. Writes, watches and the probe read that notices a
// watcher leaving all go through TLS; a connection the server ends gracefully (a watch's end, a
// non-keep-alive response, Stop) sends a TLS close_notify first (waiting at most 500 ms).
// Request::fromLoopback (a loopback peer of this uid, see peer_cred.h) is never set over TLS:
// every https client sends its token (kubectl does), so no peer is trusted without one.
//
// Lifecycle: Listen (binds; port 0 picks a free port), Start (io threads run), Stop (stop
// accepting, end every watch with the terminating chunk, close every connection, join the
// threads). Stop is idempotent and also run by the destructor.
//
// Thread safety: Listen/Start/Stop from one controlling thread. The handler is called from the io
// threads concurrently.
#pragma once

#include <memory>
#include <string>

#include "kvol/apiserver/handler.h"
#include "kvol/common/status.h"

namespace kvol::apiserver {

struct HttpServerOptions {
  int threads = 2;
  int bookmarkIntervalSeconds = 15;  // BOOKMARK cadence on watches that allow them
  size_t maxBodyBytes = 64 << 20;
  // HTTPS when both are set: the PEM certificate chain and private key files (read by Listen).
  std::string tlsCertFile;
  std::string tlsKeyFile;
};

class HttpServer {
 public:
  HttpServer(const ApiHandler& handler, HttpServerOptions opts = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (an IPv4 or IPv6 literal, or "localhost"); returns the bound port. With TLS
  // options, loads the certificate and key first (an error names the file that failed).
  Result<int> Listen(const std::string& host, int port);
  void Start();
  void Stop();

  struct Impl;  // implementation detail (http_server.cc)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace kvol::apiserver
