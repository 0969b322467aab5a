// GET /api/v1/namespaces/NS/pods/NAME/log, as kube-apiserver serves it: validate the
// PodLogOptions, find the pod and its container, find the pod's node, and stream the node agent's
// /containerLogs/NS/NAME/CONTAINER answer back (text/plain, chunked, flushed as it arrives).
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <variant>

#include "kvol/apiserver/errors.h"
#include "rest.h"

namespace kvol::apiserver {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

Reply R(Response r) {
  Reply out;
  out.response = std::move(r);
  return out;
}

Response BadRequest(const std::string& m) { return StatusResponse(400, "BadRequest", m); }

// Go's strconv.ParseBool.
std::optional<bool> ParseBool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False")
    return false;
  return std::nullopt;
}

std::optional<int64_t> ParseInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (v > (std::numeric_limits<int64_t>::max() - (s[i] - '0')) / 10) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -v : v;
}

struct LogOptions {
  std::string container;
  bool follow = false, previous = false, timestamps = false;
  std::optional<int64_t> sinceSeconds, tailLines, limitBytes;
  std::string sinceTime;
};

// The query as PodLogOptions, or the 400 the parameter decoder answers.
std::variant<LogOptions, Response> ParseOptions(const Request& req) {
  LogOptions o;
  o.container = req.Query("container");
  o.sinceTime = req.Query("sinceTime");
  for (auto [name, field] : {std::pair<const char*, bool*>{"follow", &o.follow},
                             {"previous", &o.previous},
                             {"timestamps", &o.timestamps}}) {
    if (!req.HasQuery(name)) continue;
    std::string v = req.Query(name);
    auto b = ParseBool(v);
    if (!b) {
      return BadRequest("strconv.ParseBool: parsing " + json(v).dump() + ": invalid syntax");
    }
    *field = *b;
  }
  for (auto [name, field] :
       {std::pair<const char*, std::optional<int64_t>*>{"sinceSeconds", &o.sinceSeconds},
        {"tailLines", &o.tailLines},
        {"limitBytes", &o.limitBytes}}) {
    if (!req.HasQuery(name)) continue;
    std::string v = req.Query(name);
    auto i = ParseInt(v);
    if (!i) {
      return BadRequest("strconv.ParseInt: parsing " + json(v).dump() + ": invalid syntax");
    }
    *field = *i;
  }
  return o;
}

// Kubernetes' ValidatePodLogOptions.
api::ErrorList Validate(const LogOptions& o) {
  api::ErrorList errs;
  if (o.tailLines && *o.tailLines < 0) {
    errs.push_back(api::InvalidValue(api::Path("tailLines"), *o.tailLines,
                                     "must be greater than or equal to 0"));
  }
  if (o.limitBytes && *o.limitBytes < 1) {
    errs.push_back(
        api::InvalidValue(api::Path("limitBytes"), *o.limitBytes, "must be greater than 0"));
  }
  if (o.sinceSeconds && !o.sinceTime.empty()) {
    errs.push_back(api::Forbidden(api::Path(""),
                                  "at most one of `sinceTime` or `sinceSeconds` may be specified"));
  } else if (o.sinceSeconds && *o.sinceSeconds < 1) {
    errs.push_back(
        api::InvalidValue(api::Path("sinceSeconds"), *o.sinceSeconds, "must be greater than 0"));
  }
  return errs;
}

// The query the node agent gets (Go's url.Values.Encode: sorted keys).
std::string UpstreamQuery(const LogOptions& o) {
  std::string q;
  auto add = [&](const std::string& k, const std::string& v) {
    q += (q.empty() ? "?" : "&") + k + "=" + v;
  };
  if (o.follow) add("follow", "true");
  if (o.limitBytes) add("limitBytes", std::to_string(*o.limitBytes));
  if (o.previous) add("previous", "true");
  if (o.sinceSeconds) add("sinceSeconds", std::to_string(*o.sinceSeconds));
  if (!o.sinceTime.empty()) {
    std::string enc;
    for (char ch : o.sinceTime) {
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_' ||
          ch == '~') {
        enc += ch;
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", static_cast<unsigned char>(ch));
        enc += b;
      }
    }
    add("sinceTime", enc);
  }
  if (o.tailLines) add("tailLines", std::to_string(*o.tailLines));
  if (o.timestamps) add("timestamps", "true");
  return q;
}

// Every container name in Kubernetes' VisitContainers order: init, regular, ephemeral.
std::vector<std::string> AllContainerNames(const json& spec) {
  std::vector<std::string> out;
  for (const char* f : {"initContainers", "containers", "ephemeralContainers"}) {
    auto it = spec.find(f);
    if (it == spec.end() || !it->is_array()) continue;
    for (const auto& c : *it)
      if (c.is_object()) out.push_back(c.value("name", ""));
  }
  return out;
}

// Kubernetes' validateContainer: the container to read, or the 400.
std::variant<std::string, Response> PickContainer(const json& pod, const std::string& asked) {
  const std::string name = pod["metadata"].value("name", "");
  json spec = pod.value("spec", json::object());
  if (asked.empty()) {
    json cs = spec.value("containers", json::array());
    if (cs.size() == 1) return cs[0].value("name", "");
    if (cs.empty()) return BadRequest("a container name must be specified for pod " + name);
    std::string list;
    for (const auto& n : AllContainerNames(spec)) list += (list.empty() ? "" : " ") + n;
    return BadRequest("a container name must be specified for pod " + name + ", choose one of: [" +
                      list + "]");
  }
  for (const auto& n : AllContainerNames(spec))
    if (n == asked) return asked;
  return BadRequest("container " + asked + " is not valid for pod " + name);
}

struct NodeEndpoint {
  std::string host;  // an IP literal or a host name
  int port = 0;
};

// The node agent's address: an InternalIP (else Hostname, else ExternalIP) and
// status.daemonEndpoints.kubeletEndpoint.Port.
std::optional<NodeEndpoint> EndpointOf(const json& node) {
  json st = node.value("status", json::object());
  NodeEndpoint ep;
  json de = st.value("daemonEndpoints", json::object());
  if (de.contains("kubeletEndpoint") && de["kubeletEndpoint"].is_object()) {
    const json& ke = de["kubeletEndpoint"];
    if (ke.contains("Port") && ke["Port"].is_number_integer()) ep.port = ke["Port"].get<int>();
  }
  json addrs = st.value("addresses", json::array());
  for (const char* type : {"InternalIP", "Hostname", "ExternalIP"}) {
    for (const auto& a : addrs) {
      if (a.is_object() && a.value("type", "") == type && !a.value("address", "").empty()) {
        ep.host = a.value("address", "");
        break;
      }
    }
    if (!ep.host.empty()) break;
  }
  if (ep.host.empty() || ep.port <= 0 || ep.port > 65535) return std::nullopt;
  return ep;
}

// kube-apiserver's GenericHttpResponseChecker: a node agent's non-2xx answer as a Status.
Response UpstreamError(int code, std::string body, const std::string& podName) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  if (code == 400) return BadRequest(body);
  if (code == 500) {
    return StatusResponse(500, "InternalError", "Internal error occurred: " + body,
                          json{{"causes", json::array({{{"message", body}}})}});
  }
  std::string reason = "", message;
  if (code == 404) {
    reason = "NotFound";
    message = "the server could not find the requested resource";
  } else if (code == 401) {
    reason = "Unauthorized";
    message = "the server has asked for the client to provide credentials";
  } else if (code == 403) {
    reason = "Forbidden";
    message = body;
  } else {
    message = "the server responded with the status code " + std::to_string(code) +
              " but did not return more information";
  }
  message += " ( pods/log " + podName + ")";
  json details = {
      {"name", podName},
      {"kind", "pods/log"},
      {"causes", json::array({{{"reason", "UnexpectedServerResponse"}, {"message", body}}})}};
  return StatusResponse(code, reason, message, details);
}

// One streaming GET to the node agent, on a private io_context the producer thread drives in
// short slices so it sees the client leave.
class Upstream {
 public:
  explicit Upstream(StreamSink& sink) : sink_(sink), stream_(ioc_) {}

  // Runs the io_context until `done`; closes the socket when the sink is cancelled or the
  // deadline passes (then waits for the aborted operation).
  void Wait(const bool& done, std::optional<Clock::time_point> deadline) {
    while (!done) {
      ioc_.restart();
      ioc_.run_for(std::chrono::milliseconds(100));
      if (done) break;
      bool expired = deadline && Clock::now() > *deadline;
      if (sink_.Cancelled() || expired) {
        if (expired) timedOut_ = true;
        beast::error_code ec;
        stream_.socket().close(ec);
      }
    }
  }

  // Connects and reads the response head. Returns "" or the error text.
  std::string Open(const NodeEndpoint& ep, const std::string& target, const std::string& token,
                   bool follow) {
    url_ = "http://" + (ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host) +
           ":" + std::to_string(ep.port) + target;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    beast::error_code ec;
    std::vector<tcp::endpoint> eps;
    auto addr = net::ip::make_address(ep.host, ec);
    if (!ec) {
      eps.emplace_back(addr, static_cast<uint16_t>(ep.port));
    } else {
      tcp::resolver res(ioc_);
      auto r = res.resolve(ep.host, std::to_string(ep.port), ec);
      if (ec) return "Get \"" + url_ + "\": dial tcp: lookup " + ep.host + ": " + ec.message();
      for (const auto& e : r) eps.push_back(e.endpoint());
    }
    bool done = false;
    stream_.async_connect(eps, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    Wait(done, deadline);
    if (ec)
      return "Get \"" + url_ + "\": dial tcp " + ep.host + ":" + std::to_string(ep.port) +
             ": connect: " + (timedOut_ ? "i/o timeout" : ec.message());
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, ep.host + ":" + std::to_string(ep.port));
    req.set(http::field::user_agent, "kvol-apiserver");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    done = false;
    http::async_write(stream_, req, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    Wait(done, deadline);
    if (ec) return "Get \"" + url_ + "\": " + ec.message();
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_.get().body().data = nullptr;
    parser_.get().body().size = 0;
    done = false;
    http::async_read_header(stream_, buf_, parser_, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    // A following node agent may hold its head back until the first line: no deadline then.
    Wait(done, follow ? std::nullopt
                      : std::optional<Clock::time_point>(Clock::now() + std::chrono::seconds(30)));
    if (ec) return "Get \"" + url_ + "\": " + (timedOut_ ? "net/http: timeout" : ec.message());
    return "";
  }

  int status() { return static_cast<int>(parser_.get().result_int()); }

  // Reads the next piece of the body into `out`. False at the end (or on an error).
  bool Next(std::string& out) {
    out.clear();
    if (parser_.is_done()) return false;
    char tmp[16384];
    parser_.get().body().data = tmp;
    parser_.get().body().size = sizeof tmp;
    beast::error_code ec;
    bool done = false;
    http::async_read_some(stream_, buf_, parser_, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    Wait(done, std::nullopt);
    if (ec == http::error::need_buffer) ec = {};
    out.assign(tmp, sizeof tmp - parser_.get().body().size);
    if (ec) return !out.empty();
    return true;
  }

 private:
  StreamSink& sink_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  http::response_parser<http::buffer_body> parser_;
  std::string url_;
  bool timedOut_ = false;
};

}  // namespace

Reply HandlePodLog(const RestContext& c) {
  auto parsed = ParseOptions(c.req);
  if (auto* e = std::get_if<Response>(&parsed)) return R(*e);
  LogOptions o = std::get<LogOptions>(parsed);
  if (auto errs = Validate(o); !errs.empty()) {
    api::ResourceInfo info;
    info.kind = "PodLogOptions";
    return R(InvalidResponse(info, c.rr.name, errs));
  }
  auto pod = c.store().Get(c.Key());
  if (!pod.ok()) {
    if (pod.status().IsNotFound()) return R(NotFoundResponse(c.info(), c.rr.name));
    return R(ErrorResponse(pod.status()));
  }
  auto picked = PickContainer(pod->value, o.container);
  if (auto* e = std::get_if<Response>(&picked)) return R(*e);
  const std::string container = std::get<std::string>(picked);

  Response head;
  head.contentType = "text/plain";
  std::string nodeName = pod->value.value("spec", json::object()).value("nodeName", "");
  // Not scheduled yet: kube-apiserver answers an empty log.
  if (nodeName.empty()) return R(head);
  const api::KindOps* nodes = c.opts.scheme->ByResource("", "v1", "nodes");
  auto node = c.store().Get(store::KeyFor("nodes", "", nodeName));
  if (!node.ok()) {
    if (node.status().IsNotFound() && nodes) return R(NotFoundResponse(nodes->info(), nodeName));
    if (node.status().IsNotFound()) {
      return R(StatusResponse(404, "NotFound", "nodes \"" + nodeName + "\" not found"));
    }
    return R(ErrorResponse(node.status()));
  }
  auto ep = EndpointOf(node->value);
  if (!ep) {
    return R(StatusResponse(500, "InternalError",
                            "Internal error occurred: node " + nodeName +
                                " has no address or kubelet port in its status"));
  }
  std::string target =
      "/containerLogs/" + c.rr.ns + "/" + c.rr.name + "/" + container + UpstreamQuery(o);
  Reply reply;
  reply.response = head;
  reply.stream = [ep = *ep, target, token = c.opts.token, follow = o.follow, podName = c.rr.name,
                  head](StreamSink& sink) {
    Upstream up(sink);
    std::string err = up.Open(ep, target, token, follow);
    if (sink.Cancelled()) return;
    if (!err.empty()) return sink.Respond(StatusResponse(500, "", err));
    std::string data;
    if (up.status() < 200 || up.status() > 206) {
      std::string body;
      while (body.size() < 64 * 1024 && up.Next(data)) body += data;
      return sink.Respond(UpstreamError(up.status(), body, podName));
    }
    sink.Begin(head);
    while (up.Next(data)) {
      if (!data.empty() && !sink.Write(std::move(data))) return;
    }
  };
  return reply;
}

}  // namespace kvol::apiserver
