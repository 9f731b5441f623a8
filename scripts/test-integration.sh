#!/bin/sh
# Integration tests: real i2pd routers, run where no packet can leave loopback. i2pd is provisioned first
# (that step needs the package archive), then the tests run isolated, one file at a time (each file brings
# up its own testnet; two cores cannot run two well). TAP goes to stdout and to a log; if anything failed,
# the failures are printed again at the end (a failed hook's error would be lost far above it otherwise).
set -eu
cd "$(dirname "$0")/.."
node dist/cli/main.js router provision
files=$(find test/integration -name '*.test.ts' | sort)
log=$(mktemp -t prouter-integration-XXXXXX.tap)
status=0
sh scripts/isolated.sh node --import tsx --test --test-concurrency=1 --test-timeout=600000 \
  --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$log" $files || status=$?
if [ "$status" != 0 ]; then node --import tsx scripts/tap-failures.ts "$log"; fi
rm -f "$log"
exit "$status"
