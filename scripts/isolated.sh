#!/bin/sh
# Run a command in a fresh network namespace whose only interface is loopback: nothing it starts (i2pd
# included) can send a packet off this machine. Root uses a plain network namespace; other users a user
# namespace as well (needs unprivileged user namespaces).
set -eu
if [ "$(id -u)" = 0 ]; then flags="--net"; else flags="--net --map-root-user"; fi
exec unshare $flags sh -c 'ip link set lo up && exec "$@"' isolated "$@"
