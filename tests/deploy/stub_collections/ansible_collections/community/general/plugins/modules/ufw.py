#!/usr/bin/python
# Static-check stub of community.general.ufw (see ../../../../README.md).
DOCUMENTATION = r"""
module: ufw
short_description: Stub of community.general.ufw for offline syntax checks
description: Declares the options of the real module that the playbooks use; never runs.
options:
  state: {type: str, choices: [disabled, enabled, reloaded, reset], description: State.}
  default: {type: str, choices: [allow, deny, reject], description: Default policy.}
  direction: {type: str, choices: [in, incoming, out, outgoing, routed], description: Direction.}
  rule: {type: str, choices: [allow, deny, limit, reject], description: Rule.}
  port: {type: str, description: Port.}
  proto: {type: str, choices: [any, tcp, udp, ipv6, esp, ah, gre, igmp], description: Protocol.}
  from_ip: {type: str, default: any, description: Source.}
  comment: {type: str, description: Comment.}
"""
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["disabled", "enabled", "reloaded", "reset"]),
            default=dict(type="str", choices=["allow", "deny", "reject"]),
            direction=dict(type="str", choices=["in", "incoming", "out", "outgoing", "routed"]),
            rule=dict(type="str", choices=["allow", "deny", "limit", "reject"]),
            port=dict(type="str"),
            proto=dict(type="str", choices=["any", "tcp", "udp", "ipv6", "esp", "ah", "gre", "igmp"]),
            from_ip=dict(type="str", default="any"),
            comment=dict(type="str"),
        )
    )
    module.fail_json(msg="stub community.general.ufw: install the real collection (ansible-galaxy collection install community.general)")


if __name__ == "__main__":
    main()
