#!/bin/sh
# systemd-analyze verify on deploy/systemd/jvb-autoscaler.service.
# verify insists that ExecStart's binary exists, and the binary is only installed
# on the target host: the unit is copied with that one path pointing at a stub
# executable, everything else is verified as written. Any diagnostic (unknown key,
# bad value) fails the test, not only a non-zero exit status.
set -eu
unit="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexit 0\n' > "$work/jvb-autoscaler"
chmod 0755 "$work/jvb-autoscaler"
grep -q '^ExecStart=/usr/local/bin/jvb-autoscaler run --config /etc/jvb-autoscaler/config.json$' "$unit" \
  || { echo "FAIL: ExecStart is not '/usr/local/bin/jvb-autoscaler run --config /etc/jvb-autoscaler/config.json'"; exit 1; }
sed "s#/usr/local/bin/jvb-autoscaler#$work/jvb-autoscaler#g" "$unit" > "$work/jvb-autoscaler.service"
if ! systemd-analyze verify --man=no "$work/jvb-autoscaler.service" > "$work/out" 2>&1; then
  cat "$work/out"; echo "FAIL: systemd-analyze verify exited non-zero"; exit 1
fi
if [ -s "$work/out" ]; then
  cat "$work/out"; echo "FAIL: systemd-analyze verify printed diagnostics"; exit 1
fi
# The properties the deployment relies on.
for line in Type=notify Restart=on-failure ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes \
    StateDirectory=jvb-autoscaler RuntimeDirectory=jvb-autoscaler User=jvb-autoscaler \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    LoadCredential=linode.token:/etc/jvb-autoscaler/linode.token \
    LoadCredential=xmpp.pass:/etc/jvb-autoscaler/xmpp.pass \
    LoadCredential=root.pass:/etc/jvb-autoscaler/root.pass; do
  grep -qxF "$line" "$unit" || { echo "FAIL: the unit lacks '$line'"; exit 1; }
done
echo "systemd-analyze verify: clean"
