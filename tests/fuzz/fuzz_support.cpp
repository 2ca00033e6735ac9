#include "fuzz_support.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace jvb_fuzz {

std::vector<std::string> load_corpus(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) return {};
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> corpus;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return corpus;
}

namespace {
std::optional<uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return value;
}
}  // namespace

Budget budget_from_env(Budget defaults) {
  if (auto inputs = env_number("JVB_FUZZ_INPUTS")) defaults.max_inputs = *inputs;
  if (auto seconds = env_number("JVB_FUZZ_SECONDS")) {
    defaults.max_time = std::chrono::seconds(*seconds);
  }
  return defaults;
}

uint64_t seed_from_env(uint64_t fallback) { return env_number("JVB_FUZZ_SEED").value_or(fallback); }

uint64_t stable_hash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string printable(std::string_view input, std::size_t limit) {
  std::string out;
  const std::size_t shown = std::min(input.size(), limit);
  for (std::size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (std::isprint(c)) {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  if (shown < input.size()) {
    out += "... (" + std::to_string(input.size()) + " bytes in all)";
  }
  return out;
}

const std::vector<std::string>& hostile_tokens() {
  static const std::vector<std::string> tokens = {
      // Numbers at and past the edges of int32, int64, uint64 and double.
      "0",
      "-0",
      "-1",
      "2147483647",
      "2147483648",
      "-2147483649",
      "4294967296",
      "9223372036854775807",
      "9223372036854775808",
      "-9223372036854775808",
      "-9223372036854775809",
      "18446744073709551615",
      "18446744073709551616",
      "1e308",
      "1e309",
      "-1e309",
      "1e-400",
      "4.9e-324",
      "1.7976931348623157e308",
      "0.30000000000000004",
      "1e2",
      "1E+2",
      "00012",
      "0x1f",
      ".5",
      "5.",
      "1e",
      "--1",
      // Not-a-number spellings in every form parsers meet.
      "NaN",
      "nan",
      "-nan",
      "Infinity",
      "-Infinity",
      "inf",
      "-inf",
      "INF",
      // JSON / XML structure.
      "null",
      "true",
      "false",
      "{}",
      "[]",
      "\"\"",
      "\"",
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      "\\",
      "\\u0000",
      "\\ud800",
      "\\udfff",
      "\\uffff",
      "<",
      ">",
      "/>",
      "</",
      "&amp;",
      "&#0;",
      "&#x110000;",
      "&lt;",
      "&unknown;",
      "<![CDATA[",
      "]]>",
      "<!--",
      "-->",
      "<?xml?>",
      "<!DOCTYPE a [<!ENTITY e \"eeeeeeee\">]>",
      "xmlns=\"\"",
      "\r\n",
      "\t",
      " ",
      // Invalid or surprising UTF-8.
      std::string("\xff\xfe"),
      std::string("\xc0\x80"),
      std::string("\xed\xa0\x80"),
      std::string("\xf4\x90\x80\x80"),
      std::string("\xe2\x82"),
      std::string("\x80"),
      std::string("\xef\xbb\xbf"),
      std::string("\x00", 1),
      "\xc3\xa9",
      // Long strings.
      std::string(300, 'a'),
      std::string(5000, '9'),
  };
  return tokens;
}

Mutator::Mutator(uint64_t seed, std::vector<std::string> corpus,
                 std::vector<std::string> dictionary, std::size_t max_size)
    : random_(seed),
      corpus_(std::move(corpus)),
      dictionary_(std::move(dictionary)),
      max_size_(max_size) {
  if (corpus_.empty()) corpus_.emplace_back();
  for (const auto& token : hostile_tokens()) dictionary_.push_back(token);
}

std::size_t Mutator::below(std::size_t bound) {
  if (bound == 0) return 0;
  return std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_);
}

std::string Mutator::next() {
  std::string data = corpus_[below(corpus_.size())];
  const std::size_t rounds = 1 + below(5);
  for (std::size_t i = 0; i < rounds; ++i) mutate_once(data);
  if (data.size() > max_size_) data.resize(max_size_);
  return data;
}

void Mutator::insert_deep_nesting(std::string& data) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kPairs = {
      {{"[", "]"}, {"{\"a\":", "}"}, {"<a>", "</a>"}, {"[{\"k\":[", "]}]"}, {"((", "))"}}};
  static constexpr std::array<std::size_t, 5> kDepths = {8, 100, 1'000, 5'000, 20'000};
  const auto& [open, close] = kPairs[below(kPairs.size())];
  const std::size_t depth = kDepths[below(kDepths.size())];
  const std::size_t at = below(data.size() + 1);
  std::string nested;
  nested.reserve(depth * (open.size() + close.size()) + 1);
  for (std::size_t i = 0; i < depth; ++i) nested += open;
  nested += below(2) == 0 ? "1" : "";
  // Usually balanced (reaches deep code); sometimes left open (reaches error paths).
  if (below(4) != 0) {
    for (std::size_t i = 0; i < depth; ++i) nested += close;
  }
  data.insert(at, nested);
}

void Mutator::replace_number(std::string& data) {
  // Find a run of digits starting at a random place and swap it for a hostile number.
  std::size_t start = data.find_first_of("0123456789", below(data.size() + 1));
  if (start == std::string::npos) start = data.find_first_of("0123456789");
  if (start == std::string::npos) return;
  std::size_t end = start;
  while (end < data.size() &&
         (std::isdigit(static_cast<unsigned char>(data[end])) || data[end] == '.' ||
          data[end] == 'e' || data[end] == '-' || data[end] == '+')) {
    ++end;
  }
  static const std::array<std::string_view, 16> kNumbers = {"0",
                                                            "-1",
                                                            "-0",
                                                            "1e309",
                                                            "-1e309",
                                                            "NaN",
                                                            "1e-400",
                                                            "9223372036854775808",
                                                            "18446744073709551616",
                                                            "-9223372036854775809",
                                                            "2147483648",
                                                            "0.5",
                                                            "1.5e3",
                                                            "99999999999999999999999",
                                                            "4294967295",
                                                            "1e6"};
  data.replace(start, end - start, kNumbers[below(kNumbers.size())]);
}

void Mutator::mutate_once(std::string& data) {
  static constexpr std::array<unsigned char, 20> kBytes = {0x00, 0xff, 0x80, 0xc0, 0xed, 0x7f, '\n',
                                                           '\r', '"',  '<',  '>',  '{',  '}',  '[',
                                                           ']',  ',',  ':',  '\\', '&',  '-'};
  switch (below(12)) {
    case 0:  // flip one bit
      if (!data.empty()) data[below(data.size())] ^= static_cast<char>(1u << below(8));
      break;
    case 1:  // overwrite one byte with an interesting one
      if (!data.empty()) data[below(data.size())] = static_cast<char>(kBytes[below(kBytes.size())]);
      break;
    case 2:  // truncate
      data.resize(below(data.size() + 1));
      break;
    case 3: {  // erase a range
      const std::size_t at = below(data.size() + 1);
      data.erase(at, 1 + below(16));
      break;
    }
    case 4: {  // duplicate a range in place
      if (data.empty()) break;
      const std::size_t at = below(data.size());
      const std::string piece = data.substr(at, 1 + below(64));
      data.insert(below(data.size() + 1), piece);
      break;
    }
    case 5: {  // splice: insert a range of another corpus entry
      const std::string& other = corpus_[below(corpus_.size())];
      if (other.empty()) break;
      const std::size_t from = below(other.size());
      data.insert(below(data.size() + 1), other.substr(from, 1 + below(128)));
      break;
    }
    case 6: {  // crossover: a prefix of this one, a suffix of another
      const std::string& other = corpus_[below(corpus_.size())];
      data = data.substr(0, below(data.size() + 1)) + other.substr(below(other.size() + 1));
      break;
    }
    case 7:
    case 8: {  // insert or overwrite with a dictionary token
      const std::string& token = dictionary_[below(dictionary_.size())];
      const std::size_t at = below(data.size() + 1);
      if (below(2) == 0) {
        data.insert(at, token);
      } else {
        data.replace(at, std::min(token.size(), data.size() - at), token);
      }
      break;
    }
    case 9:
      replace_number(data);
      break;
    case 10:
      insert_deep_nesting(data);
      break;
    case 11: {  // repeat a short range many times (long lines, many elements)
      if (data.empty()) break;
      const std::size_t at = below(data.size());
      const std::string piece = data.substr(at, 1 + below(24));
      const std::size_t times = below(8) == 0 ? 10 + below(2'000) : 2 + below(100);
      std::string repeated;
      repeated.reserve(piece.size() * times);
      for (std::size_t i = 0; i < times; ++i) repeated += piece;
      data.insert(at, repeated);
      break;
    }
  }
}

}  // namespace jvb_fuzz
