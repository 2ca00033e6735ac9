// Label prefix and tag rules as the Linode API applies them (linode/validation.h).
#include "linode/validation.h"

#include <gtest/gtest.h>

#include "fake_state.h"

namespace {

using linode::validate_label;
using linode::validate_label_prefix;
using linode::validate_tag;

TEST(Validation, AcceptsTheDefaultPrefixAndTypicalOnes) {
  for (const char* prefix : {"jvb-as-", "jvb", "jv", "JVB_as.", "bridge-eu-west-", "a1"}) {
    EXPECT_EQ(validate_label_prefix(prefix), std::nullopt) << prefix;
  }
}

TEST(Validation, RefusesDoubledSeparatorsInThePrefix) {
  for (const char* prefix : {"jvb--as-", "jvb__as", "jvb..as", "jvb--"}) {
    const auto problem = validate_label_prefix(prefix);
    ASSERT_TRUE(problem) << prefix;
    EXPECT_NE(problem->find("in a row"), std::string::npos) << *problem;
  }
}

TEST(Validation, RefusesPrefixesThatMakeLabelsUnderThreeCharacters) {
  const auto problem = validate_label_prefix("j");
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("fewer than 3 characters"), std::string::npos) << *problem;
  EXPECT_TRUE(validate_label_prefix(""));
}

TEST(Validation, RefusesPrefixesNotStartingWithALetter) {
  for (const char* prefix : {"1jvb-", "-jvb", "_jvb", ".jvb"}) {
    const auto problem = validate_label_prefix(prefix);
    ASSERT_TRUE(problem) << prefix;
    EXPECT_NE(problem->find("start with a letter"), std::string::npos) << *problem;
  }
}

TEST(Validation, RefusesForbiddenCharactersAndOverlongPrefixes) {
  EXPECT_TRUE(validate_label_prefix("jvb as"));
  EXPECT_TRUE(validate_label_prefix("jvb/as"));
  EXPECT_TRUE(validate_label_prefix("jvbé"));
  EXPECT_EQ(validate_label_prefix(std::string(55, 'a')), std::nullopt);
  const auto problem = validate_label_prefix(std::string(56, 'a'));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("64"), std::string::npos) << *problem;
}

// Every prefix the validator accepts yields labels the fake (which models the API's rule
// independently) accepts, for the smallest and the largest bridge number; and every prefix it
// refuses yields at least one label the fake refuses.
TEST(Validation, AgreesWithTheFakeApiOnWholeLabels) {
  for (const char* prefix :
       {"jvb-as-", "jv", "j", "jvb--", "jvb__x", "jvb..", "1jvb", "-x", "a.b", "jvb as", "x_"}) {
    const bool accepted = !validate_label_prefix(prefix);
    const std::string low = std::string(prefix) + "1";
    const std::string high = std::string(prefix) + "999999999";
    const bool fake_accepts =
        fake_linode::FakeApi::valid_label(low) && fake_linode::FakeApi::valid_label(high);
    EXPECT_EQ(accepted, fake_accepts) << prefix;
    EXPECT_EQ(accepted, !validate_label(low) && !validate_label(high)) << prefix;
  }
}

TEST(Validation, WholeLabels) {
  EXPECT_EQ(validate_label("jvb-as-12"), std::nullopt);
  EXPECT_TRUE(validate_label("jvb-as-"));  // ends with a separator
  EXPECT_TRUE(validate_label("ab"));
  EXPECT_TRUE(validate_label(std::string(65, 'a')));
  EXPECT_EQ(validate_label(std::string(64, 'a')), std::nullopt);
}

TEST(Validation, TagsMustBeThreeToFiftyCharacters) {
  EXPECT_EQ(validate_tag("jitsi"), std::nullopt);
  EXPECT_EQ(validate_tag("abc"), std::nullopt);
  EXPECT_EQ(validate_tag(std::string(50, 't')), std::nullopt);
  for (const std::string& tag : {std::string(""), std::string("ab"), std::string(51, 't')}) {
    const auto problem = validate_tag(tag);
    ASSERT_TRUE(problem) << tag;
    EXPECT_NE(problem->find("3 to 50 characters"), std::string::npos) << *problem;
  }
}

TEST(Validation, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(linode::iequals("Jitsi", "jITSI"));
  EXPECT_TRUE(linode::iequals("Metadata", "metadata"));
  EXPECT_FALSE(linode::iequals("jitsi", "jitsi "));
}

}  // namespace
