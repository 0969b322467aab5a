// The transport-neutral shape of one API request and its reply, as the handler sees them.
//
// The HTTP server (http_server.h) parses the wire into a Request, calls ApiHandler::Handle, and
// writes the Reply: a whole Response (Content-Length), for watches a chunked stream fed by a
// WatchStream, or for streamed bodies (pod logs) a chunked stream fed by a StreamProducer that runs
// on a thread of its own. Tests call the handler with Requests directly.
//
// Thread safety: plain values.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::apiserver {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded path, no query ("/api/v1/namespaces/default/pods")
  std::map<std::string, std::string> query;    // decoded query parameters (last value wins)
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  // The peer connected over loopback from a socket owned by this process's uid or root (the
  // HTTP server checks the kernel's socket table, see peer_cred.h).
  bool fromLoopback = false;

  // Builds a Request from a request-target ("/api/v1/pods?watch=true&limit=5").
  static Request Make(std::string method, const std::string& target, std::string body = "",
                      std::map<std::string, std::string> headers = {});
  std::string Header(const std::string& lowerName) const;
  std::string Query(const std::string& name) const;
  bool HasQuery(const std::string& name) const { return query.count(name) > 0; }
};

// Percent-decoding ('+' is a space only in the query).
std::string PercentDecode(const std::string& s, bool plusIsSpace);

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Warning...)
};

// An open watch. The transport calls Start once, with `send` (takes one complete line, JSON plus
// '\n'; never blocks; may be called from any thread, in event order) and `end` (the watch ended on
// its own: the store closed it, or an ERROR event was the last line). Destroying the WatchStream
// cancels it: no call to `send` or `end` happens after the destructor returns.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual Status Start(std::function<void(std::string)> send, std::function<void()> end) = 0;
  // One BOOKMARK event line at the newest resourceVersion this stream has seen.
  virtual std::string BookmarkLine() = 0;
  int timeoutSeconds = 0;       // 0: the server's default
  bool allowBookmarks = false;  // send BookmarkLine() periodically
};

// Where a StreamProducer writes. Used from the producer's thread only.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Starts the chunked response with head's status, contentType and headers (its body is
  // ignored). Optional: the first Write starts it with the Reply's response.
  virtual void Begin(const Response& head) = 0;
  // Answers with a whole response instead of a stream (an error found before any data), then the
  // connection closes. Only before Begin/Write; the producer should return after it.
  virtual void Respond(Response whole) = 0;
  // Sends `data` as one chunk (flushed at once). Waits while too much is queued for a slow
  // client. Returns false once the client went away or the server is stopping.
  virtual bool Write(std::string data) = 0;
  // True once the client went away or the server is stopping.
  virtual bool Cancelled() const = 0;
};

// A streamed body. The transport runs it once on a dedicated thread; the response ends (the
// terminating chunk, then the connection closes) when it returns. If it returns without calling
// Begin, Write or Respond, the Reply's response is sent as a whole. It must notice Cancelled()
// (or a false Write) within about a second: HttpServer::Stop waits for every producer to return.
// It must not refer to the Request (copy what it needs).
using StreamProducer = std::function<void(StreamSink& sink)>;

struct Reply {
  Response response;                   // for a watch or stream: status/contentType/headers
  std::unique_ptr<WatchStream> watch;  // set for watch requests that were accepted
  StreamProducer stream;               // set for streamed bodies (pod logs)
};

}  // namespace kvol::apiserver
