#include "scaling/trace.h"

#include <array>
#include <charconv>
#include <cmath>
#include <istream>
#include <optional>
#include <ostream>
#include <string_view>

namespace scaling {
namespace {

constexpr std::array<std::string_view, 3> kColumns = {"start_s", "duration_s", "participants"};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split_commas(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t begin = 0;
  while (true) {
    const auto comma = line.find(',', begin);
    fields.push_back(trim(line.substr(begin, comma - begin)));
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return fields;
}

class LineContext {
 public:
  LineContext(const std::string& file_name, std::size_t line_number)
      : file_name_(file_name), line_number_(line_number) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw TraceError(file_name_ + " line " + std::to_string(line_number_) + ": " + what);
  }

 private:
  const std::string& file_name_;
  std::size_t line_number_;
};

double parse_non_negative(std::string_view text, std::string_view column,
                          const LineContext& context) {
  const std::string name(column);
  if (text.empty()) context.fail(name + " is empty");
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end) context.fail(name + " is not a number");
  if (!std::isfinite(value)) context.fail(name + " is not a finite number");
  if (value < 0) context.fail(name + " is negative");
  return value;
}

}  // namespace

std::vector<Conference> read_trace(std::istream& in, const std::string& file_name) {
  std::string line;
  std::size_t line_number = 0;
  std::array<std::optional<std::size_t>, 3> column_index;
  std::size_t column_count = 0;
  bool header_seen = false;
  std::vector<Conference> conferences;

  while (std::getline(in, line)) {
    ++line_number;
    const LineContext context(file_name, line_number);
    const std::string_view content = trim(line);
    if (content.empty()) continue;
    const auto fields = split_commas(content);
    if (!header_seen) {
      header_seen = true;
      column_count = fields.size();
      for (std::size_t i = 0; i < fields.size(); ++i) {
        for (std::size_t c = 0; c < kColumns.size(); ++c) {
          if (fields[i] == kColumns[c]) {
            if (column_index[c])
              context.fail("column " + std::string(kColumns[c]) + " appears twice");
            column_index[c] = i;
          }
        }
      }
      for (std::size_t c = 0; c < kColumns.size(); ++c) {
        if (!column_index[c]) {
          context.fail("the header lacks column " + std::string(kColumns[c]) +
                       " (expected start_s,duration_s,participants)");
        }
      }
      continue;
    }
    if (fields.size() != column_count) {
      context.fail("expected " + std::to_string(column_count) + " comma-separated values, found " +
                   std::to_string(fields.size()));
    }
    Conference conference;
    conference.start_s = parse_non_negative(fields[*column_index[0]], kColumns[0], context);
    conference.duration_s = parse_non_negative(fields[*column_index[1]], kColumns[1], context);
    const double participants = parse_non_negative(fields[*column_index[2]], kColumns[2], context);
    if (participants != std::floor(participants))
      context.fail("participants is not a whole number");
    if (participants > kMaxConferenceParticipants) {
      context.fail("participants exceeds " + std::to_string(kMaxConferenceParticipants));
    }
    conference.participants = static_cast<int>(participants);
    if (conference.start_s + conference.duration_s > kMaxTraceSeconds) {
      context.fail("the conference ends after 31 days (start_s + duration_s > " +
                   std::to_string(static_cast<long>(kMaxTraceSeconds)) + ")");
    }
    conferences.push_back(conference);
  }
  if (!header_seen) {
    throw TraceError(file_name +
                     " line 1: empty trace (expected the header "
                     "start_s,duration_s,participants and at least one conference)");
  }
  if (conferences.empty()) {
    throw TraceError(file_name + " line " + std::to_string(line_number + 1) +
                     ": the trace has no conference after its header");
  }
  return conferences;
}

namespace {
// Shortest exact form, never scientific notation for trace-sized values.
std::string format_seconds(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  if (result.ec != std::errc()) {
    // Too long in fixed notation (e.g. 1e-70): the shortest round-trip form always fits.
    result = std::to_chars(buffer, buffer + sizeof buffer, value);
  }
  return std::string(buffer, result.ptr);
}
}  // namespace

void write_trace(std::ostream& out, const std::vector<Conference>& conferences) {
  out << "start_s,duration_s,participants\n";
  for (const auto& conference : conferences) {
    out << format_seconds(conference.start_s) << ',' << format_seconds(conference.duration_s) << ','
        << conference.participants << '\n';
  }
}

}  // namespace scaling
