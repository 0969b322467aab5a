// Printers of apps/v1 kinds: StatefulSet and Deployment.
#include <string>

#include "kvol/apiserver/table.h"
#include "src/apiserver/printers_util.h"

namespace kvol::apiserver::printers {

namespace {

Column Containers() {
  return {"Containers", "string", "", "Names of each container in the template.", 1};
}
Column Images() {
  return {"Images", "string", "", "Images referenced by each container in the template.", 1};
}

std::string Ratio(int64_t a, int64_t b) { return std::to_string(a) + "/" + std::to_string(b); }

Printer StatefulSet() {
  Printer p;
  p.columns = {NameColumn(),
               {"Ready", "string", "", "Number of the pod with ready state"},
               AgeColumn(),
               Containers(),
               Images()};
  p.cells = [](const json& o, int64_t now) {
    const json& podSpec = At(o, {"spec", "template", "spec"});
    return json::array({Str(o, {"metadata", "name"}),
                        Ratio(Int(o, {"status", "readyReplicas"}), Int(o, {"spec", "replicas"}, 1)),
                        TimestampSince(At(o, {"metadata", "creationTimestamp"}), now),
                        ContainerNames(podSpec), ContainerImages(podSpec)});
  };
  return p;
}

Printer Deployment() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Ready", "string", "", "Number of the pod with ready state"},
      {"Up-to-date", "string", "",
       "Total number of non-terminated pods targeted by this deployment that have the desired "
       "template spec."},
      {"Available", "string", "",
       "Total number of available pods (ready for at least minReadySeconds) targeted by this "
       "deployment."},
      AgeColumn(),
      Containers(),
      Images(),
      {"Selector", "string", "",
       "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
       "ones affected by this deployment.",
       1},
  };
  p.cells = [](const json& o, int64_t now) {
    const json& podSpec = At(o, {"spec", "template", "spec"});
    return json::array(
        {Str(o, {"metadata", "name"}),
         Ratio(Int(o, {"status", "readyReplicas"}), Int(o, {"spec", "replicas"}, 1)),
         Int(o, {"status", "updatedReplicas"}), Int(o, {"status", "availableReplicas"}),
         TimestampSince(At(o, {"metadata", "creationTimestamp"}), now), ContainerNames(podSpec),
         ContainerImages(podSpec), FormatLabelSelector(At(o, {"spec", "selector"}))});
  };
  return p;
}

}  // namespace

void AddAppsPrinters(PrinterMap& m) {
  m["apps/StatefulSet"] = StatefulSet();
  m["apps/Deployment"] = Deployment();
}

}  // namespace kvol::apiserver::printers
