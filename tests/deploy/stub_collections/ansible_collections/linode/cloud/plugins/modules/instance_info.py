#!/usr/bin/python
# Offline stand-in of linode.cloud.instance_info (see ../../../../README.md and instance.py).
# With JVB_STUB_RECORD=<file> it records its arguments and answers with a made-up instance
# (public address in 203.0.113.0/24, private in 192.168.128.0/17, both derived from the label).
DOCUMENTATION = r"""
module: instance_info
short_description: Offline stand-in of linode.cloud.instance_info
description: Declares the options of the real module that the playbooks use; never reads anything.
options:
  label: {type: str, description: Instance label.}
  id: {type: int, description: Instance id.}
  api_token: {type: str, required: true, no_log: true, description: Linode API token.}
"""
import json
import os
import zlib

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    label=dict(type="str"),
    id=dict(type="int"),
    api_token=dict(type="str", required=True, no_log=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC)
    record = os.environ.get("JVB_STUB_RECORD")
    if not record:
        module.fail_json(msg="stub linode.cloud.instance_info: install the real collection "
                             "(ansible-galaxy collection install -r deploy/ansible/requirements.yml)")
    with open(record, "a") as handle:
        handle.write(json.dumps({"module": "linode.cloud.instance_info", "params": module.params}) + "\n")
    label = module.params["label"] or str(module.params["id"])
    host = 10 + zlib.crc32(label.encode()) % 200
    module.exit_json(changed=False, instance={"label": label, "id": host,
                                              "ipv4": ["203.0.113.%d" % host, "192.168.130.%d" % host]})


if __name__ == "__main__":
    main()
