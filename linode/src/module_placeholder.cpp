// Placeholder so the library target has a source until the module's real code lands.
namespace linode {
const char* module_name() noexcept { return "linode"; }
}  // namespace linode
