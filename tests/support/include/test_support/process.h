#pragma once
// Child processes, commands and loopback ports for tests: the one implementation lives in the
// support library the demo uses too (agent/local_cluster.h); these are its test-facing names.
#include <chrono>
#include <string>

#include "agent/local_cluster.h"

namespace test_support {

// A child process in its own process group, terminated and reaped on destruction
// (see agent::local::Process).
using ChildProcess = agent::local::Process;
using agent::local::CommandResult;
using agent::local::run_command;
using agent::local::wait_for_port;
using agent::local::wait_for_port_closed;

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
inline int free_loopback_port() { return agent::local::free_tcp_port(); }

}  // namespace test_support
