#include "kvol/metrics/process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kvol::metrics {

namespace {

// The fields of /proc/self/stat after "(comm)": index 0 is field 3 (state).
std::vector<std::string> StatFields() {
  std::ifstream f("/proc/self/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  auto close = all.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream in(all.substr(close + 1));
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

double Field(const std::vector<std::string>& f, int procField) {
  size_t i = static_cast<size_t>(procField - 3);
  return i < f.size() ? std::strtod(f[i].c_str(), nullptr) : 0;
}

double Statm(int index) {
  std::ifstream f("/proc/self/statm");
  double v[2] = {0, 0};
  f >> v[0] >> v[1];
  return v[index] * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double BootTime() {
  std::ifstream f("/proc/stat");
  std::string key;
  double v = 0;
  while (f >> key) {
    if (key == "btime") {
      f >> v;
      return v;
    }
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 0;
  double n = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own fd
}

}  // namespace

void RegisterProcessMetrics(Registry& r) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double start = BootTime() + Field(StatFields(), 22) / ticks;
  r.AddCounterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                   [ticks] {
                     auto f = StatFields();
                     return (Field(f, 14) + Field(f, 15)) / ticks;
                   });
  r.AddGaugeFunc("process_open_fds", "Number of open file descriptors.", OpenFds);
  r.AddGaugeFunc("process_max_fds", "Maximum number of open file descriptors.", [] {
    struct rlimit l {};
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return 0.0;
    return static_cast<double>(l.rlim_cur);
  });
  r.AddGaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                 [] { return Statm(0); });
  r.AddGaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.",
                 [] { return Statm(1); });
  r.AddGaugeFunc("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.",
                 [start] { return start; });
}

}  // namespace kvol::metrics
