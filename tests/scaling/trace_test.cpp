// Trace reader: accepted shapes, and one sentence naming file and line for every bad input.
#include "scaling/trace.h"

#include <gtest/gtest.h>

#include <sstream>

namespace scaling {
namespace {

std::vector<Conference> read(const std::string& text) {
  std::istringstream in(text);
  return read_trace(in, "trace.csv");
}

std::string error_of(const std::string& text) {
  try {
    read(text);
  } catch (const TraceError& error) {
    return error.what();
  }
  return "no error";
}

TEST(Trace, ReadsConferencesInFileOrder) {
  const auto conferences = read("start_s,duration_s,participants\n600,1800,12\n0,3600.5,3\n");
  ASSERT_EQ(conferences.size(), 2u);
  EXPECT_DOUBLE_EQ(conferences[0].start_s, 600);
  EXPECT_DOUBLE_EQ(conferences[0].duration_s, 1800);
  EXPECT_EQ(conferences[0].participants, 12);
  EXPECT_DOUBLE_EQ(conferences[1].duration_s, 3600.5);
}

TEST(Trace, AcceptsReorderedColumnsCrlfSpacesAndBlankLines) {
  const auto conferences = read("participants, start_s ,duration_s\r\n\r\n 7 ,10,20\r\n\n");
  ASSERT_EQ(conferences.size(), 1u);
  EXPECT_EQ(conferences[0].participants, 7);
  EXPECT_DOUBLE_EQ(conferences[0].start_s, 10);
  EXPECT_DOUBLE_EQ(conferences[0].duration_s, 20);
}

TEST(Trace, WriteThenReadGivesTheSameConferences) {
  const std::vector<Conference> original = {{0, 60, 3}, {2600000.5, 400, 9}};
  std::ostringstream out;
  write_trace(out, original);
  EXPECT_EQ(out.str(), "start_s,duration_s,participants\n0,60,3\n2600000.5,400,9\n");
  const auto again = read(out.str());
  ASSERT_EQ(again.size(), 2u);
  EXPECT_DOUBLE_EQ(again[1].start_s, 2600000.5);
}

TEST(Trace, BadInputNamesFileAndLine) {
  const std::string header = "start_s,duration_s,participants\n";
  EXPECT_EQ(error_of(header + "0,60,3\n0,60,many\n"),
            "trace.csv line 3: participants is not a number");
  EXPECT_EQ(error_of(header + "0,-60,3\n"), "trace.csv line 2: duration_s is negative");
  EXPECT_EQ(error_of(header + "0,60,2.5\n"),
            "trace.csv line 2: participants is not a whole number");
  EXPECT_EQ(error_of(header + "0,60\n"),
            "trace.csv line 2: expected 3 comma-separated values, found 2");
  EXPECT_EQ(error_of(header + "nan,60,3\n"), "trace.csv line 2: start_s is not a finite number");
  EXPECT_EQ(error_of(header + ",60,3\n"), "trace.csv line 2: start_s is empty");
  EXPECT_EQ(error_of(header + "3e6,60,3\n")
                .rfind("trace.csv line 2: the conference ends after 31 days", 0),
            0u);
  EXPECT_EQ(error_of("start_s,participants\n0,3\n"),
            "trace.csv line 1: the header lacks column duration_s (expected "
            "start_s,duration_s,participants)");
  EXPECT_EQ(error_of(""),
            "trace.csv line 1: empty trace (expected the header start_s,duration_s,participants "
            "and at least one conference)");
  EXPECT_EQ(error_of(header), "trace.csv line 2: the trace has no conference after its header");
}

}  // namespace
}  // namespace scaling
