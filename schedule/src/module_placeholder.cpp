// Placeholder so the library target has a source until the module's real code lands.
namespace schedule {
const char* module_name() noexcept { return "schedule"; }
}  // namespace schedule
