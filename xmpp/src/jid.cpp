// XMPP address comparison (see xmpp/jid.h): pure, no libstrophe.

#include "xmpp/jid.h"

#include <algorithm>

namespace xmpp {
namespace {

std::string ascii_lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  });
  return lower;
}

}  // namespace

std::string Jid::bare() const { return local.empty() ? domain : local + "@" + domain; }

std::string Jid::full() const { return resource.empty() ? bare() : bare() + "/" + resource; }

std::optional<Jid> parse_jid(std::string_view text) {
  Jid jid;
  const size_t slash = text.find('/');
  std::string_view bare = text;
  if (slash != std::string_view::npos) {
    jid.resource = std::string(text.substr(slash + 1));
    if (jid.resource.empty()) return std::nullopt;
    bare = text.substr(0, slash);
  }
  const size_t at = bare.find('@');
  if (at != std::string_view::npos) {
    // Neither the local part nor the domain may hold an '@'.
    if (at == 0 || bare.find('@', at + 1) != std::string_view::npos) return std::nullopt;
    jid.local = ascii_lower(bare.substr(0, at));
    bare = bare.substr(at + 1);
  }
  // A trailing dot names the same domain (RFC 7622 section 3.2).
  if (!bare.empty() && bare.back() == '.') bare.remove_suffix(1);
  if (bare.empty()) return std::nullopt;
  jid.domain = ascii_lower(bare);
  return jid;
}

std::string normalize_bare(std::string_view text) {
  const std::optional<Jid> jid = parse_jid(text);
  return jid ? jid->bare() : ascii_lower(text);
}

bool bare_equal(std::string_view a, std::string_view b) {
  return normalize_bare(a) == normalize_bare(b);
}

bool full_equal(std::string_view a, std::string_view b) {
  const std::optional<Jid> left = parse_jid(a);
  const std::optional<Jid> right = parse_jid(b);
  if (!left || !right) return a == b;
  return left->bare() == right->bare() && left->resource == right->resource;
}

}  // namespace xmpp
