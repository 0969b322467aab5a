// Kubernetes protobuf request bodies to JSON: unwraps runtime.Unknown, parses raw as the kind's
// message (k8s_subset.proto) and walks it by reflection. Proto field names are the JSON names.
#include "kvol/apiserver/protobuf_body.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <climits>
#include <memory>
#include <string_view>

#include "k8s_subset.pb.h"
#include "kvol/api/defaults.h"
#include "kvol/api/meta.h"

namespace kvol::apiserver {

namespace {

namespace pb = google::protobuf;
using api::json;

constexpr std::string_view kMagic("k8s\0", 4);
// metav1.Time's JSON range: years 0001 to 9999 (RFC 3339 has four-digit years).
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

struct KindEntry {
  const char* kind;
  const pb::Message* prototype;
};

// Sorted by kind.
const std::vector<KindEntry>& Kinds() {
  static const std::vector<KindEntry> kinds = {
      {"ConfigMap", &k8s::ConfigMap::default_instance()},
      {"Namespace", &k8s::Namespace::default_instance()},
      {"Secret", &k8s::Secret::default_instance()},
  };
  return kinds;
}

const pb::Message* Prototype(const std::string& kind) {
  for (const auto& k : Kinds())
    if (kind == k.kind) return k.prototype;
  return nullptr;
}

Status Unsupported(const std::string& kind) {
  std::string kinds;
  for (const auto& k : Kinds()) kinds += std::string(kinds.empty() ? "" : ", ") + k.kind;
  return Status(Code::kUnsupportedMedia,
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json (kvol accepts " +
                    std::string(kProtobufMediaType) + " only for kinds " + kinds + ", not " + kind +
                    ")");
}

Status Malformed(const std::string& what) {
  return BadRequest("error decoding " + std::string(kProtobufMediaType) + " body: " + what);
}

// Go pointer fields: present means set even when zero. Every bool in the subset is one.
bool KeepsZero(const pb::FieldDescriptor* f) {
  return f->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL ||
         f->name() == "deletionGracePeriodSeconds";
}

class Converter {
 public:
  // The JSON of a message, or null when every field is empty.
  json Message(const pb::Message& m) {
    const pb::Descriptor* d = m.GetDescriptor();
    if (d == k8s::Time::descriptor()) return Time(static_cast<const k8s::Time&>(m));
    if (d == k8s::FieldsV1::descriptor()) return Fields(static_cast<const k8s::FieldsV1&>(m));
    const pb::Reflection* r = m.GetReflection();
    json out = json::object();
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      json v;
      if (f->is_map()) {
        v = Map(m, f);
      } else if (f->is_repeated()) {
        v = json::array();
        for (int j = 0; j < r->FieldSize(m, f); ++j) v.push_back(Value(m, f, j, true));
      } else if (r->HasField(m, f)) {
        v = Value(m, f, -1, false);
      }
      if (v.is_null() || (v.is_structured() && v.empty())) continue;
      out[f->name()] = std::move(v);
    }
    return out.empty() ? json() : out;
  }

  const Status& status() const { return status_; }

 private:
  // One value of field f (element `index` when repeated). `keep` keeps empty strings and zeros:
  // list elements and map values are kept whatever they hold.
  json Value(const pb::Message& m, const pb::FieldDescriptor* f, int index, bool keep) {
    const pb::Reflection* r = m.GetReflection();
    bool rep = index >= 0;
    keep = keep || KeepsZero(f);
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
        if (s.empty() && !keep) return nullptr;
        if (f->type() == pb::FieldDescriptor::TYPE_BYTES) return api::Base64Encode(s);
        return s;
      }
      case pb::FieldDescriptor::CPPTYPE_INT64: {
        int64_t n = rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
        return n == 0 && !keep ? json() : json(n);
      }
      case pb::FieldDescriptor::CPPTYPE_INT32: {
        int32_t n = rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
        return n == 0 && !keep ? json() : json(n);
      }
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
      case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
        json v = Message(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
        if (v.is_null() && keep) return json::object();
        return v;
      }
      default:
        // The subset has no other types; a new field of one must be added here.
        Fail(Malformed("field " + f->full_name() + " has a type kvol does not convert"));
        return nullptr;
    }
  }

  // map<K, V> fields are repeated entries {key = 1, value = 2}; the last entry for a key wins.
  json Map(const pb::Message& m, const pb::FieldDescriptor* f) {
    const pb::Reflection* r = m.GetReflection();
    json out = json::object();
    const pb::FieldDescriptor* key = f->message_type()->map_key();
    const pb::FieldDescriptor* value = f->message_type()->map_value();
    if (key->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) {
      Fail(Malformed("map field " + f->full_name() + " has a non-string key"));
      return nullptr;
    }
    for (int j = 0; j < r->FieldSize(m, f); ++j) {
      const pb::Message& e = r->GetRepeatedMessage(m, f, j);
      const pb::Reflection* er = e.GetReflection();
      json v = Value(e, value, -1, true);
      if (v.is_null())
        v = value->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE ? json::object() : json("");
      out[er->GetString(e, key)] = std::move(v);
    }
    return out;
  }

  json Time(const k8s::Time& t) {
    if (t.seconds() == 0 && t.nanos() == 0) return nullptr;  // Go's zero Time: JSON null
    if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds) {
      Fail(Malformed("a timestamp is outside years 0001 to 9999"));
      return nullptr;
    }
    return api::FormatTime(t.seconds());
  }

  json Fields(const k8s::FieldsV1& f) {
    if (f.raw().empty()) return nullptr;
    json v = json::parse(f.raw(), nullptr, false);
    if (v.is_discarded() || !v.is_object()) {
      Fail(Malformed("managedFields[].fieldsV1 is not a JSON object"));
      return nullptr;
    }
    return v;
  }

  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  Status status_;
};

}  // namespace

std::vector<std::string> ProtobufKinds() {
  std::vector<std::string> out;
  for (const auto& k : Kinds()) out.push_back(k.kind);
  return out;
}

Result<json> DecodeProtobufBody(const std::string& body, const std::string& expectedKind) {
  if (!Prototype(expectedKind)) return Unsupported(expectedKind);
  if (body.size() < kMagic.size() || std::string_view(body).substr(0, kMagic.size()) != kMagic) {
    // Kubernetes' wording (runtime/serializer/protobuf).
    return BadRequest(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
  }
  if (body.size() - kMagic.size() > static_cast<size_t>(INT_MAX)) {
    return Malformed("the body is too large");
  }
  k8s::Unknown unknown;
  if (!unknown.ParseFromArray(body.data() + kMagic.size(),
                              static_cast<int>(body.size() - kMagic.size()))) {
    return Malformed("not a runtime.Unknown message");
  }
  if (!unknown.contentencoding().empty()) {
    return Malformed("contentEncoding \"" + unknown.contentencoding() + "\" is not supported");
  }
  std::string kind = unknown.typemeta().kind();
  if (kind.empty()) kind = expectedKind;
  const pb::Message* prototype = Prototype(kind);
  if (!prototype) return Unsupported(kind);
  std::unique_ptr<pb::Message> obj(prototype->New());
  if (!obj->ParseFromString(unknown.raw())) return Malformed("not a valid " + kind + " message");

  Converter conv;
  json out = conv.Message(*obj);
  if (!conv.status().ok()) return conv.status();
  if (out.is_null()) out = json::object();
  out["kind"] = kind;
  if (!unknown.typemeta().apiversion().empty()) out["apiVersion"] = unknown.typemeta().apiversion();
  // Protobuf strings are not checked for UTF-8; JSON ones are. Reject here rather than fail later
  // when the object is serialised.
  try {
    (void)out.dump();
  } catch (const json::exception&) {
    return Malformed("a string is not valid UTF-8");
  }
  return out;
}

}  // namespace kvol::apiserver
