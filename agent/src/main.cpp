#include "agent/commands.h"

int main(int argc, char** argv) { return agent::run_cli(argc, argv); }
