// Fuzz target: label selectors, field selectors and quantities parsed from arbitrary bytes.
// Whatever parses must print canonically and parse again to the same meaning.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "kvol/api/fields.h"
#include "kvol/api/labels.h"
#include "kvol/api/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto labels = kvol::api::LabelSelectorExpr::Parse(text);
  if (labels.ok()) {
    auto again = kvol::api::LabelSelectorExpr::Parse(labels->ToString());
    if (!again.ok() || again->ToString() != labels->ToString()) __builtin_trap();
    std::map<std::string, std::string> set{{"app", "web"}, {"tier", "1"}};
    (void)labels->Matches(set);
  }

  auto fields = kvol::api::FieldSelector::Parse(text);
  if (fields.ok()) {
    auto again = kvol::api::FieldSelector::Parse(fields->ToString());
    if (!again.ok() || again->ToString() != fields->ToString()) __builtin_trap();
    (void)fields->Matches(nlohmann::json::object({{"metadata", {{"name", "x"}}}}));
  }

  auto q = kvol::api::Quantity::Parse(text);
  if (q.ok()) {
    std::string s = q->ToString();
    auto again = kvol::api::Quantity::Parse(s);
    if (!again.ok() || !(*again == *q)) __builtin_trap();
    (void)q->Value();
    (void)q->MilliValue();
    kvol::api::Quantity sum = *q;
    sum += *q;
    sum -= *q;
    if (!(sum == *q) && q->ToString().size() < 30) __builtin_trap();
  }
  return 0;
}
