#pragma once
// What the Linode API refuses, checked before anything is sent. Pure functions: no I/O.
//
// Sources (Linode API v4 reference, "Create a Linode", property `label`; the same text is in the
// OpenAPI spec of linode/linode-api-docs and in the generated clients, e.g. linodego's
// instances.go and linode_api4-python): a Linode label
//   - is 3 to 64 characters long (minLength 3, maxLength 64),
//   - begins and ends with an alphanumeric character (older spec versions said "must start
//     with an alpha character"; we require a letter first, which satisfies both),
//   - consists only of letters, digits, '-', '_' and '.',
//   - never has two '-', two '_' or two '.' in a row.
// A tag (Tags API, "Create a tag", property `label`) is 3 to 50 characters long.
#include <optional>
#include <string>
#include <string_view>

namespace linode {

inline constexpr size_t kLabelMinLength = 3;
inline constexpr size_t kLabelMaxLength = 64;
inline constexpr size_t kTagMinLength = 3;
inline constexpr size_t kTagMaxLength = 50;
// The agent's labels are <prefix><n> with n >= 1; the prefix must leave room for any n the
// agent may ever use (a counter below 10^9: 9 digits).
inline constexpr size_t kLabelNumberDigits = 9;

// nullopt when the API accepts `label`; else one sentence naming the rule it breaks, e.g.
// "\"jvb--1\" has two '-' in a row, which Linode refuses in a label".
std::optional<std::string> validate_label(std::string_view label);

// nullopt when every label <prefix><n> (n = 1 .. 999999999) is one the API accepts; else one
// sentence, e.g. "\"jvb__\" makes labels with two '_' in a row (jvb__1), which Linode refuses".
std::optional<std::string> validate_label_prefix(std::string_view prefix);

// nullopt when the API accepts `tag` on an instance; else one sentence.
std::optional<std::string> validate_tag(std::string_view tag);

// Case-insensitive ASCII equality: Linode compares tags (and region/type/image ids, and
// capability names) without regard to case, and so must the agent.
bool iequals(std::string_view a, std::string_view b);

}  // namespace linode
