#pragma once
// Fuzz target: the load-trace CSV reader (scaling/trace.h).
#include <string_view>

#include "fuzz_support.h"

namespace jvb_fuzz {

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
