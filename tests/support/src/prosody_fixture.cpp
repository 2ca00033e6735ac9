#include "test_support/prosody_fixture.h"

#include <filesystem>

namespace test_support {

namespace {

agent::local::ProsodySetup setup_of(const ProsodyOptions& options) {
  agent::local::ProsodySetup setup;
  setup.virtual_host = "auth." + options.domain;
  setup.muc_domain = "internal.auth." + options.domain;
  for (const auto& [user, password] : options.accounts) setup.accounts.push_back({user, password});
  setup.tls = options.tls;
  setup.log_level = options.log_level;
  return setup;
}

}  // namespace

std::string ProsodyFixture::unavailable_reason() {
  return agent::local::prosody_unavailable_reason();
}

ProsodyFixture::ProsodyFixture(ProsodyOptions options)
    : options_(std::move(options)),
      dir_("jvb-prosody."),
      prosody_(dir_.path(), setup_of(options_)) {}

ProsodyFixture::~ProsodyFixture() = default;

}  // namespace test_support
