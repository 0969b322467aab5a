// secret volumes (kubernetes.io~secret): the keys of a Secret as files, on a tmpfs so that secret
// bytes never reach the node's disk (as the kubelet's secret plugin does), written with the
// AtomicWriter. Also the base64 decoder the object payloads share.
#include <memory>

#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"

namespace kvol::volume {

Result<std::string> Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0, sextets = 0, pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\r' || c == '\n') continue;  // Go's StdEncoding skips newlines
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = value(c);
    if (v < 0 || pad > 0) {
      return Invalid("illegal base64 data at input byte " + std::to_string(i));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++sextets;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Padded encoding: whole quanta only, with exactly the padding the last one needs.
  int rem = sextets % 4;
  if (rem == 1 || (rem == 0 && pad != 0) || (rem != 0 && pad != 4 - rem)) {
    return Invalid("illegal base64 data at input byte " + std::to_string(in.size()));
  }
  return out;
}

Result<Payload> SecretPayload(ObjectSource& objects, const std::string& ns, const std::string& name,
                              const std::vector<api::KeyToPath>& items, unsigned defaultMode,
                              bool optional) {
  Result<json> got = objects.Get("secrets", ns, name);
  if (!got.ok()) {
    if (!got.status().IsNotFound()) return got.status();
    if (optional) return Payload{};
    return Unavailable("secret \"" + name + "\" not found");
  }
  std::string what = "secret \"" + name + "\"";
  KVOL_ASSIGN_OR_RETURN(auto encoded, StringMapField(*got, "data", what));
  KVOL_ASSIGN_OR_RETURN(auto plain, StringMapField(*got, "stringData", what));
  std::map<std::string, std::string> data;
  for (const auto& [key, b64] : encoded) {
    Result<std::string> raw = Base64Decode(b64);
    if (!raw.ok()) return Internal(what + ": data[" + key + "]: " + raw.status().message());
    data[key] = std::move(*raw);
  }
  // stringData is folded into data by the API server on write; should a stored object still
  // carry it, it wins, as it does there.
  for (auto& [key, value] : plain) data[key] = value;
  return ItemsPayload(data, items, defaultMode, optional, "references non-existent secret key: ");
}

namespace {

constexpr const char* kPluginDir = "kubernetes.io~secret";

class SecretPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.secret.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::SecretVolumeSource& src = *req.volume->secret;
    KVOL_ASSIGN_OR_RETURN(
        Payload payload,
        SecretPayload(*req.objects, req.pod->metadata.namespace_, src.secretName, src.items,
                      ModeOr(src.defaultMode, kDefaultFileMode), src.optional.value_or(false)));
    return SetUpPayloadVolume(req, kPluginDir, payload, /*onTmpfs=*/true);
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    return TearDownPayloadVolume(node, podDir, kPluginDir, dirName);
  }

  std::vector<ObjectRef> References(const api::Pod& pod, const api::Volume& v) const override {
    if (!v.secret) return {};
    return {ObjectRef{"secrets", pod.metadata.namespace_, v.secret->secretName}};
  }
};

}  // namespace

std::unique_ptr<Plugin> NewSecretPlugin() { return std::make_unique<SecretPlugin>(); }

}  // namespace kvol::volume
