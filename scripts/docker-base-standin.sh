#!/usr/bin/env bash
# A local stand-in for the Dockerfile's base image (e.g. node:20-bookworm-slim)
# on a machine that reaches no image registry: a minimal Debian bookworm root
# filesystem (debootstrap, from Debian's mirror) holding this machine's own
# Node.js and npm, its CA bundle, and a "node" user (uid 1000, as in the
# official image), imported under the same tag. Elsewhere the official image
# is pulled instead.
set -euo pipefail
TAG=${1:?usage: docker-base-standin.sh IMAGE:TAG}
command -v debootstrap >/dev/null || { echo "docker-base-standin: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
ROOT=$(mktemp -d /tmp/raftshard-rootfs-XXXXXX)
trap 'rm -rf --one-file-system "$ROOT"' EXIT
echo "docker-base-standin: debootstrap bookworm (minbase) into $ROOT"
debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >/dev/null
NODE=$(command -v node)
cp "$NODE" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -r "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ROOT/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
# This machine's CA bundle: where egress goes through a TLS proxy, npm inside the build trusts it as npm here does.
CA=$(npm config get cafile 2>/dev/null || true)
[[ -f $CA ]] || CA=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$ROOT/etc/ssl/certs"
cp "$CA" "$ROOT/etc/ssl/certs/ca-certificates.crt"
chroot "$ROOT" groupadd --gid 1000 node
chroot "$ROOT" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$ROOT" /usr/local/bin/node --version
echo "docker-base-standin: importing as $TAG"
tar -C "$ROOT" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' -c 'ENV npm_config_cafile=/etc/ssl/certs/ca-certificates.crt' -c 'CMD ["node"]' - "$TAG" >/dev/null
echo "docker-base-standin: $TAG ready"
