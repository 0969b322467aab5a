// Decodes Kubernetes protobuf request bodies (Content-Type application/vnd.kubernetes.protobuf)
// into the JSON object the JSON path would have received, so create and update handle both the
// same way. kubectl >= 1.32 sends these for `kubectl create namespace|configmap|secret`.
//
// Wire format: the 4 bytes "k8s\0", then a runtime.Unknown message {typeMeta{apiVersion, kind},
// raw, contentEncoding, contentType} whose raw is the object's own message (core/v1 Namespace,
// ConfigMap or Secret). The result carries apiVersion and kind from typeMeta; strings that are
// empty, numbers that are 0, zero timestamps and empty lists, maps and objects are left out (as
// Go's `omitempty` JSON would); bytes (Secret data, ConfigMap binaryData) become base64 strings,
// timestamps RFC 3339 UTC strings, managedFields' fieldsV1 the JSON object it holds.
//
// Errors: kUnsupportedMedia (HTTP 415) when expectedKind, or the kind the body names, is one kvol
// cannot decode from protobuf; kBadRequest (400) for bodies that are not such a message. A kind in
// the body that differs from expectedKind but is decodable is returned as is: the caller's
// apiVersion/kind check answers it like a JSON body.
//
// Thread safety: stateless; safe from any thread. Never throws.
#pragma once

#include <string>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/common/status.h"

namespace kvol::apiserver {

inline constexpr const char* kProtobufMediaType = "application/vnd.kubernetes.protobuf";

Result<api::json> DecodeProtobufBody(const std::string& body, const std::string& expectedKind);

// The kinds DecodeProtobufBody decodes, sorted ("ConfigMap", "Namespace", "Secret").
std::vector<std::string> ProtobufKinds();

}  // namespace kvol::apiserver
