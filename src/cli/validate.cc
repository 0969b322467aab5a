#include <fstream>
#include <iostream>
#include <sstream>

#include "kvol/api/manifest.h"
#include "kvol/api/scheme.h"
#include "kvol/api/yaml.h"
#include "kvol/cli/cli.h"

namespace kvol::cli {

namespace {

std::string Describe(const api::json& obj) {
  std::string kind = obj.value("kind", "");
  std::string name;
  if (obj.contains("metadata") && obj["metadata"].is_object())
    name = obj["metadata"].value("name", obj["metadata"].value("generateName", ""));
  return kind + " \"" + name + "\"";
}

}  // namespace

int RunValidate(const std::vector<std::string>& files, const std::string& unknownFields,
                const std::string& output, std::ostream& out, std::ostream& err) {
  const api::Scheme& scheme = api::Scheme::Default();
  int failures = 0;
  api::json list = api::json::array();
  bool first = true;
  for (const std::string& file : files) {
    std::string text;
    if (file == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        err << "error: the path \"" << file << "\" does not exist\n";
        ++failures;
        continue;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    auto manifests = api::DecodeManifests(text, file);
    if (!manifests.ok()) {
      err << "error: " << file << ": " << manifests.status().message() << "\n";
      ++failures;
      continue;
    }
    for (const api::Manifest& m : *manifests) {
      const std::string where = file + ": " + Describe(m.object);
      const api::KindOps* ops =
          scheme.ByKind(m.object.value("apiVersion", ""), m.object.value("kind", ""));
      if (ops == nullptr) {
        err << where << ": no kind \"" << m.object.value("kind", "")
            << "\" is registered for version \"" << m.object.value("apiVersion", "") << "\"\n";
        ++failures;
        continue;
      }
      api::Decoded d = ops->Normalize(m.object);
      api::ErrorList errs = d.errors;
      for (const std::string& f : d.unknownFields) {
        if (unknownFields == "Strict") {
          errs.push_back(api::FieldError{api::ErrorType::kInvalid, "", nullptr,
                                         "unknown field \"" + f + "\""});
        } else if (unknownFields == "Warn") {
          err << "Warning: " << where << ": unknown field \"" << f << "\"\n";
        }
      }
      if (!d.errors.empty()) {
        // A value of the wrong type or a malformed quantity: the API server refuses the request
        // at decoding (400), before defaulting and validation would see a zero value.
        ++failures;
        for (const auto& e : errs) err << where << ": " << e.ToString() << "\n";
        continue;
      }
      api::json obj = d.object;
      if (ops->info().namespaced) {
        auto& meta = obj["metadata"];
        if (!meta.contains("namespace")) meta["namespace"] = "default";
      }
      obj = ops->Default(obj);
      api::ErrorList v = ops->ValidateCreate(obj);
      errs.insert(errs.end(), v.begin(), v.end());
      if (!errs.empty()) {
        ++failures;
        for (const auto& e : errs) err << where << ": " << e.ToString() << "\n";
        continue;
      }
      if (output == "json") {
        list.push_back(obj);
      } else {
        if (!first) out << "---\n";
        first = false;
        out << api::ToYaml(obj);
      }
    }
  }
  if (output == "json") {
    if (list.size() == 1) {
      out << list[0].dump(4) << "\n";
    } else {
      out << api::json{{"apiVersion", "v1"},
                       {"kind", "List"},
                       {"items", list},
                       {"metadata", api::json::object()}}
                 .dump(4)
          << "\n";
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace kvol::cli
