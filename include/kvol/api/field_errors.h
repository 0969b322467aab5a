// Field errors in Kubernetes' shape (k8s.io/apimachinery/pkg/util/validation/field).
//
// Every validation and decoding failure names the field it is about, with Kubernetes' own
// wording, so `kvol validate`, the API server's 422 Status (details.causes[]) and kubectl all
// print what a cluster user already knows:
//   spec.accessModes[1]: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany",
//   ...
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kvol::api {

// A field path built the way Kubernetes prints it: "spec.containers[0].volumeMounts[2].name",
// map keys as "metadata.labels[app]".
class Path {
 public:
  Path() = default;
  explicit Path(std::string root) : s_(std::move(root)) {}
  Path Child(std::string_view name) const;
  Path Index(size_t i) const;
  Path Key(std::string_view key) const;
  const std::string& str() const { return s_; }
  bool empty() const { return s_.empty(); }

 private:
  std::string s_;
};

enum class ErrorType {
  kRequired,      // "Required value"
  kInvalid,       // "Invalid value"
  kNotSupported,  // "Unsupported value"
  kDuplicate,     // "Duplicate value"
  kForbidden,     // "Forbidden"
  kTooLong,       // "Too long"
  kTooMany,       // "Too many"
  kNotFound,      // "Not found"
  kTypeInvalid,   // "Invalid value" (wrong JSON type)
};

struct FieldError {
  ErrorType type;
  std::string field;     // the path, e.g. "spec.accessModes[1]"
  nlohmann::json value;  // the bad value (null when there is none)
  std::string detail;

  // "Unsupported value: \"x\": supported values: \"a\", \"b\"" (without the field).
  std::string Message() const;
  // "spec.accessModes[1]: " + Message().
  std::string ToString() const;
  // Kubernetes' StatusCause reason: FieldValueRequired, FieldValueInvalid, ...
  const char* Reason() const;
};

using ErrorList = std::vector<FieldError>;

FieldError Required(const Path& p, std::string detail = "");
FieldError InvalidValue(const Path& p, nlohmann::json value, std::string detail);
FieldError NotSupported(const Path& p, nlohmann::json value, const std::vector<std::string>& valid);
FieldError Duplicate(const Path& p, nlohmann::json value);
FieldError Forbidden(const Path& p, std::string detail);
FieldError TooLong(const Path& p, nlohmann::json value, size_t max);
FieldError TooMany(const Path& p, size_t actual, size_t max);
FieldError NotFoundError(const Path& p, nlohmann::json value);
FieldError TypeInvalid(const Path& p, nlohmann::json value, std::string detail);

// One line per error, as `kvol validate` and the 422 message print them.
std::string Join(const ErrorList& errs, std::string_view sep = "\n");

}  // namespace kvol::api
