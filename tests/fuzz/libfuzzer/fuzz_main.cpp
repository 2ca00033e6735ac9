// libFuzzer entry point shared by every target; CMake names the target's header and class
// (JVB_FUZZ_TARGET_HEADER, JVB_FUZZ_TARGET_CLASS). A violated property aborts, so libFuzzer
// keeps the input as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include JVB_FUZZ_TARGET_HEADER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One target for the whole run: the control target keeps its server up between inputs.
  static auto* target = new jvb_fuzz::JVB_FUZZ_TARGET_CLASS();
  const jvb_fuzz::Verdict verdict =
      target->check(std::string_view(reinterpret_cast<const char*>(data), size));
  if (verdict.failure) {
    std::fprintf(stderr, "property violated: %s\n", verdict.failure->c_str());
    std::abort();
  }
  return 0;
}
