// Internal to kvol_node: the agent's container log endpoint (the kubelet's /containerLogs), which
// the API server proxies `kubectl logs` to (Node.status.daemonEndpoints.kubeletEndpoint.Port on
// the InternalIP):
//   GET /containerLogs/<namespace>/<pod>/<container>?follow=&tailLines=&previous=&timestamps=
//       &sinceSeconds=&sinceTime=&limitBytes=
// HTTP/1.1 on 127.0.0.1, one thread per connection, one request per connection (Connection:
// close). `Authorization: Bearer <token>` is required (401 otherwise). Answers: 200 text/plain
// (chunked when following, until the container exits or the client goes), 400 for a bad query,
// 404 for an unknown pod/container/path, plain-text bodies.
//
// Thread safety: Start/Stop from one thread; the resolver is called from connection threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "kvol/common/status.h"
#include "kvol/runtime/cri_log.h"

namespace kvol::node {

struct LogQuery {
  std::string ns, pod, container;
  bool previous = false;
  runtime::LogReadOptions opts;
};

// Parses the request target. kNotFound for a path that is not /containerLogs/<ns>/<pod>/<c>,
// kBadRequest naming the parameter for a bad value (`invalid tailLines "x": must be an integer
// >= 0`).
Result<LogQuery> ParseLogTarget(const std::string& target, int64_t nowUnix);

class LogServer {
 public:
  struct Resolved {
    std::string path;              // the CRI log file
    std::function<bool()> isDone;  // for follow: the container has exited (or is replaced)
  };
  // kNotFound / kBadRequest with the message the client sees.
  using Resolver = std::function<Result<Resolved>(const LogQuery&)>;

  LogServer(std::string token, Resolver resolver);
  ~LogServer();         // Stop()
  Result<int> Start();  // listens on 127.0.0.1:0; returns the port
  void Stop();          // closes the listener and every open connection, joins the threads

 private:
  void AcceptLoop();
  void Serve(int fd);

  std::string token_;
  Resolver resolver_;
  int listenFd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptThread_;
  std::mutex mu_;
  std::set<int> conns_;
  int active_ = 0;
  std::condition_variable done_;
};

}  // namespace kvol::node
