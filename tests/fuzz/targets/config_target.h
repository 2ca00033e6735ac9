#pragma once
// Fuzz targets: the configuration loader (agent/config.h).
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_support.h"

namespace jvb_fuzz {

// Text -> JSON -> parse_config(kSimulate): no file is read, so any document is safe.
// Properties: parse_config never throws; config is set exactly when there is no error; every
// error starts with a key path (a top-level key of the document, or "(top level)"); an accepted
// config keeps the documented invariants (min <= max, thresholds ordered, finite numbers).
class ConfigSimulateTarget {
 public:
  static constexpr std::string_view kName = "config";
  Verdict check(std::string_view input);
};

// Text written to a temporary file -> load_config(kCheck), with real secret files in that
// directory. "@DIR@" in the input is replaced by the directory (the corpus names its files so).
// Properties: load_config never throws; every error starts with a key path or with the config
// file's path (JSON syntax errors); the secrets never appear in an error or a warning; an
// accepted config holds the secrets read from the files it names.
class ConfigCheckTarget {
 public:
  static constexpr std::string_view kName = "config";
  ConfigCheckTarget();
  ~ConfigCheckTarget();
  ConfigCheckTarget(const ConfigCheckTarget&) = delete;
  ConfigCheckTarget& operator=(const ConfigCheckTarget&) = delete;
  Verdict check(std::string_view input);

 private:
  std::filesystem::path directory_;
  std::string xmpp_secret_;
  std::string linode_secret_;
  std::string root_pass_secret_;
};

}  // namespace jvb_fuzz
