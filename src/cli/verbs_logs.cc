// kvol logs: kubectl logs for one pod's container (the container chosen as kubectl chooses it),
// and StreamGet, the incremental HTTP GET that logs -f and kvol play read with.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <limits>
#include <optional>
#include <ostream>

#include "kvol/cli/verbs.h"
#include "src/cli/verbs_common.h"

namespace kvol::cli {

using namespace internal;

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct HostPort {
  std::string host, port;
};

Result<HostPort> ParseServer(const std::string& server) {
  std::string rest = server;
  if (rest.rfind("https://", 0) == 0) {
    return Status(Code::kUnavailable, "https servers are not supported by this kvol client yet");
  }
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  rest = rest.substr(0, rest.find('/'));
  HostPort hp;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return Status(Code::kBadRequest, "bad server " + server);
    hp.host = rest.substr(1, close - 1);
    hp.port = close + 2 <= rest.size() ? rest.substr(close + 2) : "80";
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    hp.host = rest.substr(0, colon);
    hp.port = rest.substr(colon + 1);
  } else {
    hp.host = rest;
  }
  if (hp.port.empty()) hp.port = "80";
  return hp;
}

// Drives a private io_context in 100 ms slices until `done`; closes the socket when `cancel` is
// set or `deadline` passes. Returns true when it closed the socket for the deadline.
bool RunUntil(net::io_context& ioc, beast::tcp_stream& s, const bool& done,
              const std::atomic<bool>* cancel, std::optional<Clock::time_point> deadline) {
  bool expired = false;
  while (!done) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(100));
    if (done) break;
    if ((cancel && *cancel) || (deadline && Clock::now() > *deadline)) {
      expired = !(cancel && *cancel);
      beast::error_code ec;
      s.socket().close(ec);
    }
  }
  return expired;
}

std::string PodNameArg(const std::string& arg) {
  for (const char* p : {"pod/", "pods/", "po/"}) {
    if (arg.rfind(p, 0) == 0) return arg.substr(std::string(p).size());
  }
  return arg;
}

// kubectl's podcmd.AllContainerNames: containers, then ephemeral "(ephem)", then init "(init)".
std::string AllContainerNames(const json& spec) {
  std::string out;
  auto add = [&](const char* field, const char* suffix) {
    if (!spec.contains(field) || !spec[field].is_array()) return;
    for (const auto& c : spec[field]) {
      out += (out.empty() ? "" : ", ") + c.value("name", "") + suffix;
    }
  };
  add("containers", "");
  add("ephemeralContainers", " (ephem)");
  add("initContainers", " (init)");
  return out;
}

bool HasContainer(const json& spec, const std::string& name) {
  for (const char* f : {"containers", "initContainers", "ephemeralContainers"}) {
    if (!spec.contains(f) || !spec[f].is_array()) continue;
    for (const auto& c : spec[f])
      if (c.value("name", "") == name) return true;
  }
  return false;
}

}  // namespace

Status StreamGet(const client::Kubeconfig& cfg, const std::string& target,
                 const std::function<void(std::string_view)>& onData,
                 const std::atomic<bool>* cancel, client::HttpResult* errorReply) {
  auto hp = ParseServer(cfg.server);
  if (!hp.ok()) return hp.status();
  net::io_context ioc;
  beast::tcp_stream s(ioc);
  beast::error_code ec;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  tcp::resolver res(ioc);
  auto eps = res.resolve(hp->host, hp->port, ec);
  if (ec) return Status(Code::kUnavailable, "dial tcp: lookup " + hp->host + ": " + ec.message());
  bool done = false;
  s.async_connect(eps, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  bool expired = RunUntil(ioc, s, done, cancel, deadline);
  if (cancel && *cancel) return Status::Ok();
  if (ec) {
    return Status(expired ? Code::kTimeout : Code::kUnavailable,
                  "dial tcp " + hp->host + ":" + hp->port + ": " + ec.message());
  }
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, hp->host + ":" + hp->port);
  req.set(http::field::user_agent, "kvol");
  req.set(http::field::accept, "*/*");
  if (!cfg.token.empty()) req.set(http::field::authorization, "Bearer " + cfg.token);
  done = false;
  http::async_write(s, req, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  expired = RunUntil(ioc, s, done, cancel, deadline);
  if (cancel && *cancel) return Status::Ok();
  if (ec) return Status(expired ? Code::kTimeout : Code::kUnavailable, ec.message());
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.get().body().data = nullptr;
  parser.get().body().size = 0;
  done = false;
  http::async_read_header(s, buf, parser, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  // A follow may wait for its first line before the head comes: no deadline once connected.
  RunUntil(ioc, s, done, cancel, std::nullopt);
  if (cancel && *cancel) return Status::Ok();
  if (ec) return Status(Code::kUnavailable, ec.message());
  int status = static_cast<int>(parser.get().result_int());
  std::string errBody;
  while (!parser.is_done()) {
    char tmp[16384];
    parser.get().body().data = tmp;
    parser.get().body().size = sizeof tmp;
    done = false;
    http::async_read_some(s, buf, parser, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    RunUntil(ioc, s, done, cancel, std::nullopt);
    if (ec == http::error::need_buffer) ec = {};
    size_t n = sizeof tmp - parser.get().body().size;
    if (n > 0) {
      if (status == 200) {
        onData(std::string_view(tmp, n));
      } else if (errBody.size() < (1 << 20)) {
        errBody.append(tmp, n);
      }
    }
    if (cancel && *cancel) return Status::Ok();
    if (ec) {
      if (status == 200 && (ec == http::error::end_of_stream || ec == net::error::eof)) break;
      return Status(Code::kUnavailable, ec.message());
    }
  }
  if (status != 200) {
    if (errorReply) {
      errorReply->status = status;
      errorReply->contentType = std::string(parser.get()[http::field::content_type]);
      errorReply->body = errBody;
    }
    return Status(Code::kBadRequest, "the server answered " + std::to_string(status));
  }
  return Status::Ok();
}

int RunLogs(const ClientOptions& opts, const LogsOptions& logs, std::ostream& out,
            std::ostream& err) {
  if (logs.pod.empty()) {
    err << "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
           "POD or TYPE/NAME is a required argument for the logs command\n"
           "See 'kvol logs -h' for help and examples\n";
    return 1;
  }
  auto session = OpenSession(opts, err);
  if (!session) return 1;
  ApiClient& c = *session->client;
  const std::string name = PodNameArg(logs.pod);
  const api::ResourceInfo* pods = ResolveType("pods");
  auto got = c.Do("GET", ObjectPath(*pods, session->ns, name));
  if (!got.ok()) {
    err << FormatTransportError(c.config(), got.status()) << "\n";
    return 1;
  }
  if (got->status == 404) {
    // kubectl logs resolves the pod through its resource builder, which words a missing pod so.
    err << "error: error from server (NotFound): pods \"" << name << "\" not found in namespace \""
        << session->ns << "\"\n";
    return 1;
  }
  if (got->status != 200) {
    err << FormatServerError(*got) << "\n";
    return 1;
  }
  json pod = json::parse(got->body, nullptr, false);
  if (!pod.is_object()) {
    err << "error: the server's answer is not a pod\n";
    return 1;
  }
  json spec = pod.value("spec", json::object());
  std::string container = logs.container;
  if (container.empty()) {
    json ann = pod["metadata"].value("annotations", json::object());
    std::string def = ann.value("kubectl.kubernetes.io/default-container", "");
    if (!def.empty()) {
      if (HasContainer(spec, def)) {
        container = def;
      } else {
        err << "Default container name \"" << def << "\" not found in pod " << name << "\n";
      }
    }
  }
  if (container.empty()) {
    json cs = spec.value("containers", json::array());
    if (cs.empty()) {
      err << "error: pod " << session->ns << "/" << name << " does not have any containers\n";
      return 1;
    }
    container = cs[0].value("name", "");
    bool several = cs.size() > 1 || !spec.value("initContainers", json::array()).empty() ||
                   !spec.value("ephemeralContainers", json::array()).empty();
    if (several) {
      err << "Defaulted container \"" << container << "\" out of: " << AllContainerNames(spec)
          << "\n";
    }
  }
  if (!HasContainer(spec, container)) {
    err << "error: container " << container << " is not valid for pod " << name << "\n";
    return 1;
  }
  std::string target =
      ObjectPath(*pods, session->ns, name) + "/log?container=" + QueryEscape(container);
  if (logs.follow) target += "&follow=true";
  if (logs.previous) target += "&previous=true";
  if (logs.timestamps) target += "&timestamps=true";
  if (logs.tail >= 0) target += "&tailLines=" + std::to_string(logs.tail);
  client::HttpResult reply;
  Status st = StreamGet(
      c.config(), target,
      [&](std::string_view d) {
        out.write(d.data(), static_cast<std::streamsize>(d.size()));
        out.flush();
      },
      nullptr, &reply);
  if (st.code() == Code::kBadRequest && reply.status != 0) {
    err << FormatServerError(reply) << "\n";
    return 1;
  }
  if (!st.ok()) {
    err << FormatTransportError(c.config(), st) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kvol::cli
