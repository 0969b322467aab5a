// Kubernetes Status objects: every API error kvol answers, with Kubernetes' exact messages.
//
// kubectl prints `Error from server (<reason>): <message>` from these, and builds the
// "is invalid" lines of a 422 from details.causes, so shapes and wording follow
// k8s.io/apimachinery/pkg/api/errors to the letter.
//
// Thread safety: stateless functions.
#pragma once

#include <string>

#include "kvol/api/field_errors.h"
#include "kvol/api/reflect.h"
#include "kvol/api/scheme.h"
#include "kvol/apiserver/http.h"
#include "kvol/common/status.h"

namespace kvol::apiserver {

using json = api::json;

// HTTP status code and Status reason of a Code.
int HttpCode(Code c);
const char* Reason(Code c);

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
//  "reason":...,"details":...,"code":...}. `details` is left out when null.
json StatusObject(int httpCode, const std::string& reason, const std::string& message,
                  const json& details = nullptr);
Response StatusResponse(int httpCode, const std::string& reason, const std::string& message,
                        const json& details = nullptr);
// A Status with no details (the message is the Status' message).
Response ErrorResponse(const Status& s);

// `persistentvolumeclaims "x" not found` (details {name, kind: resource, group}).
Response NotFoundResponse(const api::ResourceInfo& info, const std::string& name);
// `persistentvolumeclaims "x" already exists`.
Response AlreadyExistsResponse(const api::ResourceInfo& info, const std::string& name);
// `Operation cannot be fulfilled on persistentvolumeclaims "x": <why>`.
Response ConflictResponse(const api::ResourceInfo& info, const std::string& name,
                          const std::string& why);
inline constexpr const char* kObjectModified =
    "the object has been modified; please apply your changes to the latest version and try again";
// 422: `PersistentVolumeClaim "x" is invalid: [a: ..., b: ...]` with details.causes.
Response InvalidResponse(const api::ResourceInfo& info, const std::string& name,
                         const api::ErrorList& errs);
// The same text as InvalidResponse's message.
std::string InvalidMessage(const std::string& kind, const std::string& name,
                           const api::ErrorList& errs);
// 404 for a path nobody serves: "the server could not find the requested resource".
Response PathNotFound();
// 405: "the server does not allow this method on the requested resource".
Response MethodNotAllowed();
// 401 "Unauthorized".
Response Unauthorized();

// Serialises a JSON value as a 200 (or `code`) application/json Response.
Response JsonResponse(const json& body, int code = 200);

}  // namespace kvol::apiserver
