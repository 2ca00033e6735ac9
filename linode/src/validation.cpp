#include "linode/validation.h"

#include <algorithm>
#include <cctype>

namespace linode {

namespace {

bool is_separator(char c) { return c == '-' || c == '_' || c == '.'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// The first character that is neither alphanumeric nor a separator, if any.
std::optional<char> first_bad_character(std::string_view text) {
  for (char c : text) {
    if (!is_alnum(c) && !is_separator(c)) return c;
  }
  return std::nullopt;
}

std::string describe(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return std::string("'") + c + "'";
  return "a control or non-ASCII byte";
}

// The first doubled separator ("--", "__", "..") in text, if any.
std::optional<std::string> doubled_separator(std::string_view text) {
  for (size_t i = 1; i < text.size(); ++i) {
    if (is_separator(text[i]) && text[i] == text[i - 1]) return std::string(2, text[i]);
  }
  return std::nullopt;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> validate_label(std::string_view label) {
  if (label.size() < kLabelMinLength || label.size() > kLabelMaxLength) {
    return quoted(label) + " is " + std::to_string(label.size()) +
           " characters long; a Linode label must be 3 to 64 characters";
  }
  if (!is_alpha(label.front())) {
    return quoted(label) + " does not start with a letter, which Linode requires of a label";
  }
  if (!is_alnum(label.back())) {
    return quoted(label) + " does not end with a letter or digit, which Linode requires of a label";
  }
  if (auto bad = first_bad_character(label)) {
    return quoted(label) + " contains " + describe(*bad) +
           "; a Linode label holds only letters, digits, '-', '_' and '.'";
  }
  if (auto doubled = doubled_separator(label)) {
    return quoted(label) + " has \"" + *doubled + "\" in it; Linode refuses two '-', '_' or '.' " +
           "in a row in a label";
  }
  return std::nullopt;
}

std::optional<std::string> validate_label_prefix(std::string_view prefix) {
  if (prefix.empty()) {
    return std::string(
        "the label prefix is empty; labels would be bare numbers, and a Linode "
        "label must start with a letter");
  }
  if (!is_alpha(prefix.front())) {
    return quoted(prefix) + " does not start with a letter, and a Linode label must";
  }
  if (auto bad = first_bad_character(prefix)) {
    return quoted(prefix) + " contains " + describe(*bad) +
           "; a Linode label holds only letters, digits, '-', '_' and '.'";
  }
  if (auto doubled = doubled_separator(prefix)) {
    return quoted(prefix) + " has \"" + *doubled + "\" in it; Linode refuses two '-', '_' or " +
           "'.' in a row in a label";
  }
  // The shortest label is <prefix>1, the longest <prefix> + 9 digits.
  if (prefix.size() + 1 < kLabelMinLength) {
    return quoted(prefix) + " is too short: the label " + quoted(std::string(prefix) + "1") +
           " would have fewer than 3 characters, the least Linode accepts";
  }
  if (prefix.size() + kLabelNumberDigits > kLabelMaxLength) {
    return quoted(prefix) + " is " + std::to_string(prefix.size()) +
           " characters long; with a bridge number of up to 9 digits a label would exceed the 64 "
           "characters Linode accepts (use at most " +
           std::to_string(kLabelMaxLength - kLabelNumberDigits) + ")";
  }
  // The number follows the prefix: a trailing separator is fine (jvb-as-1), the digits end
  // the label with an alphanumeric character.
  return std::nullopt;
}

std::optional<std::string> validate_tag(std::string_view tag) {
  if (tag.size() < kTagMinLength || tag.size() > kTagMaxLength) {
    return quoted(tag) + " is " + std::to_string(tag.size()) +
           " characters long; a Linode tag must be 3 to 50 characters";
  }
  return std::nullopt;
}

}  // namespace linode
