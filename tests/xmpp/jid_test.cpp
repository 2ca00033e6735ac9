// XMPP addresses: local part and domain case-insensitive, resource exact (RFC 7622).
#include "xmpp/jid.h"

#include <gtest/gtest.h>

namespace xmpp {
namespace {

TEST(Jid, ParsesTheThreeParts) {
  const auto jid = parse_jid("JvbBrewery@Internal.Auth.Meet.Test/Jvb-As-1");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->local, "jvbbrewery");
  EXPECT_EQ(jid->domain, "internal.auth.meet.test");
  EXPECT_EQ(jid->resource, "Jvb-As-1");  // a nickname keeps its case
  EXPECT_EQ(jid->bare(), "jvbbrewery@internal.auth.meet.test");
  EXPECT_EQ(jid->full(), "jvbbrewery@internal.auth.meet.test/Jvb-As-1");
}

TEST(Jid, ResourceMayHoldSlashesAndAts) {
  const auto jid = parse_jid("room@muc.example/a/b@c");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->bare(), "room@muc.example");
  EXPECT_EQ(jid->resource, "a/b@c");
}

TEST(Jid, DomainOnlyAndTrailingDot) {
  EXPECT_EQ(parse_jid("Auth.Meet.Test")->bare(), "auth.meet.test");
  EXPECT_EQ(parse_jid("room@Muc.Example.")->bare(), "room@muc.example");
}

TEST(Jid, RefusesMalformedAddresses) {
  for (const char* text : {"", "@domain", "room@", "room@/nick", "room@muc/", "a@b@c", "/nick"}) {
    EXPECT_FALSE(parse_jid(text)) << "'" << text << "'";
  }
}

TEST(Jid, BareEqualIgnoresCaseOfLocalAndDomainAndIgnoresResources) {
  // Jicofo's packaging spells the brewery JvbBrewery@internal.auth.<host>; Prosody answers
  // from jvbbrewery@internal.auth.<host>.
  EXPECT_TRUE(
      bare_equal("JvbBrewery@internal.auth.meet.test", "jvbbrewery@internal.auth.meet.test/jvb1"));
  EXPECT_TRUE(
      bare_equal("jvbbrewery@INTERNAL.auth.meet.test", "JVBBREWERY@internal.auth.meet.test"));
  EXPECT_FALSE(
      bare_equal("jvbbrewery@internal.auth.meet.test", "jvbbrewery2@internal.auth.meet.test"));
  EXPECT_FALSE(bare_equal("jvbbrewery@internal.auth.meet.test", "jvbbrewery@auth.meet.test"));
  EXPECT_EQ(normalize_bare("JvbBrewery@Internal.Auth.Meet.Test/x"),
            "jvbbrewery@internal.auth.meet.test");
}

TEST(Jid, FullEqualComparesTheResourceExactly) {
  EXPECT_TRUE(full_equal("Room@MUC/jvb1", "room@muc/jvb1"));
  EXPECT_FALSE(full_equal("room@muc/JVB1", "room@muc/jvb1"));
  EXPECT_FALSE(full_equal("room@muc/jvb1", "room@muc"));
}

}  // namespace
}  // namespace xmpp
