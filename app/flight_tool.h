// triage-flight: the flight process. Loads and validates the mission config
// (refusing to start, with every problem listed, on a bad one), builds the
// FlightLoop (refusing to start on a model that fails verification), runs it
// until --frames, --until-pass, the end of the source or SIGTERM/SIGINT,
// then prints the summary table. Returns the process exit code.
#ifndef TRIAGE_APP_FLIGHT_TOOL_H_
#define TRIAGE_APP_FLIGHT_TOOL_H_

namespace triage::app {

int RunFlightTool(int argc, char** argv);

}  // namespace triage::app

#endif  // TRIAGE_APP_FLIGHT_TOOL_H_
