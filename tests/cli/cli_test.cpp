// Runs the built jvb-autoscaler and checks what a user sees: output, stream and exit code.
#include <gtest/gtest.h>

#include <string>

#include "run_cli.h"

namespace {

using cli_test::Outcome;
using cli_test::run;

TEST(Cli, HelpTeachesEveryCommandAndExitsZero) {
  const Outcome help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"run", "check-config", "watch", "ctl", "simulate", "demo"}) {
    EXPECT_NE(help.output.find(command), std::string::npos) << command;
  }
  EXPECT_NE(help.output.find("Exit codes"), std::string::npos);
}

TEST(Cli, VersionPrintsTheVersion) {
  const Outcome version = run("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("jvb-autoscaler ", 0), 0u) << version.output;
}

TEST(Cli, UnknownCommandIsAUsageErrorNamingIt) {
  const Outcome outcome = run("bogus");
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.output.find("unknown command \"bogus\""), std::string::npos) << outcome.output;
}

TEST(Cli, UnknownFlagIsAUsageError) {
  const Outcome outcome = run("run --bogus");
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.output.find("--bogus"), std::string::npos) << outcome.output;
}

TEST(Cli, CtlWithoutADaemonSaysSoAndExitsOne) {
  const Outcome outcome = run("ctl --socket /nonexistent/jvb.sock status");
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.output.find("cannot reach jvb-autoscaler at /nonexistent/jvb.sock"),
            std::string::npos)
      << outcome.output;
}

TEST(Cli, MissingConfigFileIsAConfigurationError) {
  for (const char* command : {"check-config", "run", "watch"}) {
    const Outcome outcome = run(std::string(command) + " --config /nonexistent/config.json");
    EXPECT_EQ(outcome.exit_code, 2) << command << ": " << outcome.output;
    EXPECT_NE(outcome.output.find("/nonexistent/config.json"), std::string::npos) << outcome.output;
  }
}

}  // namespace
