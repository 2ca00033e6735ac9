#pragma once
// XMPP addresses compared as XMPP defines them (RFC 7622): the local part and the domain are
// case-insensitive, the resource is exact. Prosody prepares every address it routes
// (/usr/lib/prosody/util/jid.lua: nodeprep on the local part, nameprep on the domain,
// resourceprep on the resource), so the brewery room comes back as `jvbbrewery@internal...`
// while Jicofo's own packaging writes `JvbBrewery@internal.auth.<host>`
// (jitsi/jicofo debian/postinst, "jicofo.bridge.brewery-jid"). Any address we read from the
// configuration or from a stanza is compared with these helpers, never byte for byte.
//
// Case folding covers ASCII only (every name Jitsi's packaging and our configuration use);
// full stringprep of non-ASCII addresses is out of scope. Pure functions, no libstrophe.

#include <optional>
#include <string>
#include <string_view>

namespace xmpp {

struct Jid {
  std::string local;     // may be empty (a server or component address)
  std::string domain;    // never empty in a parsed Jid
  std::string resource;  // may be empty (a bare JID); for a MUC occupant: the nickname

  // "local@domain" with local and domain lower-cased; "domain" when there is no local part.
  std::string bare() const;
  // bare() + "/" + resource (resource kept exactly); bare() when there is no resource.
  std::string full() const;
};

// Splits "local@domain/resource": the resource is everything after the first '/', the local
// part everything before the '@' that precedes it (a second '@' there is refused). Local part and
// domain are lower-cased; the resource is kept as is; a trailing dot of the domain is dropped.
// std::nullopt when the domain is empty, the local part is empty but an '@' is present, or a
// resource separator has nothing after it.
std::optional<Jid> parse_jid(std::string_view text);

// The bare address in its compared form ("JvbBrewery@Internal.Auth.X/nick" ->
// "jvbbrewery@internal.auth.x"); the input unchanged (lower-cased) when it does not parse.
std::string normalize_bare(std::string_view text);

// True when both addresses have the same bare JID as XMPP compares it (resources ignored).
bool bare_equal(std::string_view a, std::string_view b);

// True when both are the same full JID: bare parts case-insensitively, resources exactly.
bool full_equal(std::string_view a, std::string_view b);

}  // namespace xmpp
