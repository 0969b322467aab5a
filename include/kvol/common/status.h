// Status and Result<T>: how errors cross module seams in kvol (no exceptions do).
//
// A Status is OK or carries a Code and a message. The codes are the ones the Kubernetes API
// speaks (NotFound, AlreadyExists, Conflict, Invalid, Expired...), so the API server maps a
// Status to an HTTP Status object without guessing. Result<T> is a T or a non-OK Status.
//
// Thread safety: values; copy freely.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kvol {

enum class Code {
  kOk = 0,
  kNotFound,          // 404
  kAlreadyExists,     // 409 AlreadyExists
  kConflict,          // 409 Conflict: a precondition (resourceVersion) did not hold
  kInvalid,           // 422 Invalid: validation failed; message lists the field errors
  kBadRequest,        // 400
  kExpired,           // 410: the resourceVersion asked for has been compacted away
  kUnauthorized,      // 401
  kForbidden,         // 403
  kMethodNotAllowed,  // 405
  kUnsupportedMedia,  // 415
  kTimeout,           // 504
  kUnavailable,       // 503: the store or a dependency is not usable right now
  kInternal,          // 500: a bug or an I/O failure
};

const char* CodeName(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
inline Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
inline Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
inline Status BadRequest(std::string m) { return Status(Code::kBadRequest, std::move(m)); }
inline Status Expired(std::string m) { return Status(Code::kExpired, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }

// Result<T>: either a value or a non-OK Status. Access the value only when ok().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {      // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kvol

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define KVOL_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::kvol::Status _kvol_st = (expr);    \
    if (!_kvol_st.ok()) return _kvol_st; \
  } while (0)

#define KVOL_CONCAT_INNER(a, b) a##b
#define KVOL_CONCAT(a, b) KVOL_CONCAT_INNER(a, b)
// KVOL_ASSIGN_OR_RETURN(auto x, F()): x = F().value(), or return F()'s Status.
#define KVOL_ASSIGN_OR_RETURN(lhs, expr)                                                    \
  auto KVOL_CONCAT(_kvol_r, __LINE__) = (expr);                                             \
  if (!KVOL_CONCAT(_kvol_r, __LINE__).ok()) return KVOL_CONCAT(_kvol_r, __LINE__).status(); \
  lhs = std::move(KVOL_CONCAT(_kvol_r, __LINE__)).value()
