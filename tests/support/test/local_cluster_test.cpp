// The one support library (agent/local_cluster.h) as the demo uses it: seconds-based waits,
// terminate with a grace, temporary directories, ports.
#include "agent/local_cluster.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace agent::local {
namespace {

TEST(LocalProcess, WaitInSecondsReportsRunningThenTheExitCode) {
  TempDir dir("jvb-local-test-");
  Process child({"sh", "-c", "sleep 0.3; echo done; exit 7"}, dir.path() / "child.log");
  EXPECT_EQ(child.wait(0.0), -1);  // still running
  EXPECT_EQ(child.wait(10.0), 7);
  EXPECT_EQ(child.wait(0.0), 7);  // remembered
  EXPECT_FALSE(child.running());
  std::ifstream log(dir.path() / "child.log");
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "done");
}

// True while `pid` exists and is not a zombie (a zombie runs nothing; init reaps it).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

TEST(LocalProcess, TerminateEndsTheWholeProcessGroup) {
  TempDir dir("jvb-local-test-");
  const auto pid_file = dir / "grandchild.pid";
  Process child({"sh", "-c", "sleep 60 & echo $! > " + pid_file.string() + "; wait"});
  ASSERT_TRUE(child.running());
  pid_t grandchild = 0;
  for (int i = 0; i < 250 && grandchild == 0; ++i) {
    std::ifstream(pid_file) >> grandchild;
    if (grandchild == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(grandchild, 0);
  EXPECT_EQ(child.terminate(5), 128 + SIGTERM);
  bool gone = false;  // the signal went to the group: the background sleep ends too
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !alive(grandchild);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the background sleep " << grandchild << " survived";
}

TEST(LocalTempDir, IsRemovedWithItsContent) {
  std::filesystem::path path;
  {
    TempDir dir("jvb-local-test-", "/tmp");
    path = dir.path();
    EXPECT_EQ(path.parent_path(), "/tmp");
    std::ofstream(dir / "file") << "x";
    EXPECT_TRUE(std::filesystem::exists(dir / "file"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(LocalPorts, AFreePortIsFreeAndNothingAcceptsOnIt) {
  const int port = free_tcp_port();
  EXPECT_GT(port, 0);
  EXPECT_FALSE(wait_for_tcp_port(port, 0.05));
  EXPECT_TRUE(wait_for_port_closed("127.0.0.1", port, std::chrono::milliseconds(50)));
}

}  // namespace
}  // namespace agent::local
