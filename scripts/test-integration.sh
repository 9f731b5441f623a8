#!/bin/sh
# Integration tests: real i2pd routers, run where no packet can leave loopback. i2pd is provisioned first
# (that step needs the package archive), then the tests run isolated, one file at a time (each file brings
# up its own testnet; two cores cannot run two well).
set -eu
cd "$(dirname "$0")/.."
node dist/cli/main.js router provision
files=$(find test/integration -name '*.test.ts' | sort)
exec sh scripts/isolated.sh node --import tsx --test --test-concurrency=1 --test-timeout=600000 $files
