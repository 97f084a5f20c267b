// triage-supervisor: runs the flight process and restarts it on crash or
// hang. All logic lives in fault/supervisor.h.
#include <cstdio>
#include <string>

#include "core/clock.h"
#include "fault/supervisor.h"

int main(int argc, char** argv) {
  triage::fault::SupervisorOptions options;
  std::string error;
  bool help = false;
  if (!triage::fault::ParseSupervisorArgs(argc, argv, &options, &error, &help)) {
    std::fprintf(help ? stdout : stderr, help ? "%s" : "triage-supervisor: %s\n", error.c_str());
    return help ? 0 : 2;
  }
  triage::fault::Supervisor supervisor(std::move(options), triage::SteadyClock::Instance(), stderr);
  supervisor.InstallSignalHandlers();
  return supervisor.Run();
}
