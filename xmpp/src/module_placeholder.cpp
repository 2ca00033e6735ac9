// Placeholder so the library target has a source until the module's real code lands.
namespace xmpp {
const char* module_name() noexcept { return "xmpp"; }
}  // namespace xmpp
