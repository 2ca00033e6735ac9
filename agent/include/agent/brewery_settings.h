#pragma once
// The `xmpp` section of the configuration as the brewery client wants it (shared by `run`
// and `watch`, which differ only in the nickname).
#include <string>

#include "agent/config.h"
#include "xmpp/brewery_client.h"

namespace agent {

xmpp::ClientConfig brewery_client_config(const XmppSection& section, std::string nickname);

}  // namespace agent
