// `jvb-autoscaler simulate` run as a real process: reports, determinism, exit codes, and one
// clear sentence on stderr for a bad trace or configuration.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_support/classic_profile.h"

namespace {

namespace fs = std::filesystem;

// Reports checked against hand arithmetic pin the old contract profile (every lever off,
// test_support/classic_profile.h) so that they do not move with the measured defaults.

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class SimulateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "jvb-simulate-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << content;
    return path;
  }

  // Arguments are quoted with single quotes; test paths never contain one.
  Result run(const std::string& arguments, const std::string& environment = "") {
    const fs::path out = dir_ / "stdout";
    const fs::path err = dir_ / "stderr";
    const std::string command = std::string("timeout 60 ") + environment + "'" +
                                JVB_AUTOSCALER_BINARY + "' simulate " + arguments + " >'" +
                                out.string() + "' 2>'" + err.string() + "'";
    const int status = std::system(command.c_str());
    Result result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
  }

  fs::path dir_;
};

const char* kSmallTrace =
    "start_s,duration_s,participants\n"
    "600,5400,70\n"
    "0,3600,60\n"
    "0,1800,50\n";

TEST_F(SimulateCli, StaticFleetJsonMatchesHandArithmetic) {
  const auto trace = write("small.csv", kSmallTrace);
  const auto config = write(
      "static.json",
      nlohmann::json{
          {"scaling", test_support::classic_scaling_json({{"min_bridges", 2}, {"max_bridges", 2}})},
          {"simulation", {{"capacity_participants", 100}}}}
          .dump());
  const Result result =
      run("--trace '" + trace.string() + "' --config '" + config.string() + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  EXPECT_DOUBLE_EQ(report.at("billed_hours").get<double>(), 4);
  EXPECT_DOUBLE_EQ(report.at("bridge_hours").get<double>(), 3.333);
  EXPECT_DOUBLE_EQ(report.at("oracle_bridge_hours").get<double>(), 2.667);
  EXPECT_DOUBLE_EQ(report.at("overload_participant_minutes").get<double>(), 2400);
  EXPECT_EQ(report.at("peak_bridges").get<int>(), 2);
  EXPECT_EQ(report.at("scale_ups").get<int>(), 0);
  EXPECT_EQ(report.at("scale_downs").get<int>(), 0);
  EXPECT_EQ(report.at("dropped_participants").get<int>(), 0);
  EXPECT_EQ(report.at("migrated_participants").get<int>(), 0);
}

TEST_F(SimulateCli, TimelineHasOneRowPerPeriod) {
  // Two static bridges, a decision every 600 s, the run ends at 6000 s: rows at 0..5400.
  // At t=600: 60 on sim-1, 50 + 70 on sim-2 (overloaded).
  const auto trace = write("small.csv", kSmallTrace);
  const auto config =
      write("static.json",
            nlohmann::json{
                {"scaling", test_support::classic_scaling_json(
                                {{"min_bridges", 2}, {"max_bridges", 2}, {"period_seconds", 600}})}}
                .dump());
  const auto timeline = dir_ / "timeline.csv";
  const Result result = run("--trace '" + trace.string() + "' --config '" + config.string() +
                            "' --timeline '" + timeline.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string csv = read_file(timeline);
  std::vector<std::string> lines;
  std::stringstream stream(csv);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 11u) << csv;
  EXPECT_EQ(lines[0],
            "t,participants,provisioning,ready,held,draining,desired,overload_participants");
  EXPECT_EQ(lines[1], "0,110,0,2,0,0,2,0");
  EXPECT_EQ(lines[2], "600,180,0,2,0,0,2,120");
  EXPECT_EQ(lines[10], "5400,70,0,2,0,0,2,0");
  EXPECT_NE(result.out.find("migrated participants"), std::string::npos) << result.out;
}

TEST_F(SimulateCli, PlotDrawsAnSvgWithGnuplot) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "gnuplot is not installed (Debian package gnuplot-nox)";
  }
  const auto trace = write("small.csv", kSmallTrace);
  const auto svg = dir_ / "plot.svg";
  const Result result = run("--trace '" + trace.string() + "' --plot '" + svg.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string drawing = read_file(svg);
  EXPECT_NE(drawing.find("<svg"), std::string::npos);
  EXPECT_NE(drawing.find("bridges (all states)"), std::string::npos);
}

TEST_F(SimulateCli, PlotWithoutGnuplotSaysWhatToInstall) {
  const auto trace = write("small.csv", kSmallTrace);
  const auto svg = dir_ / "plot.svg";
  const Result result = run("--trace '" + trace.string() + "' --plot '" + svg.string() + "'",
                            "env PATH=/nonexistent ");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("gnuplot-nox"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty());
  EXPECT_FALSE(fs::exists(svg));
}

TEST_F(SimulateCli, JsonIsByteIdenticalAcrossRuns) {
  std::string trace = "start_s,duration_s,participants\n";
  for (int i = 0; i < 300; ++i) {
    trace += std::to_string((i * 137) % 20000) + "," + std::to_string(600 + (i * 53) % 3000) + "," +
             std::to_string(2 + i % 25) + "\n";
  }
  const auto path = write("varied.csv", trace);
  const Result first = run("--trace '" + path.string() + "' --json");
  const Result second = run("--trace '" + path.string() + "' --json");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_GT(nlohmann::json::parse(first.out).at("scale_ups").get<int>(), 0);
}

TEST_F(SimulateCli, HumanTableByDefault) {
  const auto trace = write("small.csv", kSmallTrace);
  const Result result = run("--trace '" + trace.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("billed hours"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("oracle bridge hours"), std::string::npos);
  EXPECT_TRUE(result.err.empty()) << result.err;
}

TEST_F(SimulateCli, BadTraceExitsTwoNamingFileAndLine) {
  const auto trace = write("bad.csv", "start_s,duration_s,participants\n0,60,3\n0,60,lots\n");
  const Result result = run("--trace '" + trace.string() + "'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "jvb-autoscaler: " + trace.string() + " line 3: participants is not a number\n");
  EXPECT_TRUE(result.out.empty());
}

TEST_F(SimulateCli, MissingColumnNegativeValueAndEmptyTraceExitTwo) {
  for (const auto& [name, content, expected] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"missing.csv", "start_s,participants\n0,3\n", "line 1: the header lacks column"},
           {"negative.csv", "start_s,duration_s,participants\n-5,60,3\n",
            "line 2: start_s is negative"},
           {"empty.csv", "", "line 1: empty trace"}}) {
    const auto trace = write(name, content);
    const Result result = run("--trace '" + trace.string() + "'");
    EXPECT_EQ(result.exit_code, 2) << name;
    EXPECT_NE(result.err.find(trace.string() + " " + expected), std::string::npos) << result.err;
  }
}

TEST_F(SimulateCli, UnreadableTraceExitsTwo) {
  const Result result = run("--trace '" + (dir_ / "absent.csv").string() + "'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("cannot open trace"), std::string::npos) << result.err;
}

TEST_F(SimulateCli, BadConfigExitsTwoNamingTheKey) {
  const auto trace = write("small.csv", kSmallTrace);
  const auto config = write("typo.json", R"({"scaling":{"min_bridgez":2}})");
  const Result result = run("--trace '" + trace.string() + "' --config '" + config.string() + "'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("min_bridgez"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty());
}

TEST_F(SimulateCli, EveryShippedTraceRuns) {
  int traces = 0;
  for (const auto& entry : fs::directory_iterator(JVB_TRACES_DIR)) {
    if (entry.path().extension() != ".csv") continue;
    ++traces;
    const Result result = run("--trace '" + entry.path().string() + "' --json");
    ASSERT_EQ(result.exit_code, 0) << entry.path() << ": " << result.err;
    const auto report = nlohmann::json::parse(result.out);
    EXPECT_GE(report.at("billed_hours").get<double>(),
              report.at("bridge_hours").get<double>() - 1e-6)
        << entry.path();
  }
  EXPECT_GE(traces, 3);
}

}  // namespace
