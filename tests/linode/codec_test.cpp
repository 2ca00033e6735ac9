#include "codec.h"

#include <gtest/gtest.h>

#include "fake_state.h"

namespace {

using nlohmann::json;

TEST(Codec, Base64RoundTripsThroughTheFakesDecoder) {
  for (const std::string& raw :
       {std::string(""), std::string("a"), std::string("ab"), std::string("abc"),
        std::string("#cloud-config\nruncmd: [é]\n"), std::string("\0\xff\x10", 3)}) {
    const auto decoded = fake_linode::FakeApi::base64_decode(linode::codec::base64_encode(raw));
    ASSERT_TRUE(decoded.has_value()) << raw;
    EXPECT_EQ(*decoded, raw);
  }
  EXPECT_EQ(linode::codec::base64_encode("hello"), "aGVsbG8=");
}

TEST(Codec, XFilterUsesSimpleFormForOneConditionAndAndForSeveral) {
  EXPECT_EQ(linode::codec::x_filter({}), "");
  EXPECT_EQ(json::parse(linode::codec::x_filter({.label = "jvb-as-1", .tags = {}})),
            json({{"label", "jvb-as-1"}}));
  EXPECT_EQ(json::parse(linode::codec::x_filter({.label = std::nullopt, .tags = {"jitsi"}})),
            json({{"tags", "jitsi"}}));
  EXPECT_EQ(json::parse(linode::codec::x_filter({.label = "x1y", .tags = {"a", "b"}})),
            json::parse(R"({"+and":[{"label":"x1y"},{"tags":"a"},{"tags":"b"}]})"));
}

TEST(Codec, ClassifiesPrivateAddresses) {
  EXPECT_TRUE(linode::codec::is_private_ipv4("192.168.133.234"));
  EXPECT_TRUE(linode::codec::is_private_ipv4("10.1.2.3"));
  EXPECT_TRUE(linode::codec::is_private_ipv4("127.1.0.5"));
  EXPECT_FALSE(linode::codec::is_private_ipv4("97.107.143.141"));
  EXPECT_FALSE(linode::codec::is_private_ipv4("127.2.0.5"));
  EXPECT_FALSE(linode::codec::is_private_ipv4("not an ip"));
}

TEST(Codec, ParsesTheSpecExampleLinodeAndErrorBodies) {
  const json linode = json::parse(R"({"id":123,"label":"linode123","status":"running",
    "region":"us-east","type":"g6-standard-1","image":null,"created":"2018-01-01T00:01:01",
    "tags":["example tag"],"ipv4":["203.0.113.1","192.168.133.234"],"group":"Linode-Group"})");
  const linode::Instance instance = linode::codec::parse_instance(linode);
  EXPECT_EQ(instance.id, 123);
  EXPECT_EQ(instance.image, "");
  EXPECT_EQ(instance.public_ipv4, "203.0.113.1");
  EXPECT_EQ(instance.private_ipv4, "192.168.133.234");
  EXPECT_THROW(linode::codec::parse_instance(json::parse(R"({"label":"x"})")), json::exception);

  const auto error = linode::codec::parse_error_body(
      R"({"errors":[{"reason":"Label must be unique","field":"label"}]})");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->reason, "Label must be unique");
  EXPECT_EQ(error->field, "label");
  EXPECT_FALSE(linode::codec::parse_error_body("<html>bad gateway</html>"));
}

}  // namespace
