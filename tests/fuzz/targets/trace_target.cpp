#include "trace_target.h"

#include <cmath>
#include <exception>
#include <sstream>
#include <string>

#include "scaling/trace.h"

namespace jvb_fuzz {

namespace {
constexpr const char* kFileName = "fuzz.csv";
}  // namespace

Verdict TraceTarget::check(std::string_view input) {
  std::istringstream in{std::string(input)};
  std::vector<scaling::Conference> conferences;
  try {
    conferences = scaling::read_trace(in, kFileName);
  } catch (const scaling::TraceError& error) {
    const std::string message = error.what();
    if (message.rfind(std::string(kFileName) + " line ", 0) != 0) {
      return Verdict::fail("TraceError does not start with \"<file> line N\": " + message);
    }
    if (message.find('\n') != std::string::npos) {
      return Verdict::fail("TraceError is not one line: " + printable(message));
    }
    return Verdict::ok(false);
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("read_trace threw something other than TraceError: ") +
                         error.what());
  }
  if (conferences.empty()) return Verdict::fail("read_trace accepted a trace with no conference");
  for (const auto& conference : conferences) {
    if (!std::isfinite(conference.start_s) || !std::isfinite(conference.duration_s) ||
        conference.start_s < 0 || conference.duration_s < 0 || conference.participants < 0 ||
        conference.participants > scaling::kMaxConferenceParticipants ||
        conference.start_s + conference.duration_s > scaling::kMaxTraceSeconds) {
      std::ostringstream why;
      why << "accepted a conference out of bounds: start_s=" << conference.start_s
          << " duration_s=" << conference.duration_s << " participants=" << conference.participants;
      return Verdict::fail(why.str());
    }
  }
  std::ostringstream canonical;
  scaling::write_trace(canonical, conferences);
  std::istringstream again(canonical.str());
  std::vector<scaling::Conference> reread;
  try {
    reread = scaling::read_trace(again, "canonical.csv");
  } catch (const std::exception& error) {
    return Verdict::fail(std::string("write_trace output is not readable: ") + error.what());
  }
  if (reread.size() != conferences.size()) {
    return Verdict::fail("write_trace + read_trace changed the number of conferences");
  }
  for (std::size_t i = 0; i < reread.size(); ++i) {
    if (reread[i].start_s != conferences[i].start_s ||
        reread[i].duration_s != conferences[i].duration_s ||
        reread[i].participants != conferences[i].participants) {
      return Verdict::fail("write_trace + read_trace changed conference " + std::to_string(i) +
                           ": " + printable(canonical.str()));
    }
  }
  return Verdict::ok(true);
}

}  // namespace jvb_fuzz
