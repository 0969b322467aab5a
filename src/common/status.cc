#include "kvol/common/status.h"

namespace kvol {

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kConflict:
      return "Conflict";
    case Code::kInvalid:
      return "Invalid";
    case Code::kBadRequest:
      return "BadRequest";
    case Code::kExpired:
      return "Expired";
    case Code::kUnauthorized:
      return "Unauthorized";
    case Code::kForbidden:
      return "Forbidden";
    case Code::kMethodNotAllowed:
      return "MethodNotAllowed";
    case Code::kUnsupportedMedia:
      return "UnsupportedMediaType";
    case Code::kTimeout:
      return "Timeout";
    case Code::kUnavailable:
      return "ServiceUnavailable";
    case Code::kInternal:
      return "InternalError";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace kvol
