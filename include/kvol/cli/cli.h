// The `kvol` command line: one binary, subcommands as DESIGN.md's contract lists them.
// RunCli parses argv, runs the subcommand and returns the process exit code; stdout carries only
// what the contract says (objects, tables, the ready line), logs and errors go to stderr.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace kvol::cli {

int RunCli(int argc, char** argv);

// `kvol validate -f FILE...`: decodes every manifest, applies Kubernetes' defaulting and
// validation, and prints the objects defaulted (YAML, one document each) to `out`, or every error
// with its field path to `err`. Returns 0 when every object is valid, 1 otherwise.
// unknownFields: "Strict" (an unknown field is an error, kubectl's default), "Warn" or "Ignore".
int RunValidate(const std::vector<std::string>& files, const std::string& unknownFields,
                const std::string& output, std::ostream& out, std::ostream& err);

}  // namespace kvol::cli
