#include "kvol/apiserver/errors.h"

namespace kvol::apiserver {

int HttpCode(Code c) {
  switch (c) {
    case Code::kOk:
      return 200;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kConflict:
      return 409;
    case Code::kInvalid:
      return 422;
    case Code::kBadRequest:
      return 400;
    case Code::kExpired:
      return 410;
    case Code::kUnauthorized:
      return 401;
    case Code::kForbidden:
      return 403;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kUnsupportedMedia:
      return 415;
    case Code::kTimeout:
      return 504;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

const char* Reason(Code c) { return CodeName(c); }

json StatusObject(int httpCode, const std::string& reason, const std::string& message,
                  const json& details) {
  json s = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", httpCode < 300 ? "Success" : "Failure"},
            {"message", message}};
  if (!reason.empty()) s["reason"] = reason;
  if (!details.is_null()) s["details"] = details;
  s["code"] = httpCode;
  return s;
}

Response JsonResponse(const json& body, int code) {
  Response r;
  r.status = code;
  r.body = body.dump();
  return r;
}

Response StatusResponse(int httpCode, const std::string& reason, const std::string& message,
                        const json& details) {
  return JsonResponse(StatusObject(httpCode, reason, message, details), httpCode);
}

Response ErrorResponse(const Status& s) {
  return StatusResponse(HttpCode(s.code()), Reason(s.code()), s.message());
}

namespace {

std::string Qualified(const api::ResourceInfo& info) {
  return info.group.empty() ? info.resource : info.resource + "." + info.group;
}

json Details(const api::ResourceInfo& info, const std::string& name) {
  json d = {{"name", name}};
  if (!info.group.empty()) d["group"] = info.group;
  d["kind"] = info.resource;
  return d;
}

}  // namespace

Response NotFoundResponse(const api::ResourceInfo& info, const std::string& name) {
  return StatusResponse(404, "NotFound", Qualified(info) + " \"" + name + "\" not found",
                        Details(info, name));
}

Response AlreadyExistsResponse(const api::ResourceInfo& info, const std::string& name) {
  return StatusResponse(409, "AlreadyExists", Qualified(info) + " \"" + name + "\" already exists",
                        Details(info, name));
}

Response ConflictResponse(const api::ResourceInfo& info, const std::string& name,
                          const std::string& why) {
  return StatusResponse(
      409, "Conflict",
      "Operation cannot be fulfilled on " + Qualified(info) + " \"" + name + "\": " + why,
      Details(info, name));
}

std::string InvalidMessage(const std::string& kind, const std::string& name,
                           const api::ErrorList& errs) {
  std::string m = kind + " \"" + name + "\" is invalid: ";
  if (errs.size() == 1) return m + errs[0].ToString();
  m += "[";
  for (size_t i = 0; i < errs.size(); ++i) {
    if (i) m += ", ";
    m += errs[i].ToString();
  }
  return m + "]";
}

Response InvalidResponse(const api::ResourceInfo& info, const std::string& name,
                         const api::ErrorList& errs) {
  json causes = json::array();
  for (const auto& e : errs) {
    causes.push_back({{"reason", e.Reason()}, {"message", e.Message()}, {"field", e.field}});
  }
  json d = {{"name", name}};
  if (!info.group.empty()) d["group"] = info.group;
  d["kind"] = info.kind;
  d["causes"] = causes;
  return StatusResponse(422, "Invalid", InvalidMessage(info.kind, name, errs), d);
}

Response PathNotFound() {
  return StatusResponse(404, "NotFound", "the server could not find the requested resource",
                        json::object());
}

Response MethodNotAllowed() {
  return StatusResponse(405, "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                        json::object());
}

Response Unauthorized() { return StatusResponse(401, "Unauthorized", "Unauthorized"); }

}  // namespace kvol::apiserver
