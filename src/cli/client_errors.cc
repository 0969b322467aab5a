// kubectl's wording of API errors (k8s.io/kubectl/pkg/cmd/util/helpers.go: checkErr,
// StandardErrorMessage, MultilineError).
#include "kvol/cli/client.h"

namespace kvol::cli {

std::string FormatServerError(const HttpResult& r, const std::string& verb,
                              const std::string& source) {
  json st = json::parse(r.body, nullptr, false);
  bool isStatus = st.is_object() && st.value("kind", "") == "Status";
  if (!isStatus) {
    std::string body = r.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    if (r.status == 404)
      return "Error from server (NotFound): the server could not find the requested resource";
    return "Error from server: an error on the server (\"" + body +
           "\") has prevented the request from succeeding";
  }
  std::string reason = st.value("reason", "");
  std::string message = st.value("message", "");
  const json details = st.contains("details") && st["details"].is_object() ? st["details"] : json();
  if (reason == "Invalid") {
    if (details.is_null()) return "The request is invalid";
    std::string kind = details.value("kind", "");
    std::string name = details.value("name", "");
    std::string s = "The " + kind + " \"" + name + "\" is invalid";
    const json causes = details.contains("causes") ? details["causes"] : json::array();
    if (!causes.is_array() || causes.empty()) return s;
    std::vector<std::string> errs;
    for (const auto& c : causes)
      errs.push_back(c.value("field", "") + ": " + c.value("message", ""));
    if (errs.size() == 1) return s + ": " + errs[0];
    std::string out = s + ": ";
    for (const auto& e : errs) out += "\n* " + e;
    return out;
  }
  if (!source.empty()) message = "error when " + verb + " \"" + source + "\": " + message;
  if (reason.empty()) return "Error from server: " + message;
  return "Error from server (" + reason + "): " + message;
}

std::string FormatTransportError(const Kubeconfig& cfg, const Status& s) {
  std::string hostPort = cfg.server;
  if (auto p = hostPort.find("://"); p != std::string::npos) hostPort = hostPort.substr(p + 3);
  if (auto p = hostPort.find('/'); p != std::string::npos) hostPort = hostPort.substr(0, p);
  if (s.code() == Code::kUnavailable) {
    return "The connection to the server " + hostPort +
           " was refused - did you specify the right host or port?";
  }
  return "Unable to connect to the server: " + s.message();
}

}  // namespace kvol::cli
