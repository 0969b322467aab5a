// kvol: the Kubernetes storage system as one program. Everything is in the libraries; this is the
// thin entry point (see include/kvol/cli/cli.h).
#include "kvol/cli/cli.h"

int main(int argc, char** argv) { return kvol::cli::RunCli(argc, argv); }
