// The shim for kvol_runtime_test: `kvol_shim_for_test __shim <args>` does what `kvol __shim`
// does in the real binary.
#include <cstring>

#include "kvol/runtime/shim.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "__shim") != 0) return 2;
  return kvol::runtime::ShimMain(argc - 2, argv + 2);
}
