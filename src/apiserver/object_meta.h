// Internal to kvol_apiserver: system-set metadata (uid, generateName suffixes).
#pragma once

#include <string>

namespace kvol::apiserver {

// A random RFC 4122 version 4 UUID ("3f0c...-4...-[89ab]...").
std::string NewUid();
// Five characters from Kubernetes' name alphabet (no vowels, no confusable digits).
std::string RandomSuffix();

}  // namespace kvol::apiserver
