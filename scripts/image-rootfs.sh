#!/bin/sh
# mmdebstrap's customize hook for scripts/build-image.sh (the same steps as deploy/container/Containerfile's
# build stages): Node's binary, the packed prouter with the runtime dependencies package-lock.json pins, the
# `prouter` user and its data folder, in the root filesystem "$1". Inputs come from build-image.sh's environment.
set -eu
root="$1"
: "${NODE_TGZ:?}" "${PROUTER_TGZ:?}" "${PROUTER_LOCK:?}" "${PROUTER_UID:?}"
tar -xzf "$NODE_TGZ" -C "$root/usr/local/bin" --strip-components=2 package/bin/node
app="$root/usr/local/lib/prouter"
rm -rf "$app" && mkdir -p "$app"
tar -xzf "$PROUTER_TGZ" -C "$app" --strip-components=1
cp "$PROUTER_LOCK" "$app/package-lock.json"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --silent && rm package-lock.json)
chmod 0755 "$app/dist/cli/main.js" # a bin of the root package: npm ci links none
ln -s ../lib/prouter/dist/cli/main.js "$root/usr/local/bin/prouter"
echo "prouter:x:$PROUTER_UID:$PROUTER_UID:PRouter:/var/lib/prouter:/usr/sbin/nologin" >>"$root/etc/passwd"
echo "prouter:x:$PROUTER_UID:" >>"$root/etc/group"
install -d -m 0700 -o "$PROUTER_UID" -g "$PROUTER_UID" "$root/var/lib/prouter"
chroot "$root" /usr/local/bin/prouter --help >/dev/null # Node finds its libraries; the package loads
