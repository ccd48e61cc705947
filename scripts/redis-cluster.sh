#!/usr/bin/env bash
# A throw-away 3-primary Redis Cluster on 127.0.0.1 for the cluster test run and for trying
# kai-jobs against a cluster by hand. No replicas, no persistence.
#
#   scripts/redis-cluster.sh start  [base-port]   start (or find running) and print the env lines
#   scripts/redis-cluster.sh stop   [base-port]   stop the nodes and remove their directory
#   scripts/redis-cluster.sh status [base-port]   print each node's cluster_state; exit 1 unless all ok
#   scripts/redis-cluster.sh env    [base-port]   print REDIS_URL and REDIS_CLUSTER_NODES for `eval`
#
# The nodes listen on base-port, base-port+1, base-port+2 (default 7101-7103) and keep their
# pid files, logs and nodes.conf in ${TMPDIR:-/tmp}/kai-jobs-redis-cluster-<base-port>.
# Every command is idempotent: start on a running cluster only checks it, stop on a stopped
# one does nothing. Only processes whose pid files this script wrote are ever signalled.
set -euo pipefail

command="${1:-}"
base_port="${2:-${KAI_CLUSTER_BASE_PORT:-7101}}"
host=127.0.0.1
nodes=3

usage() {
  echo "usage: $0 start|stop|status|env [base-port]" >&2
  exit 2
}
[[ "$base_port" =~ ^[0-9]+$ ]] && ((base_port > 0 && base_port + nodes - 1 < 65536)) || usage

dir="${TMPDIR:-/tmp}/kai-jobs-redis-cluster-$base_port"
ports=()
for ((i = 0; i < nodes; i++)); do ports+=($((base_port + i))); done

log() { printf 'redis-cluster: %s\n' "$*" >&2; }
cli() { redis-cli -h "$host" -p "$1" "${@:2}"; }

# The pid of our node on `port`, if its pid file names a live process.
node_pid() {
  local file="$dir/redis-$1.pid" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# A field of `cluster info` on `port` (empty when the node does not answer).
info_field() { { cli "$1" cluster info 2>/dev/null || true; } | tr -d '\r' | sed -n "s/^$2://p"; }
cluster_state() { info_field "$1" cluster_state; }
known_nodes() { info_field "$1" cluster_known_nodes; }

all_ok() {
  local port
  for port in "${ports[@]}"; do
    [ "$(cluster_state "$port")" = ok ] && [ "$(known_nodes "$port")" = "$nodes" ] || return 1
  done
}

print_env() {
  local list=() port
  for port in "${ports[@]}"; do list+=("$host:$port"); done
  echo "REDIS_URL=redis://$host:${ports[0]}"
  echo "REDIS_CLUSTER_NODES=$(IFS=,; echo "${list[*]}")"
}

start_node() {
  local port="$1"
  if node_pid "$port" >/dev/null; then return 0; fi
  if cli "$port" ping >/dev/null 2>&1; then
    log "port $port already answers and is not a node of this script; choose another base port"
    exit 1
  fi
  rm -f "$dir/nodes-$port.conf"
  redis-server --port "$port" --bind "$host" --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log" \
    --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 5000 \
    --save '' --appendonly no
  local _
  for _ in $(seq 1 100); do
    cli "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  log "node on port $port did not answer; see $dir/redis-$port.log"
  exit 1
}

start() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || {
    log "redis-server and redis-cli are needed (Debian: redis-server, redis-tools)"
    exit 1
  }
  mkdir -p "$dir"
  local port
  for port in "${ports[@]}"; do start_node "$port"; done
  if ! all_ok; then
    # Create the cluster only when no node has slots yet; a half-made one is an error to look at.
    local assigned
    assigned="$(info_field "${ports[0]}" cluster_slots_assigned)"
    if [ "$assigned" = 0 ]; then
      local addresses=()
      for port in "${ports[@]}"; do addresses+=("$host:$port"); done
      log "creating the cluster on ${addresses[*]}"
      redis-cli --cluster create "${addresses[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || {
        cat "$dir/create.log" >&2
        exit 1
      }
    fi
    local _
    for _ in $(seq 1 200); do
      all_ok && break
      sleep 0.05
    done
    all_ok || {
      log "the cluster did not reach cluster_state:ok on every node"
      status >&2 || true
      exit 1
    }
  fi
  log "cluster ok on ${ports[*]} (dir $dir)"
  print_env
}

stop() {
  local port pid _
  for port in "${ports[@]}"; do
    pid="$(node_pid "$port")" || continue
    kill "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$dir"
}

status() {
  local port state pid failed=0
  for port in "${ports[@]}"; do
    pid="$(node_pid "$port" || echo '-')"
    state="$(cluster_state "$port")"
    echo "$host:$port pid=$pid cluster_state=${state:-down} known_nodes=$(known_nodes "$port")"
    [ "$state" = ok ] || failed=1
  done
  return "$failed"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  *) usage ;;
esac
