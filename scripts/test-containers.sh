#!/usr/bin/env bash
# `pnpm test:containers`: builds the project's image on the local base image and runs the compose
# stack tests (test/containers). Uses the engine DOCKER_HOST names (.ci/run starts its own).
#   1. scripts/container-base-image.sh — the base from Debian and npm packages (cached)
#   2. docker build --build-arg NODE_IMAGE=<that base> -t kai-jobs:local . — the image
#      docker-compose.yml names (its build cache makes an unchanged rebuild take seconds)
#   3. vitest run --config vitest.containers.config.ts
# Prints the image's size and how long `kai-jobs --help` takes in it (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

if ! docker info >/dev/null 2>&1; then
  echo "test:containers: no Docker engine answers${DOCKER_HOST:+ at $DOCKER_HOST} (.ci/run starts one; or set DOCKER_HOST)" >&2
  exit 2
fi

log "base image (scripts/container-base-image.sh)"
base="$(scripts/container-base-image.sh)"

log "docker build --build-arg NODE_IMAGE=$base -t kai-jobs:local ."
started=$(date +%s)
# Host network: the engine may run without a bridge (--bridge=none), and the build installs from the registry.
docker build -q --network host --build-arg "NODE_IMAGE=$base" -t kai-jobs:local . >/dev/null
log "image built in $(($(date +%s) - started)) s; size $(docker image inspect kai-jobs:local --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"
start_ms() { date +%s%N | cut -c1-13; }
before=$(start_ms)
docker run --rm --network none kai-jobs:local --help >/dev/null
log "docker run kai-jobs:local --help: $(($(start_ms) - before)) ms (container start to exit)"

log "vitest run --config vitest.containers.config.ts"
exec pnpm exec vitest run --config vitest.containers.config.ts "$@"
