#pragma once
// Load traces (DESIGN section 8): CSV with the header `start_s,duration_s,participants`, one
// conference per line, lines in any order.
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace scaling {

struct Conference {
  double start_s = 0;
  double duration_s = 0;
  int participants = 0;
};

// One sentence naming the file and line, e.g. "trace.csv line 7: participants is not a number".
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Longest trace accepted (31 days): keeps every replay bounded in time.
inline constexpr double kMaxTraceSeconds = 31 * 86400.0;
inline constexpr int kMaxConferenceParticipants = 1'000'000;

// Reads a whole trace. Columns may come in any order (named by the header); blank lines and
// '\r' line ends are accepted. Throws TraceError on a missing column, a non-numeric, negative
// or non-finite value, a fractional participant count, or an empty trace.
std::vector<Conference> read_trace(std::istream& in, const std::string& file_name);

// Writes the canonical CSV form (header + one line per conference, in the given order).
void write_trace(std::ostream& out, const std::vector<Conference>& conferences);

}  // namespace scaling
