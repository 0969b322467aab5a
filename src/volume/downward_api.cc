// downwardAPI volumes (kubernetes.io~downward-api): fields of the pod itself as files (the
// kubelet's downwardapi plugin with pkg/fieldpath's formatting), written with the AtomicWriter on
// a tmpfs (the kubelet wraps a memory-medium emptyDir for it, as for secret and projected).
#include <cstdio>
#include <memory>

#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"

namespace kvol::volume {
namespace {

// Decodes one UTF-8 sequence at s[i] as Go does: a rune and its width, or -1 (width 1) for an
// invalid byte (bad lead, bad continuation, overlong, surrogate, above U+10FFFF).
int DecodeRune(const std::string& s, size_t i, size_t* width) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  *width = 1;
  if (c < 0x80) return c;
  int n = 0;
  uint32_t r = 0, min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 1, r = c & 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 2, r = c & 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3, r = c & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + n >= s.size()) return -1;
  for (int k = 1; k <= n; ++k) {
    unsigned char cc = b(i + k);
    if ((cc & 0xc0) != 0x80) return -1;
    r = (r << 6) | (cc & 0x3f);
  }
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return -1;
  *width = static_cast<size_t>(n) + 1;
  return static_cast<int>(r);
}

// unicode.IsPrint for the runes that matter in labels and annotations: ASCII graphic and space;
// above ASCII every rune except controls, spaces other than U+0020, format characters, private
// use and non-characters (unassigned code points are treated as printable).
bool IsPrint(uint32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r < 0xa0 || r == 0xa0 || r == 0xad) return false;
  if (r == 0x1680 || (r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f)) return false;
  if ((r >= 0x205f && r <= 0x206f) || r == 0x3000 || r == 0xfeff) return false;
  if ((r >= 0xe000 && r <= 0xf8ff) || (r >= 0xfff9 && r <= 0xfffb)) return false;
  if ((r & 0xfffe) == 0xfffe || r >= 0xf0000) return false;
  return true;
}

void AppendHex(std::string* out, const char* prefix, uint32_t v, int digits) {
  char buf[16];
  snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, v);
  *out += buf;
}

}  // namespace

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    size_t width = 1;
    int r = DecodeRune(s, i, &width);
    if (r < 0) {
      AppendHex(&out, "\\x", static_cast<unsigned char>(s[i]), 2);
      i += 1;
      continue;
    }
    uint32_t u = static_cast<uint32_t>(r);
    if (u == '"' || u == '\\') {
      out += '\\';
      out += static_cast<char>(u);
    } else if (IsPrint(u)) {
      out.append(s, i, width);
    } else {
      switch (u) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (u < ' ' || u == 0x7f) {
            AppendHex(&out, "\\x", u, 2);
          } else if (u < 0x10000) {
            AppendHex(&out, "\\u", u, 4);
          } else {
            AppendHex(&out, "\\U", u, 8);
          }
      }
    }
    i += width;
  }
  out += '"';
  return out;
}

std::string FormatMap(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) {  // std::map: sorted by key, as Go's sets.String.List()
    if (!out.empty()) out += '\n';
    out += k + "=" + GoQuote(v);
  }
  return out;
}

Result<std::string> ExtractFieldPath(const api::Pod& pod, const std::string& fieldPath) {
  const api::ObjectMeta& meta = pod.metadata;
  // SplitMaybeSubscriptedPath: metadata.labels['key'] -> ("metadata.labels", "key").
  const std::string open = "['", close = "']";
  if (fieldPath.size() > close.size() &&
      fieldPath.compare(fieldPath.size() - close.size(), close.size(), close) == 0) {
    std::string s = fieldPath.substr(0, fieldPath.size() - close.size());
    size_t at = s.find(open);
    if (at != std::string::npos && at > 0) {
      std::string path = s.substr(0, at), key = s.substr(at + open.size());
      const std::map<std::string, std::string>* m = nullptr;
      if (path == "metadata.annotations") m = &meta.annotations;
      if (path == "metadata.labels") m = &meta.labels;
      if (m == nullptr) {
        return FailedPrecondition("fieldPath \"" + path + "\" does not support subscript");
      }
      auto it = m->find(key);
      return it == m->end() ? std::string() : it->second;
    }
  }
  if (fieldPath == "metadata.annotations") return FormatMap(meta.annotations);
  if (fieldPath == "metadata.labels") return FormatMap(meta.labels);
  if (fieldPath == "metadata.name") return meta.name;
  if (fieldPath == "metadata.namespace") return meta.namespace_;
  if (fieldPath == "metadata.uid") return meta.uid;
  if (fieldPath == "spec.nodeName") return pod.spec.nodeName;
  if (fieldPath == "spec.serviceAccountName") return pod.spec.serviceAccountName;
  if (fieldPath == "status.podIP") return pod.status.podIP;
  if (fieldPath == "status.hostIP") return pod.status.hostIP;
  return FailedPrecondition("unsupported fieldPath: " + fieldPath);
}

Result<Payload> DownwardApiPayload(const api::Pod& pod,
                                   const std::vector<api::DownwardAPIVolumeFile>& items,
                                   unsigned defaultMode) {
  Payload payload;
  std::vector<Status> errs;
  for (const api::DownwardAPIVolumeFile& item : items) {
    FileProjection fp;
    fp.mode = ModeOr(item.mode, defaultMode);
    if (item.fieldRef) {
      Result<std::string> v = ExtractFieldPath(pod, item.fieldRef->fieldPath);
      if (!v.ok()) {
        errs.push_back(v.status());
        continue;
      }
      fp.data = std::move(*v);
    } else if (item.resourceFieldRef) {
      errs.push_back(FailedPrecondition("resourceFieldRef \"" + item.resourceFieldRef->resource +
                                        "\" (path \"" + item.path +
                                        "\") is not supported by kvol yet"));
      continue;
    }
    payload[item.path] = std::move(fp);
  }
  KVOL_RETURN_IF_ERROR(AggregateErrors(errs));
  return payload;
}

namespace {

constexpr const char* kPluginDir = "kubernetes.io~downward-api";

class DownwardApiPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.downwardAPI.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::DownwardAPIVolumeSource& src = *req.volume->downwardAPI;
    KVOL_ASSIGN_OR_RETURN(
        Payload payload,
        DownwardApiPayload(*req.pod, src.items, ModeOr(src.defaultMode, kDefaultFileMode)));
    return SetUpPayloadVolume(req, kPluginDir, payload, /*onTmpfs=*/true);
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    return TearDownPayloadVolume(node, podDir, kPluginDir, dirName);
  }

  std::vector<ObjectRef> References(const api::Pod& pod, const api::Volume& v) const override {
    if (!v.downwardAPI) return {};
    return {ObjectRef{"pods", pod.metadata.namespace_, pod.metadata.name}};
  }
};

}  // namespace

std::unique_ptr<Plugin> NewDownwardApiPlugin() { return std::make_unique<DownwardApiPlugin>(); }

}  // namespace kvol::volume
