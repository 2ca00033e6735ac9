#pragma once
// Fuzz target: the load-trace CSV reader (scaling/trace.h).
#include <string_view>

#include "fuzz_support.h"

namespace jvb_fuzz {

// Known bug (reported, scaling/src/trace.cpp write_trace): format_seconds prints with
// std::to_chars(fixed) into a 64-byte buffer and ignores its error; a tiny accepted value such
// as 1e-70 needs more than 64 characters, so write_trace writes 64 bytes of garbage.
inline constexpr std::string_view kTinyValueBug =
    "write_trace writes garbage for values needing more than 64 fixed-notation characters";

class TraceTarget {
 public:
  static constexpr std::string_view kName = "trace";
  // Properties: read_trace either returns conferences or throws TraceError (nothing else);
  // the error names the file and a line ("<file> line N: ..."); every accepted value is
  // finite, non-negative, within the documented limits; write_trace + read_trace gives back
  // exactly the same conferences.
  Verdict check(std::string_view input);
};

}  // namespace jvb_fuzz
