// jvb-sim's pure model: JVB's drain, shutdown phases and Java number formats.
#include <gtest/gtest.h>

#include <cmath>

#include "load_model.h"

namespace jvb_sim {
namespace {

TEST(JvbSimModel, DrainMovesNothingAndTheLoadStillGrows) {
  LoadModel model(40, 4, 100, {}, 60);
  model.start_drain(10);
  EXPECT_EQ(model.at(100).participants, 40) << "a drain ended meetings by itself";
  EXPECT_TRUE(model.at(100).drain);
  model.set_load(110, 55, 4);  // Jicofo keeps adding participants to existing meetings
  EXPECT_EQ(model.at(111).participants, 55);
  EXPECT_DOUBLE_EQ(model.at(111).stress, 0.55);
  model.stop_drain(120);
  EXPECT_FALSE(model.at(121).drain);
}

TEST(JvbSimModel, InstantDrainIsTheOldBehaviourOnRequest) {
  LoadModel model(40, 4, 100, {}, 10, /*instant_drain=*/true);
  model.start_drain(0);
  EXPECT_EQ(model.at(5).participants, 20);
  EXPECT_EQ(model.at(10).participants, 0);
  model.set_load(10, 30, 3);  // may only fall while draining
  EXPECT_EQ(model.at(10).participants, 0);
}

TEST(JvbSimModel, RestartForgetsDrainAndConferences) {
  LoadModel model(40, 4, 100, {}, 60);
  model.start_drain(0);
  model.restart(5);
  EXPECT_FALSE(model.at(6).drain);
  EXPECT_EQ(model.at(6).participants, 0);
}

TEST(JvbSimModel, GracefulShutdownWaitsForTheMeetingsOrItsMaxDuration) {
  Shutdown shutdown(/*graceful_max_seconds=*/100, /*shutting_down_seconds=*/60);
  shutdown.request(0, true);
  shutdown.tick(50, 12);
  EXPECT_EQ(shutdown.state(), ShutdownState::kGracefulShutdown);
  shutdown.tick(60, 0);  // empty: SHUTTING_DOWN
  EXPECT_EQ(shutdown.state(), ShutdownState::kShuttingDown);
  shutdown.tick(119, 0);
  EXPECT_EQ(shutdown.state(), ShutdownState::kShuttingDown);
  shutdown.tick(120, 0);
  EXPECT_EQ(shutdown.state(), ShutdownState::kGone);

  Shutdown slow(100, 60);
  slow.request(0, true);
  slow.tick(100, 30);  // max duration with people still on it
  EXPECT_EQ(slow.state(), ShutdownState::kShuttingDown);

  Shutdown hard(100, 60);
  hard.request(0, false);
  EXPECT_EQ(hard.state(), ShutdownState::kShuttingDown);
  hard.request(1, true);  // a graceful request does not undo it
  EXPECT_EQ(hard.state(), ShutdownState::kShuttingDown);
}

TEST(JvbSimModel, AMeetingLastsItsWholeLengthThroughADrainAndKeepsGrowing) {
  LoadModel model(10, 2, 100, {}, 60);
  model.add_meeting(0, parse_meeting("12:7200:60"));  // a 2-hour meeting, +1 every minute
  EXPECT_EQ(model.at(1).participants, 22);
  EXPECT_EQ(model.at(1).conferences, 3);
  model.start_drain(100);
  EXPECT_EQ(model.at(3600).participants, 10 + 12 + 60) << "the meeting grows while draining";
  EXPECT_TRUE(model.at(3600).drain);
  EXPECT_EQ(model.at(7199).participants, 10 + 12 + 119);
  EXPECT_EQ(model.at(7200).participants, 10) << "it ends at its own end";
  EXPECT_EQ(model.at(7200).conferences, 2);
}

TEST(JvbSimModel, MeetingSyntax) {
  EXPECT_EQ(parse_meeting("5:60").participants, 5);
  EXPECT_DOUBLE_EQ(parse_meeting("5:60").seconds, 60);
  EXPECT_DOUBLE_EQ(parse_meeting("5:60:2.5").grow_every_seconds, 2.5);
  for (const char* bad : {"", "5", "5:", "x:60", "5:-1", "5.5:60", "1:2:3:4", "5:60s"}) {
    EXPECT_THROW(parse_meeting(bad), std::invalid_argument) << bad;
  }
}

TEST(JvbSimModel, JavaDoubleFormat) {
  EXPECT_EQ(java_double(0), "0.0");
  EXPECT_EQ(java_double(0.25), "0.25");
  EXPECT_EQ(java_double(1), "1.0");
  EXPECT_EQ(java_double(1e-4), "1.0E-4");
  EXPECT_EQ(java_double(0.001), "0.001");
  EXPECT_EQ(java_double(12345678), "1.2345678E7");
  EXPECT_EQ(java_double(std::nan("")), "NaN");
}

}  // namespace
}  // namespace jvb_sim
