#!/usr/bin/python
# Static-check stub of linode.cloud.instance (see ../../../../README.md).
DOCUMENTATION = r"""
module: instance
short_description: Stub of linode.cloud.instance for offline syntax checks
description: Declares the options of the real module that the playbooks use; never runs.
options:
  label: {type: str, required: true, description: Instance label.}
  api_token: {type: str, required: true, no_log: true, description: Linode API token.}
  type: {type: str, description: Plan.}
  region: {type: str, description: Region.}
  image: {type: str, description: Image.}
  root_pass: {type: str, no_log: true, description: Root password.}
  authorized_keys: {type: list, elements: str, description: SSH keys.}
  private_ip: {type: bool, description: Add a private IPv4.}
  group: {type: str, description: Deprecated group.}
  tags: {type: list, elements: str, description: Tags.}
  metadata: {type: dict, description: "Metadata service data (user_data, base64)."}
  state: {type: str, required: true, choices: [present, absent], description: State.}
"""
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            label=dict(type="str", required=True),
            api_token=dict(type="str", required=True, no_log=True),
            type=dict(type="str"),
            region=dict(type="str"),
            image=dict(type="str"),
            root_pass=dict(type="str", no_log=True),
            authorized_keys=dict(type="list", elements="str", no_log=False),
            private_ip=dict(type="bool"),
            group=dict(type="str"),
            tags=dict(type="list", elements="str"),
            metadata=dict(type="dict"),
            state=dict(type="str", required=True, choices=["present", "absent"]),
        )
    )
    module.fail_json(msg="stub linode.cloud.instance: install the real collection (ansible-galaxy collection install linode.cloud)")


if __name__ == "__main__":
    main()
