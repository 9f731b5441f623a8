#!/bin/sh
# System tools the tests and the demo need (`--browser`: and Chromium, for the tests). Installed with apt-get when missing and we are root;
# otherwise named, so the operator knows what to install.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need ip iproute2
need unshare util-linux
need dpkg-deb dpkg
need nft nftables
# With --browser (the tests): Debian's browser for the status page test (playwright-core drives it; it never
# downloads a browser). The demo and the benchmarks do not need it.
if [ "${1:-}" = --browser ] && [ ! -x /usr/bin/chromium ]; then missing="$missing chromium"; fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$missing" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "missing tools; install these packages:$missing" >&2
  exit 1
fi
