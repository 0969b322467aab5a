#include "kvol/controller/topology.h"

#include <algorithm>

namespace kvol::controller {
namespace {

std::string LabelOf(const NodeInfo& node, const std::string& key) {
  auto it = node.labels.find(key);
  if (it != node.labels.end()) return it->second;
  if (key == kHostnameLabel) return node.name;
  return "\x01";  // matches no value
}

}  // namespace

bool AllowedTopologiesMatch(const std::vector<api::TopologySelectorTerm>& terms,
                            const NodeInfo& node) {
  if (terms.empty()) return true;
  for (const auto& term : terms) {
    bool all = true;
    for (const auto& e : term.matchLabelExpressions) {
      const std::string have = LabelOf(node, e.key);
      if (std::find(e.values.begin(), e.values.end(), have) == e.values.end()) all = false;
    }
    if (all) return true;
  }
  return false;
}

driver::Topology NodeTopology(const NodeInfo& node) {
  driver::Topology t{{kHostnameLabel, node.name}};
  if (auto z = node.labels.find(kZoneLabel); z != node.labels.end() && !z->second.empty()) {
    t[kZoneLabel] = z->second;
  }
  return t;
}

std::vector<driver::Topology> ProvisionRequisite(
    const NodeInfo* node, const std::vector<api::TopologySelectorTerm>& allowed) {
  if (node != nullptr) return {NodeTopology(*node)};
  std::vector<driver::Topology> out;
  for (const auto& term : allowed) {
    std::vector<driver::Topology> combos{{}};
    for (const auto& e : term.matchLabelExpressions) {
      std::vector<driver::Topology> next;
      for (const auto& c : combos) {
        for (const auto& v : e.values) {
          driver::Topology t = c;
          t[e.key] = v;
          next.push_back(std::move(t));
        }
      }
      combos = std::move(next);
    }
    for (auto& c : combos) {
      if (!c.empty()) out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace kvol::controller
