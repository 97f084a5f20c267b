// The operations subcommands of triage-ground (what the team runs after a
// pass): receive and replay. Kept apart from the model toolchain's commands
// in ground_cli.cc.
#ifndef TRIAGE_GROUND_OPS_CLI_H_
#define TRIAGE_GROUND_OPS_CLI_H_

#include <memory>

namespace CLI {
class App;
}

namespace triage::ground {

struct OpsCommands;
struct OpsCommandsDeleter {
  void operator()(OpsCommands* p) const;
};
using OpsCommandsPtr = std::unique_ptr<OpsCommands, OpsCommandsDeleter>;

// Registers the subcommands and their options on app.
OpsCommandsPtr AddOpsCommands(CLI::App& app);
// After app.parse: runs the parsed one; false if none of them was parsed.
bool RunOpsCommands(const OpsCommands& commands, bool progress, int* exit_code);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_OPS_CLI_H_
