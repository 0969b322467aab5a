// kvol: the Kubernetes storage system as one program. Everything is in the libraries; this is the
// thin entry point (see include/kvol/cli/cli.h). `kvol __shim ...` is the hidden per-container
// shim the node agent's runtime starts (include/kvol/runtime/shim.h): it is dispatched before the
// CLI so that it starts no thread.
#include <cstring>

#include "kvol/cli/cli.h"
#include "kvol/runtime/shim.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "__shim") == 0) {
    return kvol::runtime::ShimMain(argc - 2, argv + 2);
  }
  return kvol::cli::RunCli(argc, argv);
}
