#pragma once
// The Linode preflight (linode/preflight.h) of what this configuration would create; shared by
// `check-config --online` and the daemon (at start and after a reload, creates stay suspended
// while it reports problems). Defined in cmd_check_config.cpp.
#include "agent/config.h"
#include "linode/preflight.h"

namespace agent {

// region, type, image, firewall_id, tags of `section`; user_data = user_data_file is set.
linode::PreflightRequest linode_preflight_request(const LinodeSection& section);

}  // namespace agent
