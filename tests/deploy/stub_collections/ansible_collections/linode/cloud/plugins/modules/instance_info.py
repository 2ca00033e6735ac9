#!/usr/bin/python
# Static-check stub of linode.cloud.instance_info (see ../../../../README.md).
DOCUMENTATION = r"""
module: instance_info
short_description: Stub of linode.cloud.instance_info for offline syntax checks
description: Declares the options of the real module that the playbooks use; never runs.
options:
  label: {type: str, description: Instance label.}
  id: {type: int, description: Instance id.}
  api_token: {type: str, required: true, no_log: true, description: Linode API token.}
"""
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            label=dict(type="str"),
            id=dict(type="int"),
            api_token=dict(type="str", required=True, no_log=True),
        )
    )
    module.fail_json(msg="stub linode.cloud.instance_info: install the real collection (ansible-galaxy collection install linode.cloud)")


if __name__ == "__main__":
    main()
