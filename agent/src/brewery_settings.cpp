#include "agent/brewery_settings.h"

namespace agent {

xmpp::ClientConfig brewery_client_config(const XmppSection& section, std::string nickname) {
  xmpp::ClientConfig config;
  config.host = section.host;
  config.port = section.port;
  config.domain = section.domain;
  config.username = section.username;
  config.password = section.password;
  config.brewery = section.brewery;
  config.nickname = std::move(nickname);
  config.tls = section.tls == "disabled"   ? xmpp::TlsMode::kDisabled
               : section.tls == "optional" ? xmpp::TlsMode::kOptional
                                           : xmpp::TlsMode::kRequired;
  config.verify_certificate = section.verify_certificate;
  config.ca_file = section.ca_file;
  // XEP-0199 liveness: blind while a ping goes unanswered (DESIGN section 5).
  config.ping_interval_seconds = section.ping_interval_seconds;
  config.ping_timeout_seconds = section.ping_timeout_seconds;
  return config;
}

}  // namespace agent
