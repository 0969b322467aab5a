#include "kvol/api/field_errors.h"

namespace kvol::api {

Path Path::Child(std::string_view name) const {
  Path p;
  p.s_ = s_.empty() ? std::string(name) : s_ + "." + std::string(name);
  return p;
}

Path Path::Index(size_t i) const {
  Path p;
  p.s_ = s_ + "[" + std::to_string(i) + "]";
  return p;
}

Path Path::Key(std::string_view key) const {
  Path p;
  p.s_ = s_ + "[" + std::string(key) + "]";
  return p;
}

namespace {

// Go's %#v for the values validation reports: strings quoted, numbers and bools bare.
// Invalid UTF-8 in a user's value is printed with U+FFFD instead of throwing.
std::string Dump(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FormatValue(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  return Dump(v);
}

}  // namespace

std::string FieldError::Message() const {
  std::string m;
  switch (type) {
    case ErrorType::kRequired:
      m = "Required value";
      if (!detail.empty()) m += ": " + detail;
      return m;
    case ErrorType::kInvalid:
    case ErrorType::kTypeInvalid:
      m = "Invalid value: " + FormatValue(value);
      if (!detail.empty()) m += ": " + detail;
      return m;
    case ErrorType::kNotSupported:
      m = "Unsupported value: " + FormatValue(value);
      if (!detail.empty()) m += ": " + detail;
      return m;
    case ErrorType::kDuplicate:
      return "Duplicate value: " + FormatValue(value);
    case ErrorType::kForbidden:
      return detail.empty() ? "Forbidden" : "Forbidden: " + detail;
    case ErrorType::kTooLong:
      return "Too long: " + detail;
    case ErrorType::kTooMany:
      return "Too many: " + detail;
    case ErrorType::kNotFound:
      m = "Not found: " + FormatValue(value);
      if (!detail.empty()) m += ": " + detail;
      return m;
  }
  return detail;
}

std::string FieldError::ToString() const {
  return field.empty() ? Message() : field + ": " + Message();
}

const char* FieldError::Reason() const {
  switch (type) {
    case ErrorType::kRequired:
      return "FieldValueRequired";
    case ErrorType::kInvalid:
      return "FieldValueInvalid";
    case ErrorType::kNotSupported:
      return "FieldValueNotSupported";
    case ErrorType::kDuplicate:
      return "FieldValueDuplicate";
    case ErrorType::kForbidden:
      return "FieldValueForbidden";
    case ErrorType::kTooLong:
      return "FieldValueTooLong";
    case ErrorType::kTooMany:
      return "FieldValueTooMany";
    case ErrorType::kNotFound:
      return "FieldValueNotFound";
    case ErrorType::kTypeInvalid:
      return "FieldValueTypeInvalid";
  }
  return "FieldValueInvalid";
}

FieldError Required(const Path& p, std::string detail) {
  return {ErrorType::kRequired, p.str(), nullptr, std::move(detail)};
}
FieldError InvalidValue(const Path& p, nlohmann::json value, std::string detail) {
  return {ErrorType::kInvalid, p.str(), std::move(value), std::move(detail)};
}
FieldError NotSupported(const Path& p, nlohmann::json value,
                        const std::vector<std::string>& valid) {
  std::string d;
  if (!valid.empty()) {
    d = "supported values: ";
    for (size_t i = 0; i < valid.size(); ++i) {
      if (i) d += ", ";
      d += Dump(nlohmann::json(valid[i]));
    }
  }
  return {ErrorType::kNotSupported, p.str(), std::move(value), d};
}
FieldError Duplicate(const Path& p, nlohmann::json value) {
  return {ErrorType::kDuplicate, p.str(), std::move(value), ""};
}
FieldError Forbidden(const Path& p, std::string detail) {
  return {ErrorType::kForbidden, p.str(), nullptr, std::move(detail)};
}
FieldError TooLong(const Path& p, nlohmann::json value, size_t max) {
  return {ErrorType::kTooLong, p.str(), std::move(value),
          "may not be more than " + std::to_string(max) + " bytes"};
}
FieldError TooMany(const Path& p, size_t actual, size_t max) {
  return {ErrorType::kTooMany, p.str(), nullptr,
          std::to_string(actual) + ": must have at most " + std::to_string(max) + " items"};
}
FieldError NotFoundError(const Path& p, nlohmann::json value) {
  return {ErrorType::kNotFound, p.str(), std::move(value), ""};
}
FieldError TypeInvalid(const Path& p, nlohmann::json value, std::string detail) {
  return {ErrorType::kTypeInvalid, p.str(), std::move(value), std::move(detail)};
}

std::string Join(const ErrorList& errs, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < errs.size(); ++i) {
    if (i) out += sep;
    out += errs[i].ToString();
  }
  return out;
}

}  // namespace kvol::api
