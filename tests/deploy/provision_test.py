#!/usr/bin/env python3
"""provision.yml sends each static bridge's user data encoded exactly once (issue 16).

  provision_test.py REPO

Runs deploy/ansible/provision.yml offline on a copy of deploy/ (the playbook writes its
inventory and group_vars next to itself) with the stand-in linode.cloud modules in
recording mode (JVB_STUB_RECORD): they validate their arguments against the documented
options of the pinned collection and append them to a file instead of calling Linode.
The test then computes what the real module would send as metadata.user_data, decodes it
ONCE as cloud-init's Akamai datasource does, and requires a #cloud-config document for
each bridge, fully substituted. The same check is run on the double-encoded form the
playbook used to send, to show that the check catches it.

What the real module sends (linode.cloud 0.47.0, plugins/modules/instance.py):
metadata = build_instance_metadata(user_data, encode_user_data=not user_data_encoded),
and linode_api4's build_instance_metadata base64-encodes user_data when encode_user_data.
"""
import base64
import binascii
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

import yaml

PROBLEMS = []


def check(condition, message):
    if not condition:
        PROBLEMS.append(message)
    return condition


def sent_by_module(metadata):
    """metadata.user_data as linode.cloud 0.47.0 puts it into POST /linode/instances."""
    user_data = metadata.get("user_data")
    if user_data is None:
        return None
    if metadata.get("user_data_encoded"):
        return user_data
    return base64.b64encode(user_data.encode()).decode()


def cloud_config_problems(sent, label, domain, meet_private_ip, password):
    """What is wrong with the user data `sent` once decoded like cloud-init does."""
    try:
        text = base64.b64decode(sent, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        return ["%s: user data is not base64: %s" % (label, error)]
    if not text.startswith("#cloud-config\n"):
        return ["%s: decoded once, the user data starts with %r, not #cloud-config" % (label, text[:20])]
    problems = []
    if "@@" in text or "{{" in text:
        problems.append("%s: the user data still holds template placeholders" % label)
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        return problems + ["%s: the user data is not a YAML mapping" % label]
    if document.get("hostname") != label:
        problems.append("%s: hostname is %r" % (label, document.get("hostname")))
    files = {entry["path"]: entry.get("content", "") for entry in document.get("write_files", [])}
    conf = files.get("/etc/jitsi/videobridge/jvb.conf", "")
    for needle in ('MUC_NICKNAME = "%s"' % label,
                   'MUC_JIDS = "jvbbrewery@internal.auth.%s"' % domain,
                   'HOSTNAME = "%s"' % meet_private_ip,
                   'PASSWORD = "%s"' % password):
        if needle not in conf:
            problems.append("%s: jvb.conf lacks %s" % (label, needle.split(" =")[0]))
    return problems


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: provision_test.py REPO")
    repo = os.path.abspath(sys.argv[1])
    password = "Pw" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory() as tmp:
        deploy = os.path.join(tmp, "deploy")
        shutil.copytree(os.path.join(repo, "deploy"), deploy,
                        ignore=shutil.ignore_patterns("hosts", "vars", "secret_vars"))
        group_vars = os.path.join(deploy, "ansible/group_vars/jitsi")
        shutil.copy(os.path.join(group_vars, "vars.example"), os.path.join(group_vars, "vars"))
        secret = yaml.safe_load(open(os.path.join(group_vars, "secret_vars.example")))
        secret["jvb_xmpp_password"] = password
        with open(os.path.join(group_vars, "secret_vars"), "w") as handle:
            yaml.safe_dump(secret, handle)
        record = os.path.join(tmp, "record.jsonl")
        env = dict(os.environ, JVB_STUB_RECORD=record, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CONFIG=os.path.join(deploy, "ansible/ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, "tests/deploy/stub_collections"),
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        result = subprocess.run(
            ["ansible-playbook", "-i", "localhost,", "-c", "local", "provision.yml",
             "--skip-tags", "ssh_wait", "-e", "jvb_cluster_size=2"],
            cwd=os.path.join(deploy, "ansible"), capture_output=True, text=True, timeout=180, env=env)
        if result.returncode != 0:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit("provision.yml failed offline with exit code %d" % result.returncode)
        calls = [json.loads(line) for line in open(record)]
        hosts = open(os.path.join(deploy, "ansible/hosts")).read()

    creates = [c["params"] for c in calls if c["module"] == "linode.cloud.instance"]
    infos = {c["params"]["label"] for c in calls if c["module"] == "linode.cloud.instance_info"}
    check(infos >= {"jitsi1", "jvb1", "jvb2"}, "instance_info was not asked for jitsi1, jvb1, jvb2: %s" % infos)
    with_user_data = [p for p in creates if (p.get("metadata") or {}).get("user_data")]
    check(sorted(p["label"] for p in with_user_data) == ["jvb1", "jvb2"],
          "user data must go to exactly the static bridges jvb1, jvb2; went to %s"
          % sorted(p["label"] for p in with_user_data))
    meet = [p for p in creates if p["label"] == "jitsi1"]
    check(meet and not (meet[0].get("metadata") or {}).get("user_data"), "the meet host must get no bridge user data")

    # The stand-in instance_info gives jitsi1 the addresses derived from its label.
    import zlib
    n = 10 + zlib.crc32(b"jitsi1") % 200
    meet_public, meet_private = "203.0.113.%d" % n, "192.168.130.%d" % n
    domain = meet_public.replace(".", "-") + ".ip.linodeusercontent.com"
    for params in with_user_data:
        sent = sent_by_module(params["metadata"])
        found = cloud_config_problems(sent, params["label"], domain, meet_private, password)
        for problem in found:
            check(False, problem)
        # The check is not blind: the old playbook (b64encode without user_data_encoded)
        # makes the module encode a second time, and that must be caught.
        double = sent_by_module({"user_data": sent, "user_data_encoded": False})
        check(cloud_config_problems(double, params["label"], domain, meet_private, password),
              "%s: the double-encoded form passes the check, the check is blind" % params["label"])
        print("%s: metadata.user_data_encoded=%s, sent %d base64 characters, decoded once: %s"
              % (params["label"], params["metadata"].get("user_data_encoded"), len(sent),
                 "#cloud-config" if not found else "NOT cloud-config"))
    check("[jvb_servers]" in hosts and meet_public in hosts, "provision.yml did not write the inventory")

    for problem in PROBLEMS:
        sys.stderr.write("FAIL: %s\n" % problem.replace(password, "<password>"))
    print("%d problem(s)" % len(PROBLEMS))
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
