// triage-ground: the ground-side toolchain (dataset, train, export,
// quantize, evaluate). A thin main() calls RunGroundCli; every subcommand is
// a function over the ground library, so tests can drive it too.
#ifndef TRIAGE_GROUND_GROUND_CLI_H_
#define TRIAGE_GROUND_GROUND_CLI_H_

namespace triage::ground {

// Returns the process exit code; prints one-line errors to stderr.
int RunGroundCli(int argc, char** argv);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_GROUND_CLI_H_
