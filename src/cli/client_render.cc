// kubectl's renderings: Go text/tabwriter alignment and the human-readable Table printer
// (k8s.io/cli-runtime/pkg/printers/tableprinter.go).
#include <algorithm>
#include <cctype>

#include "kvol/cli/client.h"

namespace kvol::cli {

namespace {

using Line = std::vector<std::string>;  // cells; the last one is the text after the last tab

size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count UTF-8 code points, as tabwriter does
  return n;
}

struct Formatter {
  const std::vector<Line>& lines;
  int minwidth;
  int padding;
  std::vector<size_t> widths;
  std::string out;

  void WriteLines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const Line& line = lines[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out += line[j];
        if (j < widths.size() && j + 1 < line.size()) {
          size_t w = Width(line[j]);
          if (widths[j] > w) out.append(widths[j] - w, ' ');
        }
      }
      if (i + 1 < lines.size()) out += "\n";
    }
  }

  // Go's tabwriter.format: column blocks are runs of consecutive lines having this column.
  void Format(size_t line0, size_t line1) {
    size_t column = widths.size();
    for (size_t cur = line0; cur < line1; ++cur) {
      if (column + 1 >= lines[cur].size()) continue;
      WriteLines(line0, cur);
      line0 = cur;
      size_t width = static_cast<size_t>(minwidth);
      for (; cur < line1; ++cur) {
        const Line& line = lines[cur];
        if (column + 1 >= line.size()) break;
        width = std::max(width, Width(line[column]) + static_cast<size_t>(padding));
      }
      widths.push_back(width);
      Format(line0, cur);
      widths.pop_back();
      line0 = cur;
      if (cur >= line1) break;
      --cur;  // re-examine this line at the outer level (the for loop increments)
    }
    WriteLines(line0, line1);
  }
};

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string CellText(const json& cell) {
  if (cell.is_null()) return "";
  if (cell.is_string()) {
    std::string s = cell.get<std::string>();
    if (auto nl = s.find('\n'); nl != std::string::npos) s = s.substr(0, nl) + "...";
    return s;
  }
  if (cell.is_boolean()) return cell.get<bool>() ? "true" : "false";
  if (cell.is_number_float()) {
    double d = cell.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d)))
      return std::to_string(static_cast<long long>(d));
  }
  return cell.dump();
}

}  // namespace

std::string TabFormat(const std::string& text, int minwidth, int padding) {
  std::vector<Line> lines;
  Line cur;
  std::string cell;
  for (char c : text) {
    if (c == '\t') {
      cur.push_back(cell);
      cell.clear();
    } else if (c == '\n') {
      cur.push_back(cell);
      cell.clear();
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cell += c;
    }
  }
  cur.push_back(cell);
  lines.push_back(std::move(cur));  // the text after the last newline ("" when it ends in \n)
  Formatter f{lines, minwidth, padding, {}, {}};
  f.Format(0, lines.size());
  return f.out;
}

std::string TableText(const json& table, const TableRenderOptions& opts) {
  std::string out;
  const json& cols =
      table.contains("columnDefinitions") ? table["columnDefinitions"] : json::array();
  std::vector<bool> show;
  int nameCol = -1;
  for (size_t i = 0; i < cols.size(); ++i) {
    int prio = cols[i].value("priority", 0);
    show.push_back(opts.wide || prio == 0);
    if (nameCol < 0 && cols[i].value("format", "") == "name" &&
        cols[i].value("type", "") == "string")
      nameCol = static_cast<int>(i);
  }
  if (!opts.noHeaders) {
    bool first = true;
    if (opts.withNamespace) {
      out += "NAMESPACE";
      first = false;
    }
    for (size_t i = 0; i < cols.size(); ++i) {
      if (!show[i]) continue;
      if (!first) out += "\t";
      first = false;
      out += Upper(cols[i].value("name", ""));
    }
    out += "\n";
  }
  if (!table.contains("rows") || !table["rows"].is_array()) return out;
  for (const auto& row : table["rows"]) {
    bool first = true;
    if (opts.withNamespace) {
      if (row.contains("object") && row["object"].is_object()) {
        const json& o = row["object"];
        if (o.contains("metadata") && o["metadata"].is_object())
          out += o["metadata"].value("namespace", "");
      }
      first = false;
    }
    const json& cells = row.contains("cells") ? row["cells"] : json::array();
    for (size_t i = 0; i < cells.size() && i < cols.size(); ++i) {
      if (!show[i]) continue;
      if (!first) out += "\t";
      first = false;
      std::string text = CellText(cells[i]);
      if (static_cast<int>(i) == nameCol && !opts.kindPrefix.empty()) {
        text = opts.kindPrefix + "/" + text;
      }
      out += text;
    }
    out += "\n";
  }
  return out;
}

std::string RenderTable(const json& table, const TableRenderOptions& opts) {
  return TabFormat(TableText(table, opts), 6, 3);
}

}  // namespace kvol::cli
