// Fuzz target for kvol::apiserver::DecodeProtobufBody: the input is a request body as kubectl
// POSTs it with Content-Type application/vnd.kubernetes.protobuf ("k8s\0" + runtime.Unknown).
// It is decoded for every URL kind (and one kvol cannot decode); none may crash, throw or trip a
// sanitizer, and every success must be a JSON object naming a decodable kind that serialises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kvol/apiserver/protobuf_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> kKinds = [] {
    auto k = kvol::apiserver::ProtobufKinds();
    k.push_back("Deployment");
    return k;
  }();
  for (const auto& kind : kKinds) {
    auto r = kvol::apiserver::DecodeProtobufBody(body, kind);
    if (!r.ok()) continue;
    const auto& obj = *r;
    if (!obj.is_object() || !obj.contains("kind") || !obj["kind"].is_string()) std::abort();
    bool known = false;
    for (const auto& k : kvol::apiserver::ProtobufKinds()) known = known || obj["kind"] == k;
    if (!known) std::abort();
    (void)obj.dump();  // must not throw (strings are valid UTF-8)
  }
  return 0;
}
