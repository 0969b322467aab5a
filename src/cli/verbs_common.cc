#include "src/cli/verbs_common.h"

#include <ctime>
#include <ostream>
#include <thread>

namespace kvol::cli::internal {

const char* const kTableAccept =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json";

std::optional<Session> OpenSession(const ClientOptions& opts, std::ostream& err) {
  auto cfg = LoadKubeconfig(opts.kubeconfig);
  if (!cfg.ok()) {
    const std::string& m = cfg.status().message();
    err << (m.rfind("error", 0) == 0 || m.rfind("invalid", 0) == 0 ? m : "error: " + m) << "\n";
    return std::nullopt;
  }
  Session s;
  s.ns = !opts.ns.empty() ? opts.ns : (!cfg->ns.empty() ? cfg->ns : "default");
  s.client = std::make_unique<ApiClient>(std::move(cfg).value());
  return s;
}

const api::ResourceInfo* ResolveType(const std::string& name) {
  const api::KindOps* ops = api::Scheme::Default().ByName(name);
  return ops ? &ops->info() : nullptr;
}

const api::ResourceInfo* ResolveKind(const std::string& apiVersion, const std::string& kind) {
  const api::KindOps* ops = api::Scheme::Default().ByKind(apiVersion, kind);
  return ops ? &ops->info() : nullptr;
}

std::string UnknownTypeError(const std::string& name) {
  return "error: the server doesn't have a resource type \"" + name + "\"";
}

std::string CollectionPath(const api::ResourceInfo& info, const std::string& ns) {
  std::string p =
      info.group.empty() ? "/api/" + info.version : "/apis/" + info.group + "/" + info.version;
  if (info.namespaced && !ns.empty()) p += "/namespaces/" + ns;
  return p + "/" + info.resource;
}

std::string ObjectPath(const api::ResourceInfo& info, const std::string& ns,
                       const std::string& name) {
  return CollectionPath(info, info.namespaced ? ns : "") + "/" + QueryEscape(name);
}

std::string QueryEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string o;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      o += static_cast<char>(c);
    } else {
      o += '%';
      o += hex[c >> 4];
      o += hex[c & 15];
    }
  }
  return o;
}

std::string KindGroup(const api::ResourceInfo& info) {
  std::string k;
  for (char ch : info.kind) k += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return info.group.empty() ? k : k + "." + info.group;
}

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

Status WaitFor(ApiClient& c, const api::ResourceInfo& info, const std::string& ns,
               const std::string& name, const std::function<bool(const json* obj)>& done,
               std::chrono::steady_clock::time_point deadline, const json* known) {
  using Clock = std::chrono::steady_clock;
  bool watchRefused = false;
  while (Clock::now() < deadline) {
    double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    json obj;
    std::string rv;
    if (known != nullptr && known->is_object() && known->contains("metadata") &&
        (*known)["metadata"].is_object() &&
        !(*known)["metadata"].value("resourceVersion", "").empty()) {
      // Only the first round: a watch that ends is followed by a GET as usual.
      obj = *known;
      known = nullptr;
      if (done(&obj)) return Status::Ok();
      rv = obj["metadata"].value("resourceVersion", "");
    } else if (auto r = c.Do("GET", ObjectPath(info, ns, name), "", "", "application/json",
                             std::max(1.0, left));
               !r.ok()) {
      return r.status();
    } else if (r->status == 404) {
      if (done(nullptr)) return Status::Ok();
    } else if (r->status == 200) {
      obj = json::parse(r->body, nullptr, false);
      if (done(&obj)) return Status::Ok();
      if (obj.is_object() && obj.contains("metadata"))
        rv = obj["metadata"].value("resourceVersion", "");
    } else {
      return Status(Code::kInternal, FormatServerError(*r));
    }
    if (!watchRefused) {
      int secs = static_cast<int>(std::min(left, 600.0)) + 1;
      std::string target = CollectionPath(info, info.namespaced ? ns : "") +
                           "?fieldSelector=" + QueryEscape("metadata.name=" + name) +
                           "&resourceVersion=" + QueryEscape(rv) +
                           "&watch=true&timeoutSeconds=" + std::to_string(secs);
      bool met = false;
      Status ws = c.Watch(
          target,
          [&](const json& ev) {
            const std::string type = ev.value("type", "");
            if (!ev.contains("object") || !ev["object"].is_object()) return true;
            const json& o = ev["object"];
            if (type == "ERROR") return false;  // e.g. 410 Expired: re-list
            if (!o.contains("metadata") || o["metadata"].value("name", "") != name) return true;
            if (type == "DELETED") {
              met = done(nullptr);
            } else if (type == "ADDED" || type == "MODIFIED") {
              met = done(&o);
            }
            return !met;
          },
          deadline);
      if (met) return Status::Ok();
      if (ws.code() == Code::kTimeout) break;
      if (ws.code() == Code::kBadRequest) watchRefused = true;
      if (!ws.ok() && ws.code() != Code::kBadRequest) return ws;
      continue;  // the stream ended: GET again and re-watch
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status(Code::kTimeout, "timed out");
}

}  // namespace kvol::cli::internal
