#!/bin/sh
# System tools the tests and the demo need (`--browser`: and Chromium and systemd-analyze, for the tests;
# `--image`: podman and mmdebstrap, for scripts/build-image.sh). Installed with apt-get when missing and we are
# root; otherwise named, so the operator knows what to install.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need ip iproute2
need unshare util-linux
need dpkg-deb dpkg
need nft nftables
for flag in "$@"; do
  case "$flag" in
    # the tests: Debian's browser for the status page test (playwright-core drives it; it never downloads a
    # browser), and systemd-analyze to verify deploy/systemd/prouter.service. The demo and benchmarks need neither.
    --browser)
      [ -x /usr/bin/chromium ] || missing="$missing chromium"
      need systemd-analyze systemd
      ;;
    # the container image: built from Debian packages by mmdebstrap, run by podman (both in bookworm); runc
    # besides podman's crun, which refuses hosts with cgroup v1 and v2 mounted together (test/container/)
    --image)
      need podman podman
      need runc runc
      need mmdebstrap mmdebstrap
      ;;
    *) echo "ensure-tools: unknown flag $flag" >&2 && exit 2 ;;
  esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$missing" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "missing tools; install these packages:$missing" >&2
  exit 1
fi
