#include "app/flight_tool.h"

int main(int argc, char** argv) { return triage::app::RunFlightTool(argc, argv); }
