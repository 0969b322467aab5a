// SHA-256 of files and strings as lowercase hex (kvol::image), and the checks of archive files
// that name their content by digest. Thread safety: stateless.
#pragma once

#include <string>

#include "kvol/common/status.h"

namespace kvol::image {

std::string Sha256Hex(const std::string& data);
// kNotFound when missing, kInternal on read errors.
Result<std::string> Sha256File(const std::string& path);
// "sha256:<64 hex>" -> "<64 hex>"; kInvalid "<what>: unsupported digest ..." otherwise.
Result<std::string> DigestHex(const std::string& digest, const std::string& what);

}  // namespace kvol::image
