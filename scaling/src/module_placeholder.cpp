// Placeholder so the library target has a source until the module's real code lands.
namespace scaling {
const char* module_name() noexcept { return "scaling"; }
}  // namespace scaling
