// Fuzz target: DecodeManifests (YAML/JSON manifest decoding) and ToYaml on whatever decodes.
// Must never crash, hang or leak, whatever the bytes; errors come back as Status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kvol/api/manifest.h"
#include "kvol/api/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto manifests = kvol::api::DecodeManifests(text, "fuzz.yaml");
  if (manifests.ok()) {
    for (const auto& m : *manifests) {
      // What kvol prints must read back as one YAML document.
      auto back = kvol::api::ParseYaml(kvol::api::ToYaml(m.object));
      if (!back.ok() || back->size() != 1) __builtin_trap();
    }
  }
  (void)kvol::api::ParseJsonOrYaml(text);
  return 0;
}
