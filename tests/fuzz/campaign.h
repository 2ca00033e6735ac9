#pragma once
// GoogleTest side of the fuzz targets: replaying files (seed corpus, crash regressions) and
// running a seeded mutation campaign within a fixed budget.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"

namespace jvb_fuzz {

// Paths set by CMake.
inline std::filesystem::path corpus_dir(std::string_view target) {
  return std::filesystem::path(JVB_FUZZ_SOURCE_DIR) / "corpus" / target;
}
inline std::filesystem::path regressions_dir(std::string_view target) {
  return std::filesystem::path(JVB_FUZZ_SOURCE_DIR) / "regressions" / target;
}
inline std::filesystem::path dictionary_file(std::string_view target) {
  return std::filesystem::path(JVB_FUZZ_SOURCE_DIR) / "dict" / (std::string(target) + ".dict");
}

// Tokens of a libFuzzer dictionary file (lines `"token"` or `name="token"`, escapes \\ \" \xNN).
std::vector<std::string> load_dictionary(const std::filesystem::path& file);

template <typename Target>
Verdict guarded_check(Target& target, std::string_view input) {
  try {
    return target.check(input);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("exception escaped the target: ") + error.what());
  } catch (...) {
    return Verdict::fail("a non-std exception escaped the target");
  }
}

// Every file of `directory` must pass; returns how many were accepted.
template <typename Target>
std::size_t replay_directory(Target& target, const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::size_t accepted = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Verdict verdict = guarded_check(target, input);
    EXPECT_FALSE(verdict.failure) << file << ": " << verdict.failure.value_or("");
    if (verdict.accepted) ++accepted;
  }
  return accepted;
}

struct CampaignOptions {
  std::size_t max_input_size = 64 * 1024;
  Budget budget = {};
  // A campaign that never gets past the parser (or never fails it) proves little.
  bool expect_accepted = true;
  bool expect_rejected = true;
};

// Mutates the seed corpus of `Target::kName` under a fixed seed and checks every input.
// On the first violated property: fails with the seed and iteration, keeps the input in
// fuzz-failures/ of the working directory, and stops.
template <typename Target>
void run_campaign(Target& target, std::string_view corpus_name, CampaignOptions options = {}) {
  const uint64_t seed = seed_from_env(stable_hash(corpus_name));
  const Budget budget = budget_from_env(options.budget);
  auto corpus = load_corpus(corpus_dir(corpus_name));
  ASSERT_FALSE(corpus.empty()) << "no seed corpus in " << corpus_dir(corpus_name);
  Mutator mutator(seed, corpus, load_dictionary(dictionary_file(corpus_name)),
                  options.max_input_size);
  const auto start = std::chrono::steady_clock::now();
  std::size_t inputs = 0;
  std::size_t accepted = 0;
  std::chrono::steady_clock::duration slowest_time{};
  std::string slowest_input;
  std::string slowest_raw;  // kept in the file JVB_FUZZ_KEEP_SLOWEST names, when set
  std::size_t known_bugs = 0;
  std::string first_known_bug;
  for (; inputs < budget.max_inputs && std::chrono::steady_clock::now() - start < budget.max_time;
       ++inputs) {
    const std::string input = mutator.next();
    const auto input_start = std::chrono::steady_clock::now();
    const Verdict verdict = guarded_check(target, input);
    const auto input_time = std::chrono::steady_clock::now() - input_start;
    if (input_time > slowest_time) {
      slowest_time = input_time;
      slowest_input = printable(input, 120);
      slowest_raw = input;
    }
    if (verdict.failure) {
      std::filesystem::create_directories("fuzz-failures");
      const auto kept = std::filesystem::absolute(
          std::filesystem::path("fuzz-failures") /
          (std::string(corpus_name) + "-" + std::to_string(seed) + "-" + std::to_string(inputs)));
      std::ofstream(kept, std::ios::binary) << input;
      FAIL() << "property violated: " << *verdict.failure << "\n  seed " << seed << ", input #"
             << inputs << " (replay: JVB_FUZZ_SEED=" << seed << " JVB_FUZZ_INPUTS=" << inputs + 1
             << ")\n  input: " << printable(input) << "\n  kept in " << kept.string();
    }
    if (verdict.accepted) ++accepted;
    if (verdict.known_bug) {
      if (known_bugs++ == 0) first_known_bug = *verdict.known_bug + ": " + printable(input, 200);
    }
  }
  if (known_bugs > 0) {
    std::cout << "[ fuzz     ] " << corpus_name << ": " << known_bugs
              << " inputs reproduced a known, reported bug; first: " << first_known_bug << "\n";
  }
  if (const char* keep = std::getenv("JVB_FUZZ_KEEP_SLOWEST"); keep != nullptr && *keep != '\0') {
    std::ofstream(keep, std::ios::binary) << slowest_raw;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ fuzz     ] " << corpus_name << ": " << inputs << " inputs in " << elapsed
            << " s, " << accepted << " accepted, seed " << seed << "; slowest input "
            << std::chrono::duration<double>(slowest_time).count() << " s: " << slowest_input
            << "\n";
  EXPECT_GE(inputs, std::min<std::size_t>(budget.max_inputs, 50))
      << "the budget ran out before the campaign did anything";
  if (options.expect_accepted) {
    EXPECT_GT(accepted, 0u) << "no mutated input was accepted";
  }
  if (options.expect_rejected) {
    EXPECT_LT(accepted, inputs) << "no mutated input was rejected";
  }
}

}  // namespace jvb_fuzz
