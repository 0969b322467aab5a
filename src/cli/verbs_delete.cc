// kvol delete: DELETE with propagationPolicy Background, then wait until the object is gone
// (through finalizers), as kubectl delete does.
#include <ostream>

#include "src/cli/verbs_common.h"

namespace kvol::cli {

using namespace internal;

namespace {

struct Target {
  const api::ResourceInfo* info;
  std::string ns, name, source;  // source: the file it came from ("" for arguments)
};

}  // namespace

int RunDelete(const ClientOptions& opts, const std::vector<std::string>& args,
              const std::vector<std::string>& files, bool ignoreNotFound, std::ostream& out,
              std::ostream& err) {
  if (args.empty() && files.empty()) {
    err << "error: You must provide one or more resources by argument or filename.\n";
    return 1;
  }
  auto session = OpenSession(opts, err);
  if (!session) return 1;
  ApiClient& c = *session->client;
  std::vector<Target> targets;
  int rc = 0;
  if (!args.empty()) {
    if (args[0].find('/') != std::string::npos) {
      for (const auto& a : args) {
        auto p = a.find('/');
        const api::ResourceInfo* info =
            p == std::string::npos ? nullptr : ResolveType(a.substr(0, p));
        if (!info) {
          err << UnknownTypeError(a.substr(0, p)) << "\n";
          return 1;
        }
        targets.push_back({info, session->ns, a.substr(p + 1), ""});
      }
    } else {
      const api::ResourceInfo* info = ResolveType(args[0]);
      if (!info) {
        err << UnknownTypeError(args[0]) << "\n";
        return 1;
      }
      if (args.size() == 1) {
        err << "error: resource(s) were provided, but no name was specified\n";
        return 1;
      }
      for (size_t i = 1; i < args.size(); ++i) targets.push_back({info, session->ns, args[i], ""});
    }
  }
  for (const auto& file : files) {
    auto text = ReadFileText(file);
    if (!text.ok()) {
      err << "error: " << text.status().message() << "\n";
      return 1;
    }
    auto docs = ParseManifests(*text);
    if (!docs.ok()) {
      err << "error: error parsing " << file << ": " << docs.status().message() << "\n";
      return 1;
    }
    for (const auto& o : *docs) {
      const api::ResourceInfo* info = ResolveKind(o.value("apiVersion", ""), o.value("kind", ""));
      std::string name = o.contains("metadata") ? o["metadata"].value("name", "") : "";
      if (!info) {
        err << "error: resource mapping not found for name: \"" << name
            << "\" namespace: \"\" from \"" << file << "\": no matches for kind \""
            << o.value("kind", "") << "\" in version \"" << o.value("apiVersion", "")
            << "\"\nensure CRDs are installed first\n";
        rc = 1;
        continue;
      }
      std::string ns = o.contains("metadata") ? o["metadata"].value("namespace", "") : "";
      if (ns.empty()) ns = session->ns;
      targets.push_back({info, ns, name, file});
    }
  }

  std::vector<Target> deleted;
  for (const auto& t : targets) {
    auto r = c.Do("DELETE", ObjectPath(*t.info, t.ns, t.name),
                  R"({"propagationPolicy":"Background"})", "application/json");
    if (!r.ok()) {
      err << FormatTransportError(c.config(), r.status()) << "\n";
      return 1;
    }
    if (r->status == 404 && ignoreNotFound) continue;
    if (r->status != 200 && r->status != 202) {
      err << FormatServerError(*r, "deleting", t.source) << "\n";
      rc = 1;
      continue;
    }
    out << KindGroup(*t.info) << " \"" << t.name << "\" deleted\n";
    out.flush();
    deleted.push_back(t);
  }
  // Like kubectl: wait until every deleted object is gone (finalizers run first).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(24 * 7);
  for (const auto& t : deleted) {
    Status s = WaitFor(
        c, *t.info, t.ns, t.name, [](const json* o) { return o == nullptr; }, deadline);
    if (!s.ok()) {
      err << "error: " << s.message() << "\n";
      rc = 1;
    }
  }
  return rc;
}

}  // namespace kvol::cli
