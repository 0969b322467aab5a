// Fuzz target for the fieldsV1 codec (src/patch/fieldset.h): the input is a JSON document read
// as metadata.managedFields[].fieldsV1. Decoding must never crash or throw; whatever decodes
// must encode and decode again to the same set, and its paths must print.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "src/patch/fieldset.h"

using kvol::patch::FieldSet;
using kvol::patch::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json in = json::parse(std::string(reinterpret_cast<const char*>(data), size), nullptr,
                        /*allow_exceptions=*/false);
  if (in.is_discarded()) return 0;
  kvol::Result<FieldSet> s = FieldSet::FromFieldsV1(in);
  if (!s.ok()) return 0;
  json out = s->ToFieldsV1();
  kvol::Result<FieldSet> again = FieldSet::FromFieldsV1(out);
  if (!again.ok() || !(*again == *s) || again->ToFieldsV1() != out) std::abort();
  for (const auto& p : s->Members()) (void)kvol::patch::PathString(p);
  (void)s->Union(*again).Difference(*s).Intersection(*again).RecursiveDifference(*s);
  return 0;
}
