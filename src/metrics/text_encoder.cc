// The Prometheus text exposition format (0.0.4): numbers, escaping, and the sample lines of each
// metric type.
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "kvol/metrics/metrics.h"
#include "src/metrics/encode.h"

namespace kvol::metrics {

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest round-trip digits; Go's 'g' with precision -1 uses %e when the decimal exponent is
  // < -4 or >= 6 (the "shortest" rule uses a fixed 6), else %f with those digits.
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  auto e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) return s;  // "1e-08", "1.2345678e+07": as Go prints them
  auto fix = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fix.ptr);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace internal {

namespace {

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Line(std::string& out, const std::string& name, const char* suffix, const std::string& labels,
          double v) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += FormatFloat(v);
  out += '\n';
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

void AppendHeader(std::string& out, const Family& f) {
  out += "# HELP " + f.name() + " " + EscapeHelp(f.help()) + "\n";
  out += "# TYPE " + f.name() + " " + TypeName(f.type()) + "\n";
}

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Counter& m) {
  Line(out, name, "", labels, m.Value());
}

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Gauge& m) {
  Line(out, name, "", labels, m.Value());
}

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Histogram& m) {
  Histogram::Snapshot s = m.Snap();
  const auto& bounds = m.bounds();
  std::string prefix = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i <= bounds.size(); ++i) {
    std::string le = i < bounds.size() ? FormatFloat(bounds[i]) : "+Inf";
    Line(out, name, "_bucket", prefix + "le=\"" + le + "\"", static_cast<double>(s.cumulative[i]));
  }
  Line(out, name, "_sum", labels, s.sum);
  Line(out, name, "_count", labels, static_cast<double>(s.count));
}

}  // namespace internal
}  // namespace kvol::metrics
