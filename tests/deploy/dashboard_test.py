#!/usr/bin/env python3
"""The Grafana dashboard is valid JSON, has a panel query for every metric of DESIGN section 6 and
of the lifecycle/provisioning helpers (issues 15, 16), and shows every bridge state by name."""
import json
import sys

METRICS = ["bridges", "bridge_stress", "bridge_participants", "cluster_stress", "desired_bridges",
           "min_bridges", "max_bridges", "paused", "override_active", "scaling_actions_total",
           "linode_requests_total", "linode_request_duration_seconds", "xmpp_connected",
           "xmpp_reconnects_total", "decision_duration_seconds", "build_info",
           # issue 15 (bridge lifecycle) and issue 16 (provisioning safety)
           "drain_timeouts_total", "creation_suspended", "consecutive_failed_boots", "preflight_ok",
           "state_file_ok"]
# jvb_autoscaler_bridges{state}: every lifecycle state must have its own query.
STATES = ["provisioning", "ready", "draining", "shutting_down", "deleting", "failed", "unhealthy", "lost",
          "unmanaged"]
HISTOGRAMS = {"linode_request_duration_seconds", "decision_duration_seconds"}


def main(path):
    try:
        dashboard = json.load(open(path))
    except (OSError, json.JSONDecodeError) as error:
        print("FAIL: %s is not valid JSON: %s" % (path, error))
        return 1
    exprs = [t.get("expr", "") for p in dashboard.get("panels", []) for t in p.get("targets", [])]
    problems = []
    for metric in METRICS:
        name = "jvb_autoscaler_" + metric + ("_bucket" if metric in HISTOGRAMS else "")
        if not any(name + "{" in e or name + "[" in e or e.endswith(name) for e in exprs):
            problems.append("no panel queries " + name)
    for state in STATES:
        if not any("jvb_autoscaler_bridges{" in e and 'state="%s"' % state in e for e in exprs):
            problems.append("no panel shows bridges in state " + state)
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append("panel ids are not unique")
    for p in dashboard.get("panels", []):
        if not p.get("title") or "gridPos" not in p:
            problems.append("panel %r lacks a title or gridPos" % p.get("id"))
    for problem in problems:
        print("FAIL: " + problem)
    print("%d panels, %d problem(s)" % (len(ids), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
