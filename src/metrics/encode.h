// Internal to kvol_metrics: the text format's sample lines of one series, per metric type.
// `labels` is the series' label pairs already encoded (`a="x",b="y"`, sorted), "" for none.
#pragma once

#include <string>

#include "kvol/metrics/metrics.h"

namespace kvol::metrics::internal {

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Counter& m);
void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Gauge& m);
void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Histogram& m);
// "# HELP name help\n# TYPE name type\n".
void AppendHeader(std::string& out, const Family& f);

}  // namespace kvol::metrics::internal
