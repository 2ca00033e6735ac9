#pragma once
// Shared machinery of the fuzz targets: the verdict a target gives for one input, the seed
// corpus on disk, and a deterministic mutator that turns valid seeds into hostile inputs.
//
// Every target (targets/*.h) is a class with
//   Verdict check(std::string_view input);
// It feeds the input to the code under test and checks properties of the outcome. The same
// class serves the libFuzzer entry point (clang, JVB_FUZZ) and the seeded GoogleTest campaign
// that runs in every CI build.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace jvb_fuzz {

struct Verdict {
  // Set when a property of the outcome does not hold: one sentence saying which.
  std::optional<std::string> failure;
  // True when the code under test accepted the input (parsed it); false when it rejected it
  // with an error. Campaigns assert that both paths were exercised.
  bool accepted = false;
  // Set when the input reproduced a bug already reported to the owner of the code under test
  // (see docs/fuzzing.md, "Known bugs"): counted and printed, not failed, so CI stays green
  // until the fix lands; the bug's own test then starts asserting.
  std::optional<std::string> known_bug;

  static Verdict ok(bool accepted) { return Verdict{std::nullopt, accepted, std::nullopt}; }
  static Verdict fail(std::string why) { return Verdict{std::move(why), false, std::nullopt}; }
  static Verdict known(std::string bug) { return Verdict{std::nullopt, false, std::move(bug)}; }
};

// Every regular file of `directory`, sorted by name (deterministic order). Empty if the
// directory does not exist.
std::vector<std::string> load_corpus(const std::filesystem::path& directory);

// Budget of one campaign: `max_inputs` inputs or `max_time`, whichever comes first.
// JVB_FUZZ_INPUTS and JVB_FUZZ_SECONDS override the defaults (e.g. for a longer local run).
struct Budget {
  std::size_t max_inputs = 20'000;
  std::chrono::milliseconds max_time{5'000};
};
Budget budget_from_env(Budget defaults = {});

// JVB_FUZZ_SEED (decimal) when set, else `fallback`.
uint64_t seed_from_env(uint64_t fallback);

// Stable 64-bit FNV-1a hash: a per-target default seed derived from its name.
uint64_t stable_hash(std::string_view text);

// The input as a C-like escaped string, cut after `limit` bytes (for failure messages).
std::string printable(std::string_view input, std::size_t limit = 400);

// Deterministic mutator: the sequence of inputs depends only on the seed, the corpus and the
// dictionary, never on time, so a failing iteration can be replayed from its seed.
class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> corpus, std::vector<std::string> dictionary,
          std::size_t max_size);

  // One corpus entry with 1 to 5 stacked mutations.
  std::string next();

 private:
  std::size_t below(std::size_t bound);  // uniform in [0, bound), 0 when bound is 0
  void mutate_once(std::string& data);
  void insert_deep_nesting(std::string& data);
  void replace_number(std::string& data);

  std::mt19937_64 random_;
  std::vector<std::string> corpus_;
  std::vector<std::string> dictionary_;
  std::size_t max_size_;
};

// Tokens every target gets: huge and special numbers, NaN/Infinity spellings, escapes,
// invalid UTF-8, XML/JSON structure characters.
const std::vector<std::string>& hostile_tokens();

}  // namespace jvb_fuzz
