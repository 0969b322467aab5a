// The transport-neutral shape of one API request and its reply, as the handler sees them.
//
// The HTTP server (http_server.h) parses the wire into a Request, calls ApiHandler::Handle, and
// writes the Reply: either a whole Response (Content-Length) or, for watches, a chunked stream fed
// by a WatchStream. Tests call the handler with Requests directly.
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

struct Reply {
  Response response;                   // for a watch: status/contentType/headers of the stream
  std::unique_ptr<WatchStream> watch;  // set for watch requests that were accepted
};

}  // namespace kvol::apiserver
