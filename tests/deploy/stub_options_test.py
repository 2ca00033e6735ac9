#!/usr/bin/env python3
"""The offline stand-ins of linode.cloud declare only options the real modules document.

  stub_options_test.py REPO

Compares, for every stub module under stub_collections/ansible_collections/linode/cloud, its
ARGUMENT_SPEC (what ansible-lint and the syntax check validate task arguments against) and its
DOCUMENTATION options with tests/deploy/linode_cloud_options.yml, the list taken from the real
module's documentation at the version pinned in deploy/ansible/requirements.yml. Every stub
option must exist in the real module with the same type and required flag, its choices must be
real choices, and its sub-options must be real sub-options (recursively). The pin in
requirements.yml must be the version the list was taken from.
Exit 0 on success; one line per problem on stderr and exit 1 otherwise.
"""
import importlib.util
import os
import sys

import yaml

PROBLEMS = []


def check(condition, message):
    if not condition:
        PROBLEMS.append(message)
    return condition


def compare(path, stub_options, real_options, what):
    """stub_options: name -> dict(type, required, choices, options|suboptions)."""
    for name, stub in stub_options.items():
        where = "%s: %s.%s" % (what, path, name) if path else "%s: %s" % (what, name)
        real = real_options.get(name)
        if not check(real is not None, "%s is not an option of the real module" % where):
            continue
        check(stub.get("type", "str") == real.get("type"),
              "%s has type %s, the real module documents %s" % (where, stub.get("type", "str"), real.get("type")))
        check(bool(stub.get("required", False)) == bool(real.get("required", False)),
              "%s: required=%s, the real module documents required=%s"
              % (where, bool(stub.get("required")), bool(real.get("required"))))
        if stub.get("choices") is not None:
            check(set(stub["choices"]) <= set(real.get("choices") or []),
                  "%s: choices %s are not all among the real choices %s" % (where, stub["choices"], real.get("choices")))
        if "default" in stub and "default" in real:
            check(stub["default"] == real["default"],
                  "%s: default %r, the real module documents %r" % (where, stub["default"], real["default"]))
        sub = stub.get("options") or stub.get("suboptions")
        if sub:
            real_sub = real.get("suboptions")
            if check(real_sub is not None,
                     "%s declares sub-options but linode_cloud_options.yml lists none for it" % where):
                compare((path + "." if path else "") + name, sub, real_sub, what)


def load_stub(path):
    # The stubs import AnsibleModule only to run; the interpreter CMake found may have no
    # ansible package, so stand in for it while reading the module-level declarations.
    if "ansible.module_utils.basic" not in sys.modules:
        try:
            import ansible.module_utils.basic  # noqa: F401
        except ImportError:
            import types
            for name in ("ansible", "ansible.module_utils", "ansible.module_utils.basic"):
                sys.modules[name] = types.ModuleType(name)
            sys.modules["ansible.module_utils.basic"].AnsibleModule = None
    spec = importlib.util.spec_from_file_location("stub_" + os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: stub_options_test.py REPO")
    repo = os.path.abspath(sys.argv[1])
    listed = yaml.safe_load(open(os.path.join(repo, "tests/deploy/linode_cloud_options.yml")))
    requirements = yaml.safe_load(open(os.path.join(repo, "deploy/ansible/requirements.yml")))
    pins = {c["name"]: c.get("version") for c in requirements.get("collections", [])}
    check(pins.get(listed["collection"]) is not None,
          "deploy/ansible/requirements.yml does not pin %s" % listed["collection"])
    check(str(pins.get(listed["collection"])) == str(listed["version"]),
          "requirements.yml pins %s %s but linode_cloud_options.yml was taken from %s"
          % (listed["collection"], pins.get(listed["collection"]), listed["version"]))

    modules_dir = os.path.join(repo, "tests/deploy/stub_collections/ansible_collections/linode/cloud/plugins/modules")
    stubs = sorted(f[:-3] for f in os.listdir(modules_dir) if f.endswith(".py") and not f.startswith("_"))
    check(stubs, "no stub modules in %s" % modules_dir)
    for name in stubs:
        real = listed["modules"].get(name)
        if not check(real is not None, "stub %s is not a module listed in linode_cloud_options.yml" % name):
            continue
        module = load_stub(os.path.join(modules_dir, name + ".py"))
        spec = getattr(module, "ARGUMENT_SPEC", None)
        if check(isinstance(spec, dict), "stub %s has no module-level ARGUMENT_SPEC" % name):
            compare("", spec, real["options"], "%s argument spec" % name)
        documented = yaml.safe_load(module.DOCUMENTATION).get("options", {})
        compare("", documented, real["options"], "%s DOCUMENTATION" % name)
        check(set(documented) == set(spec or {}),
              "stub %s: DOCUMENTATION and ARGUMENT_SPEC declare different options: %s"
              % (name, sorted(set(documented) ^ set(spec or {}))))
        print("%s: %d stub options checked against %d documented options of linode.cloud %s"
              % (name, len(spec or {}), len(real["options"]), listed["version"]))

    for problem in PROBLEMS:
        sys.stderr.write("FAIL: %s\n" % problem)
    print("%d problem(s)" % len(PROBLEMS))
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
