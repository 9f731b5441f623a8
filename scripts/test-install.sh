#!/bin/sh
# `prouter` as operators install it: pack the project, install the tarball globally into an empty prefix with
# an empty HOME, and run the installed command outside the source tree (help, keys init and its 0600 key files,
# the demo with i2pd provisioned into that HOME);
# the systemd unit it ships verifies against it (systemd-analyze: `scripts/ensure-tools.sh --browser`).
set -eu
root="$(pwd)"
work="$(mktemp -d /tmp/prouter-install-XXXXXX)"
trap 'rm -rf "$work"' EXIT
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
mkdir -p "$work/prefix" "$work/home"
HOME="$work/home" npm i -g --silent --no-audit --no-fund --prefix "$work/prefix" "$work/$tarball"
prouter="$work/prefix/bin/prouter"
cd "$work/home"
export HOME="$work/home"
"$prouter" --help | grep -q 'Usage: prouter'
"$prouter" keys init --dir "$work/keys" --json | grep -q '"workerKey":"0x'
for f in "$work/keys/worker.key" "$work/keys/i2p.key"; do
  [ "$(stat -c %a "$f")" = 600 ] || { echo "$f is not mode 0600"; exit 1; }
done
"$prouter" router provision --help >/dev/null
# the demo from the installed package, as a new operator runs it: i2pd provisioned into the empty HOME's cache
# (Debian's archive), then the demo network where no packet can leave loopback; alice must reach charlie by key
# and charlie's service be told it was alice (~2 min)
"$prouter" router provision >/dev/null
sh "$root/scripts/isolated.sh" "$prouter" demo --once >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }
grep -q '= alice: verified by her signed binding' "$work/demo.log" || { cat "$work/demo.log"; exit 1; }
[ ! -e "$work/prefix/lib/node_modules/prouter/src" ] || { echo 'the package ships the TypeScript sources'; exit 1; }
# the systemd unit it ships, verified with ExecStart at this installed prouter (verify wants the binary to exist)
unit="$work/prefix/lib/node_modules/prouter/deploy/systemd/prouter.service"
sed "s|^ExecStart=/usr/local/bin/prouter |ExecStart=$prouter |" "$unit" >"$work/prouter.service"
verify="$(systemd-analyze verify "$work/prouter.service" 2>&1)" || true
[ -z "$verify" ] || { echo "systemd-analyze verify: $verify"; exit 1; }
echo "installed from $tarball ($(du -sh "$work/prefix/lib/node_modules/prouter" | cut -f1) with its dependencies): prouter runs outside $root"
