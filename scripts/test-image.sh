#!/bin/sh
# The container image end to end (docs/deploy.md): build it (scripts/build-image.sh: the package archives
# and the npm registry are needed, so before isolating), provision the host's i2pd for the testnet, then run
# test/container/ where no packet can leave loopback. Root (CI runs as root): the test chowns the volume.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo 'test-image: run as root' >&2; exit 1; }
t0=$(date +%s)
image="$(sh scripts/build-image.sh)"
t1=$(date +%s)
echo "test-image: $image ready in $((t1 - t0)) s" >&2
node dist/cli/main.js router provision >/dev/null
PROUTER_IMAGE="$image" sh scripts/isolated.sh node --import tsx --test --test-timeout=1200000 \
  $(find test/container -name '*.test.ts' | sort)
echo "test-image: tested in $(($(date +%s) - t1)) s" >&2
