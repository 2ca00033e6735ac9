#!/usr/bin/env python3
"""Renders the jvb_autoscaler role's outputs with Ansible and checks them.

  render_test.py cloud-init REPO   stage 1 (Ansible) + stage 2 (agent-style plain
                                   replacement) of deploy/cloud-init/jvb.yaml -> YAML
  render_test.py config REPO [BIN] config.json.j2 -> JSON with only DESIGN section 4 keys;
                                   with BIN (a built jvb-autoscaler), also `check-config`.
  render_test.py prosody REPO      the role's Prosody limits tasks applied to a Jitsi-style
                                   host configuration, read back with Prosody's own parser.
Exit 0 on success; on failure one line per problem on stderr and exit 1.
"""
import base64
import json
import os
import re
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


def render(repo, out_dir, password, extra=()):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_RETRY_FILES_ENABLED="false")
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local",
           os.path.join(repo, "tests/deploy/render.yml"),
           "-e", "out_dir=" + out_dir, "-e", "repo=" + repo,
           "-e", "test_jvb_password=" + password]
    for item in extra:
        cmd += ["-e", item]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit("ansible-playbook render.yml failed with exit code %d" % result.returncode)


# Sample values the agent would substitute for one instance (DESIGN section 4).
STAGE2 = {
    "{{label}}": "jvb-as-7",
    "{{nickname}}": "jvb-as-7",
    "{{brewery}}": "jvbbrewery@internal.auth.203-0-113-10.ip.linodeusercontent.com",
    "{{xmpp_host}}": "192.168.130.7",
    "{{region}}": "us-lax",
}


# Dotted jvb.conf keys JVB reads, from jitsi-videobridge jvb/src/main/resources/reference.conf
# (master, 2026-08, commit a29d97d1) and, under apis.xmpp-client.configs.<id>, the property names
# of jicoco's MucClientConfiguration.java. The bootstrap must write no other key.
JVB_KEYS = {
    "videobridge.apis.xmpp-client.stats-filter.enabled",
    "videobridge.apis.rest.enabled",
    "videobridge.rest.drain.enabled",
    "videobridge.rest.shutdown.enabled",
    "videobridge.shutdown.graceful-shutdown-max-duration",
    "videobridge.http-servers.private.host",
    "videobridge.http-servers.private.port",
    "videobridge.http-servers.public.port",
    "videobridge.websockets.enabled",
    "videobridge.websockets.domains",
    "videobridge.websockets.tls",
    "videobridge.websockets.server-id",
    "videobridge.relay.enabled",
    "videobridge.relay.region",
    "videobridge.relay.relay-id",
}
MUC_CLIENT_PROPERTIES = {"HOSTNAME", "DOMAIN", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME",
                         "DISABLE_CERTIFICATE_VERIFICATION", "IQ_HANDLER_MODE"}


def hocon_keys(conf):
    """Dotted path -> value of the `key = value` lines of the (simple, one key per line) jvb.conf."""
    path, keys = [], {}
    for raw in conf.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            path.append(line[:-1].strip())
        elif line == "}":
            path.pop()
        elif "=" in line:
            key, value = line.split("=", 1)
            keys[".".join(path + [key.strip()])] = value.strip()
    return keys


def check_jvb_keys(conf):
    for key in hocon_keys(conf):
        prefix = "videobridge.apis.xmpp-client.configs."
        if key.startswith(prefix):
            check(key.rsplit(".", 1)[1] in MUC_CLIENT_PROPERTIES, "jvb.conf: %s is not a MucClientConfiguration property" % key)
        else:
            check(key in JVB_KEYS, "jvb.conf: JVB does not read %s (not in reference.conf)" % key)


def test_cloud_init(repo):
    raw = open(os.path.join(repo, "deploy/cloud-init/jvb.yaml")).read()
    check(raw.startswith("#cloud-config\n"), "the template must start with #cloud-config")
    check(isinstance(yaml.safe_load(raw), dict), "the unsubstituted template is not a YAML mapping")
    for placeholder in STAGE2:
        check(placeholder in raw, "placeholder %s is not used by the template" % placeholder)

    password = "Pw" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory() as out_dir:
        render(repo, out_dir, password)
        stage1 = open(os.path.join(out_dir, "jvb-cloud-init.yaml")).read()
        config = json.loads(open(os.path.join(out_dir, "config.json")).read())
        render(repo, out_dir, password, ["jvb_autoscaler_graceful_shutdown_max_seconds=120"])
        stage1_120 = open(os.path.join(out_dir, "jvb-cloud-init.yaml")).read()
    check("@@" not in stage1, "stage 1 left an @@TOKEN@@: %s" % re.findall(r"@@\w+@@", stage1))
    for placeholder in STAGE2:
        check(placeholder in stage1, "stage 1 (Ansible) lost the agent placeholder %s" % placeholder)

    stage2 = stage1
    for placeholder, value in STAGE2.items():
        stage2 = stage2.replace(placeholder, value)
    check("{{" not in stage2 and "}}" not in stage2, "stage 2 left a {{...}} placeholder")
    # What the agent sends: the substituted template base64-encoded once as metadata.user_data
    # (DESIGN section 4). Decoded once, as cloud-init's Akamai datasource does, it must be the
    # cloud-config itself; a stage-1 file that were already base64 would fail here.
    sent = base64.b64encode(stage2.encode()).decode()
    decoded = base64.b64decode(sent, validate=True).decode()
    check(decoded.startswith("#cloud-config\n"),
          "the agent's user data, decoded once, starts with %r instead of #cloud-config" % decoded[:20])
    check(stage2.startswith("#cloud-config\n"), "rendered user data must start with #cloud-config")
    document = yaml.safe_load(stage2)
    if not check(isinstance(document, dict), "rendered user data is not a YAML mapping"):
        return
    for key in ("hostname", "packages", "write_files", "runcmd"):
        check(key in document, "rendered user data has no '%s' key" % key)
    check(document.get("hostname") == "jvb-as-7", "hostname must be the label, got %r" % document.get("hostname"))
    check("ufw" in document.get("packages", []), "ufw is not installed")

    files = {entry["path"]: entry for entry in document.get("write_files", [])}
    conf = files.get("/etc/jitsi/videobridge/jvb.conf", {}).get("content", "")
    check(conf, "no /etc/jitsi/videobridge/jvb.conf in write_files")
    check(files.get("/etc/jitsi/videobridge/jvb.conf", {}).get("permissions") == "0640", "jvb.conf must be 0640")
    expected = {
        "HOSTNAME": "192.168.130.7",
        "DOMAIN": "auth.203-0-113-10.ip.linodeusercontent.com",
        "USERNAME": "jvb-cluster",
        "PASSWORD": password,
        "MUC_JIDS": STAGE2["{{brewery}}"],
        "MUC_NICKNAME": "jvb-as-7",
    }
    for key, value in expected.items():
        check(re.search(r'^\s*%s = "%s"$' % (key, re.escape(value)), conf, re.M),
              "jvb.conf: %s is not \"%s\"" % (key, value if key != "PASSWORD" else "<the vault password>"))
    check(re.search(r"drain \{\s*enabled = true", conf), "jvb.conf: the drain REST API is not enabled")
    check_jvb_keys(conf)
    # The graceful-shutdown endpoint the agent calls at drain_timeout (DESIGN section 4
    # drain.shutdown_url) needs rest.shutdown.enabled and the COLIBRI REST API.
    keys = hocon_keys(conf)
    check(keys.get("videobridge.rest.shutdown.enabled") == "true", "jvb.conf: videobridge.rest.shutdown.enabled is not true")
    check(keys.get("videobridge.apis.rest.enabled") == "true",
          "jvb.conf: videobridge.apis.rest.enabled (needed by the shutdown API) is not true")
    check(keys.get("videobridge.apis.xmpp-client.stats-filter.enabled") == "false",
          "jvb.conf: the stats filter must stay off (participants and conferences are published)")
    match = re.fullmatch(r"(\d+) seconds", keys.get("videobridge.shutdown.graceful-shutdown-max-duration", ""))
    drain_timeout = config.get("scaling", {}).get("drain_timeout_seconds")
    if check(match, "jvb.conf: no videobridge.shutdown.graceful-shutdown-max-duration"):
        graceful = int(match.group(1))
        check(0 < graceful < drain_timeout,
              "graceful-shutdown-max-duration %d s is not within (0, drain_timeout_seconds %r)" % (graceful, drain_timeout))
    check("graceful-shutdown-max-duration = 120 seconds" in stage1_120,
          "graceful-shutdown-max-duration does not follow jvb_autoscaler_graceful_shutdown_max_seconds")
    check(re.search(r"private \{\s*host = \"__PRIVATE_IP__\"\s*port = 8080", conf),
          "jvb.conf: the private HTTP server must listen on the private IP, port 8080")
    check(re.search(r'server-id = "__PRIVATE_IP__"', conf), "jvb.conf: web socket server-id must be the private IP")
    check('region = "us-lax"' in conf, "jvb.conf: relay region is not the Linode region")
    check(stage2.count(password) == 1, "the XMPP password must appear once (in jvb.conf), found %d" % stage2.count(password))

    script = files.get("/usr/local/sbin/jvb-bootstrap", {}).get("content", "")
    # An apt source whose signed-by keyring does not exist yet makes the package_update
    # of cloud-init fail: no source in write_files, the script writes it after the key.
    check(not [p for p in files if p.startswith("/etc/apt/")],
          "write_files must not write apt sources (their key does not exist yet at that stage)")
    check('keyring=/usr/share/keyrings/jitsi-keyring.gpg' in script
          and 'deb [signed-by=$keyring] https://download.jitsi.org stable/' in script,
          "jvb-bootstrap does not configure Jitsi's stable repository signed by its keyring")
    steps = ["https://download.jitsi.org/jitsi-key.gpg.key", "gpg --dearmor", 'mv "$keyring.tmp" "$keyring"',
             "/etc/apt/sources.list.d/jitsi-stable.list", "apt-get update", "apt-get install"]
    positions = [script.find(step) for step in steps]
    check(-1 not in positions and positions == sorted(positions),
          "jvb-bootstrap must fetch the key, install the keyring, then write the source, then update: %s"
          % dict(zip(steps, positions)))
    check(script.startswith("#!/bin/sh"), "no /usr/local/sbin/jvb-bootstrap script")
    for rule in ("ufw allow 10000/udp", "ufw allow 22/tcp",
                 'ufw allow from "$meet_private_ip" to any port 9090 proto tcp',
                 'ufw allow from "$meet_private_ip" to any port 8080 proto tcp',
                 "ufw default deny incoming"):
        check(rule in script, "firewall rule missing: %s" % rule)
    check('meet_private_ip="192.168.130.7"' in script, "the firewall source is not the meet host's private IP")
    check("DEBIAN_FRONTEND=noninteractive" in script and "apt-get install -y" in script,
          "jitsi-videobridge2 is not installed non-interactively")
    check(password not in script, "the bootstrap script must not contain the password")
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as handle:
        handle.write(script)
        handle.flush()
        result = subprocess.run(["sh", "-n", handle.name], capture_output=True, text=True)
        check(result.returncode == 0, "jvb-bootstrap is not valid sh: " + result.stderr.strip())
    check(["/usr/local/sbin/jvb-bootstrap"] in document.get("runcmd", []), "runcmd does not run jvb-bootstrap")


# DESIGN section 4: every key the config may hold (sections -> keys).
DESIGN_KEYS = {
    "xmpp": {"host", "port", "domain", "username", "password_file", "brewery", "nickname",
             "advertise_host", "tls", "verify_certificate", "ca_file"},
    "linode": {"api_url", "token_file", "region", "type", "image", "label_prefix", "tags",
               "authorized_keys", "root_pass_file", "private_ip", "firewall_id", "user_data_file"},
    "scaling": {"policy", "min_bridges", "max_bridges", "scale_up_threshold", "scale_down_threshold",
                "target_stress", "scale_up_periods", "scale_down_periods", "period_seconds",
                "scale_up_step", "scale_down_step", "cooldown_seconds", "boot_timeout_seconds",
                "drain_timeout_seconds"},
    "drain": {"url"},
    "metrics": {"listen"},
    "control": {"socket"},
    "simulation": {"capacity_participants", "boot_seconds", "start"},
    "schedule": None,  # free-form, validated by the agent
    "state_file": None,
    "dry_run": None,
}


def check_config_keys(config):
    for key, value in config.items():
        if not check(key in DESIGN_KEYS, "config.json: key '%s' is not in DESIGN section 4" % key):
            continue
        allowed = DESIGN_KEYS[key]
        if allowed is not None and check(isinstance(value, dict), "config.json: '%s' must be an object" % key):
            for sub in value:
                check(sub in allowed, "config.json: key '%s.%s' is not in DESIGN section 4" % (key, sub))


def test_config(repo, binary):
    password = "Pw" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory() as out_dir:
        render(repo, out_dir, password)
        text = open(os.path.join(out_dir, "config.json")).read()
        render(repo, out_dir, password, ["jvb_cluster_size=3", "jvb_autoscaler_max_bridges=7"])
        text3 = open(os.path.join(out_dir, "config.json")).read()
    try:
        config = json.loads(text)
        config3 = json.loads(text3)
    except json.JSONDecodeError as error:
        raise SystemExit("config.json is not valid JSON: %s" % error)
    check_config_keys(config)
    vars_example = yaml.safe_load(open(os.path.join(repo, "deploy/ansible/group_vars/jitsi/vars.example")))
    secrets_example = yaml.safe_load(open(os.path.join(repo, "deploy/ansible/group_vars/jitsi/secret_vars.example")))
    scaling = config.get("scaling", {})
    check(scaling.get("min_bridges") == vars_example["jvb_cluster_size"],
          "min_bridges %r is not jvb_cluster_size %r" % (scaling.get("min_bridges"), vars_example["jvb_cluster_size"]))
    check(config3.get("scaling", {}).get("min_bridges") == 3, "min_bridges does not follow jvb_cluster_size=3")
    check(config3.get("scaling", {}).get("max_bridges") == 7, "max_bridges does not follow jvb_autoscaler_max_bridges")
    linode = config.get("linode", {})
    check(linode.get("region") == vars_example["region"], "linode.region is not the guide's region")
    check(linode.get("type") == vars_example["jvb_type"], "linode.type is not the guide's jvb_type")
    check(linode.get("image") == vars_example["image"], "linode.image is not the guide's image")
    check(set(vars_example["linode_tags"]) | {"jvb-autoscaler"} == set(linode.get("tags", [])),
          "linode.tags must be linode_tags + jvb-autoscaler, got %r" % linode.get("tags"))
    check(linode.get("authorized_keys") == vars_example["ssh_keys"], "authorized_keys are not the guide's ssh_keys")
    check(config.get("metrics", {}).get("listen", "").startswith("127.0.0.1:"), "metrics must listen on 127.0.0.1 only")
    check(config.get("control", {}).get("socket", "").startswith("/run/jvb-autoscaler/"),
          "the control socket must be in the RuntimeDirectory /run/jvb-autoscaler")
    check(config.get("xmpp", {}).get("advertise_host") == "192.168.130.7",
          "xmpp.advertise_host must be the meet host's private IP")
    for name, value in secrets_example.items():
        check(str(value) not in text, "config.json contains the secret '%s'" % name)
    check(password not in text, "config.json contains the bridges' XMPP password")

    if binary and os.path.exists(binary):
        # The real loader: point the secret files at temporary ones and validate.
        with tempfile.TemporaryDirectory() as tmp:
            for key_path, name in ((("linode", "token_file"), "token"), (("xmpp", "password_file"), "xmpp"),
                                   (("linode", "root_pass_file"), "root"), (("linode", "user_data_file"), "ud")):
                path = os.path.join(tmp, name)
                with open(path, "w") as handle:
                    handle.write("placeholder-secret")
                config[key_path[0]][key_path[1]] = path
            config_path = os.path.join(tmp, "config.json")
            with open(config_path, "w") as handle:
                json.dump(config, handle)
            env = {k: v for k, v in os.environ.items() if k != "LINODE_TOKEN"}
            result = subprocess.run([binary, "check-config", "--config", config_path], capture_output=True,
                                    text=True, timeout=60, env=env)
            check(result.returncode == 0, "jvb-autoscaler check-config rejects the rendered config (exit %d): %s"
                  % (result.returncode, (result.stdout + result.stderr).strip()[:2000]))
            check("placeholder-secret" not in result.stdout + result.stderr, "check-config printed a secret")
            print("check-config: exit %d" % result.returncode)
    else:
        print("check-config: skipped, no jvb-autoscaler binary at %r" % binary)


# A host configuration shaped like the one jitsi-meet-prosody's postinst installs
# (/etc/prosody/conf.avail/<domain>.cfg.lua from prosody.cfg.lua-jvb.example, after its
# substitutions and the ssl block it adds to the auth host); written for this test.
JITSI_HOST_CONFIG = """plugin_paths = {{ "/usr/share/jitsi-meet/prosody-plugins/" }}
muc_mapper_domain_base = "{domain}";
unlimited_jids = {{
    "focus@auth.{domain}",
    "jvb@auth.{domain}"
}}

VirtualHost "{domain}"
    authentication = "jitsi-anonymous"
    modules_enabled = {{
        "bosh";
        "ping";
    }}
    main_muc = "conference.{domain}"

Component "conference.{domain}" "muc"
    storage = "memory"
    admins = {{ "focus@auth.{domain}" }}

Component "internal.auth.{domain}" "muc"
    storage = "memory"
    modules_enabled = {{
        "ping";
    }}
    admins = {{ "focus@auth.{domain}", "jvb@auth.{domain}" }}

VirtualHost "auth.{domain}"
    ssl = {{
        key = "/etc/prosody/certs/auth.{domain}.key";
        certificate = "/etc/prosody/certs/auth.{domain}.crt";
    }}
    modules_enabled = {{
        "limits_exception";
    }}
    authentication = "internal_hashed"

Component "focus.{domain}" "client_proxy"
    target_address = "focus@auth.{domain}"
"""


def prosody_view(repo, path, host):
    """(unlimited jids, modules) of `host` as Prosody's parser reads `path`, or None without Prosody."""
    lua = shutil.which("lua5.4")
    if not lua or not os.path.exists("/usr/lib/prosody/core/configmanager.lua"):
        return None
    result = subprocess.run([lua, os.path.join(repo, "tests/deploy/prosody_config.lua"), path, host],
                            capture_output=True, text=True, timeout=30)
    if not check(result.returncode == 0, "Prosody cannot parse the configuration: " + result.stderr.strip()):
        return set(), set()
    lines = [line.split(" ", 1) for line in result.stdout.splitlines() if " " in line]
    return ({v for k, v in lines if k == "unlimited"}, {v for k, v in lines if k == "module"})


def test_prosody(repo):
    domain = "203-0-113-10.ip.linodeusercontent.com"  # default_dns of render.yml
    auth = "auth." + domain
    with tempfile.TemporaryDirectory() as out_dir:
        fixture = os.path.join(out_dir, "meet.cfg.lua")
        with open(fixture, "w") as handle:
            handle.write(JITSI_HOST_CONFIG.format(domain=domain))
        before = prosody_view(repo, fixture, auth)
        render(repo, out_dir, "Pw" + secrets.token_hex(12), ["prosody_fixture=" + fixture])
        once = open(fixture).read()
        render(repo, out_dir, "Pw" + secrets.token_hex(12), ["prosody_fixture=" + fixture])
        twice = open(fixture).read()
        after = prosody_view(repo, fixture, auth)
        main_host = prosody_view(repo, fixture, domain)
    ours = {"autoscaler@" + auth, "jvb-cluster@" + auth}
    check(once == twice, "the Prosody limits tasks are not idempotent (a second run changed the file)")
    check(once.count("JVB-AUTOSCALER UNLIMITED JIDS") == 2, "the exemption block is not in the file exactly once")
    block_at = once.find("JVB-AUTOSCALER UNLIMITED JIDS")
    check(once.rfind('VirtualHost "' + auth + '"', 0, block_at) > once.rfind("Component ", 0, block_at),
          "the exemption block is not inside VirtualHost \"%s\"" % auth)
    for jid in ours:
        check('"%s"' % jid in once, "%s is not exempted from mod_limits" % jid)
    if after is None:
        print("prosody: Prosody is not installed, parsed check skipped (textual checks only)")
    else:
        jids, modules = after
        check(before[0] == {"focus@" + auth, "jvb@" + auth}, "fixture: unexpected Jitsi list %s" % sorted(before[0]))
        # What mod_limits (Prosody 0.12) and mod_limits_exception see for the auth host.
        check(jids == ours | {"focus@" + auth, "jvb@" + auth},
              "Prosody reads unlimited_jids for %s as %s; expected Jitsi's focus and jvb plus %s"
              % (auth, sorted(jids), sorted(ours)))
        check("limits_exception" in modules, "the auth host lost Jitsi's limits_exception module")
        check(not (ours & main_host[0]), "our accounts must be exempted on the auth host only")
        print("prosody: unlimited_jids on %s as Prosody reads them: %s" % (auth, ", ".join(sorted(jids))))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("cloud-init", "config", "prosody"):
        raise SystemExit("usage: render_test.py cloud-init|config|prosody REPO [BINARY]")
    repo = os.path.abspath(sys.argv[2])
    if sys.argv[1] == "cloud-init":
        test_cloud_init(repo)
    elif sys.argv[1] == "prosody":
        test_prosody(repo)
    else:
        test_config(repo, sys.argv[3] if len(sys.argv) > 3 else "")
    for problem in PROBLEMS:
        sys.stderr.write("FAIL: %s\n" % problem)
    print("%d problem(s)" % len(PROBLEMS))
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
