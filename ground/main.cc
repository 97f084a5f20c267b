#include "ground/ground_cli.h"

int main(int argc, char** argv) { return triage::ground::RunGroundCli(argc, argv); }
