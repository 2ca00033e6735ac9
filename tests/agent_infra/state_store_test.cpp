// State file: round trip, atomic replace, corrupt file handling, exclusive lock.
#include "agent/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace agent {
namespace {

using agent_infra_test::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream input(path, std::ios::binary);
  std::ostringstream content;
  content << input.rdbuf();
  return content.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

PersistentState sample_state() {
  PersistentState state;
  state.next_label_number = 42;
  state.paused = true;
  state.pinned = 3;
  state.min_override = 2;
  state.max_override = 8;
  state.creates = {{"jvb-as-40", 1767000000, 5551234}, {"jvb-as-41", 1767000100, std::nullopt}};
  state.drains = {{"jvb-as-7", 4242, 1767000200}};
  state.schedule_events = nlohmann::json::array({{{"name", "town-hall"},
                                                  {"start", "2026-02-01T09:00:00+01:00"},
                                                  {"end", "2026-02-01T11:00:00+01:00"},
                                                  {"min_bridges", 6}}});
  state.last_scale_action_at = 1767000300.5;
  state.learned = {{"drain_durations", {{"version", 1}, {"seconds", {1800.5, 2400}}}}};
  return state;
}

std::vector<std::filesystem::path> files_starting_with(const std::filesystem::path& dir,
                                                       const std::string& prefix) {
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
  }
  return found;
}

TEST(StateStore, RoundTripKeepsEveryField) {
  TempDir dir;
  StateStore store(dir / "state.json");
  const PersistentState saved = sample_state();
  store.save(saved);
  auto loaded = store.load();
  EXPECT_FALSE(loaded.error.has_value());
  EXPECT_EQ(loaded.state, saved);
  // And the default state (every optional empty) round-trips too.
  store.save(PersistentState{});
  EXPECT_EQ(store.load().state, PersistentState{});
}

TEST(StateStore, MissingFileIsAFirstStartWithoutError) {
  TempDir dir;
  auto loaded = StateStore(dir / "absent.json").load();
  EXPECT_FALSE(loaded.error.has_value());
  EXPECT_EQ(loaded.state, PersistentState{});
}

TEST(StateStore, SaveCreatesTheParentDirectoryWithMode0640AndNoTemporaryLeft) {
  TempDir dir;
  const auto file = dir / "var/lib/jvb-autoscaler/state.json";
  StateStore(file).save(sample_state());
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST(StateStore, CrashBeforeRenameLeavesTheOldFileIntact) {
  TempDir dir;
  const auto file = dir / "state.json";
  StateStore store(file);
  PersistentState old_state = sample_state();
  store.save(old_state);
  // A crash after writing the temporary file but before the rename leaves a (here truncated)
  // .tmp next to the real file: the real file must still be the complete old state.
  write_file(file.string() + ".tmp", R"({"next_label_number": 99, "paus)");
  auto loaded = store.load();
  EXPECT_FALSE(loaded.error.has_value());
  EXPECT_EQ(loaded.state, old_state);
  // The next save overwrites the stale temporary and lands.
  PersistentState new_state = old_state;
  new_state.next_label_number = 43;
  store.save(new_state);
  EXPECT_EQ(store.load().state, new_state);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST(StateStore, SaveReplacesByRenameSoAReaderNeverSeesAHalfFile) {
  TempDir dir;
  const auto file = dir / "state.json";
  StateStore store(file);
  store.save(sample_state());
  struct stat before {};
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  store.save(PersistentState{});
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  // A new inode: the file was replaced as a whole, not rewritten in place.
  EXPECT_NE(before.st_ino, after.st_ino);
}

TEST(StateStore, CorruptFileIsMovedAsideWithOneSentenceAndDefaultsAreUsed) {
  TempDir dir;
  const auto file = dir / "state.json";
  const std::string garbage = "{\"next_label_number\": 7, \"paused\": tr";
  write_file(file, garbage);
  auto loaded = StateStore(file).load();
  ASSERT_TRUE(loaded.error.has_value());
  EXPECT_NE(loaded.error->find("state file " + file.string() + " is corrupt"), std::string::npos)
      << *loaded.error;
  EXPECT_NE(loaded.error->find(".corrupt-"), std::string::npos) << *loaded.error;
  EXPECT_EQ(loaded.error->find('\n'), std::string::npos);
  EXPECT_EQ(loaded.state, PersistentState{});
  EXPECT_FALSE(std::filesystem::exists(file));
  auto aside = files_starting_with(dir.path(), "state.json.corrupt-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(read_file(aside[0]), garbage);
  // The next start finds no file: a clean first start, not a crash loop.
  auto again = StateStore(file).load();
  EXPECT_FALSE(again.error.has_value());
}

TEST(StateStore, WrongTypesAndImpossibleValuesAreCorrupt) {
  TempDir dir;
  const auto file = dir / "state.json";
  for (const std::string content :
       {R"({"next_label_number":"seven"})", R"({"next_label_number":0})", R"({"pinned":-1})",
        R"({"creates":[{"requested_at":5}]})", R"({"drains":{"bridge":"x"}})", R"([1,2])",
        R"({"schedule_events":{"a":1}})"}) {
    write_file(file, content);
    auto loaded = StateStore(file).load();
    EXPECT_TRUE(loaded.error.has_value()) << content;
    EXPECT_EQ(loaded.state, PersistentState{}) << content;
    for (const auto& aside : files_starting_with(dir.path(), "state.json.corrupt-")) {
      std::filesystem::remove(aside);
    }
  }
}

TEST(StateStore, UnknownKeysAndMissingKeysAreTolerated) {
  TempDir dir;
  const auto file = dir / "state.json";
  write_file(file, R"({"next_label_number": 5, "written_by_a_newer_version": {"x": 1}})");
  auto loaded = StateStore(file).load();
  EXPECT_FALSE(loaded.error.has_value());
  EXPECT_EQ(loaded.state.next_label_number, 5);
  EXPECT_FALSE(loaded.state.paused);
  EXPECT_FALSE(loaded.state.pinned.has_value());
}

TEST(StateStore, LearnedIsAdvisoryAnyValueLoadsAndNullIsNotWritten) {
  TempDir dir;
  const auto file = dir / "state.json";
  // The policy's learnt state never makes the file corrupt; the Reconciler judges it.
  for (const std::string learned : {R"("garbage")", "[1,2]", "42", R"({"arrivals":5})"}) {
    write_file(file, R"({"next_label_number": 6, "learned": )" + learned + "}");
    auto loaded = StateStore(file).load();
    EXPECT_FALSE(loaded.error.has_value()) << learned;
    EXPECT_EQ(loaded.state.next_label_number, 6) << learned;
    EXPECT_EQ(loaded.state.learned, nlohmann::json::parse(learned));
  }
  // A file of the previous version has no "learned"; one with nothing learnt stays without it.
  StateStore(file).save(PersistentState{});
  EXPECT_FALSE(nlohmann::json::parse(read_file(file)).contains("learned"));
  EXPECT_TRUE(StateStore(file).load().state.learned.is_null());

  EXPECT_EQ(learned_state_problem(nullptr), std::nullopt);
  EXPECT_EQ(learned_state_problem(nlohmann::json::object()), std::nullopt);
  EXPECT_EQ(learned_state_problem("x"), "is not a JSON object");
  const nlohmann::json big = {{"pad", std::string(kMaxLearnedStateBytes, 'x')}};
  ASSERT_TRUE(learned_state_problem(big).has_value());
  EXPECT_NE(learned_state_problem(big)->find("larger than 256 kB"), std::string::npos);
  EXPECT_EQ(learned_state_problem({{"pad", std::string(1000, 'x')}}), std::nullopt);
}

TEST(StateStore, SaveIntoAnUnwritableLocationThrowsOneSentenceNamingTheFile) {
  TempDir dir;
  const auto blocker = dir / "not-a-directory";
  write_file(blocker, "x");
  const auto file = blocker / "state.json";
  try {
    StateStore(file).save(PersistentState{});
    FAIL() << "save into a path under a regular file succeeded";
  } catch (const StateFileError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

TEST(StateLock, SecondLockFailsAtOnceNamingTheFileAndTheHolder) {
  TempDir dir;
  const auto file = dir / "state.json";
  StateLock first(file);
  const auto started = std::chrono::steady_clock::now();
  try {
    StateLock second(file);
    FAIL() << "a second lock on the same state file succeeded";
  } catch (const StateFileError& e) {
    EXPECT_EQ(std::string(e.what()), "another jvb-autoscaler holds the lock on " + file.string() +
                                         ".lock (pid " + std::to_string(::getpid()) + ")");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

TEST(StateLock, LockHeldByAnotherProcessIsRefusedAndReleasedWhenItExits) {
  TempDir dir;
  const auto file = dir / "state.json";
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The other daemon: takes the lock, says so, waits to be told to exit.
    try {
      StateLock held(file);
      char byte = 'r';
      (void)!::write(ready[1], &byte, 1);
      (void)!::read(release[0], &byte, 1);
    } catch (...) {
    }
    ::_exit(0);
  }
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  try {
    StateLock refused(file);
    ADD_FAILURE() << "lock held by another process was granted";
  } catch (const StateFileError& e) {
    EXPECT_NE(std::string(e.what()).find("(pid " + std::to_string(child) + ")"), std::string::npos)
        << e.what();
  }
  (void)!::write(release[1], &byte, 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_NO_THROW(StateLock after_exit(file));
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

}  // namespace
}  // namespace agent
