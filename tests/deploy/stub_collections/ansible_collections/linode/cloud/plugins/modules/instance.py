#!/usr/bin/python
# Offline stand-in of linode.cloud.instance (see ../../../../README.md). It declares only
# options that the real module documents at the pinned version (deploy/ansible/requirements.yml);
# tests/deploy/stub_options_test.py compares ARGUMENT_SPEC and DOCUMENTATION with
# tests/deploy/linode_cloud_options.yml, the list taken from the real module's documentation.
# With JVB_STUB_RECORD=<file> in the environment it appends its validated arguments to that
# file as one JSON line and succeeds (tests/deploy/provision_test.py); otherwise it refuses to run.
DOCUMENTATION = r"""
module: instance
short_description: Offline stand-in of linode.cloud.instance
description: Declares the options of the real module that the playbooks use; never creates anything.
options:
  label: {type: str, description: Instance label.}
  api_token: {type: str, required: true, no_log: true, description: Linode API token.}
  type: {type: str, description: Plan.}
  region: {type: str, description: Region.}
  image: {type: str, description: Image.}
  root_pass: {type: str, no_log: true, description: Root password.}
  authorized_keys: {type: list, elements: str, description: SSH keys.}
  private_ip: {type: bool, description: Add a private IPv4.}
  group: {type: str, description: Deprecated group.}
  tags: {type: list, elements: str, description: Tags.}
  metadata:
    type: dict
    description: Metadata service data.
    suboptions:
      user_data: {type: str, description: "User data; the module base64-encodes it unless user_data_encoded."}
      user_data_encoded: {type: bool, default: false, description: user_data is already base64.}
  state: {type: str, required: true, choices: [present, absent], description: State.}
"""
import json
import os

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    label=dict(type="str"),
    api_token=dict(type="str", required=True, no_log=True),
    type=dict(type="str"),
    region=dict(type="str"),
    image=dict(type="str"),
    root_pass=dict(type="str", no_log=True),
    authorized_keys=dict(type="list", elements="str", no_log=False),
    private_ip=dict(type="bool"),
    group=dict(type="str"),
    tags=dict(type="list", elements="str"),
    metadata=dict(
        type="dict",
        options=dict(
            user_data=dict(type="str"),
            user_data_encoded=dict(type="bool", default=False),
        ),
    ),
    state=dict(type="str", required=True, choices=["present", "absent"]),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC)
    record = os.environ.get("JVB_STUB_RECORD")
    if not record:
        module.fail_json(msg="stub linode.cloud.instance: install the real collection "
                             "(ansible-galaxy collection install -r deploy/ansible/requirements.yml)")
    with open(record, "a") as handle:
        handle.write(json.dumps({"module": "linode.cloud.instance", "params": module.params}) + "\n")
    module.exit_json(changed=True, instance={"label": module.params["label"]})


if __name__ == "__main__":
    main()
