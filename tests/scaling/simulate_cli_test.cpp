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

namespace {

namespace fs = std::filesystem;

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
  Result run(const std::string& arguments) {
    const fs::path out = dir_ / "stdout";
    const fs::path err = dir_ / "stderr";
    const std::string command = std::string("timeout 60 '") + JVB_AUTOSCALER_BINARY +
                                "' simulate " + arguments + " >'" + out.string() + "' 2>'" +
                                err.string() + "'";
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
  const auto config = write("static.json",
                            R"({"scaling":{"min_bridges":2,"max_bridges":2},
                                "simulation":{"capacity_participants":100}})");
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
