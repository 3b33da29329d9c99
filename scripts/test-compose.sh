#!/usr/bin/env bash
# npm run test:compose: docker-compose.yml, really run. Brings up the compose
# cluster (3 PD members, 3 stores, a gateway, named volumes), writes and reads
# through the gateway, kills a store container while writes go on, adds a 4th
# store service that gets ranges after `rebalance`, restarts everything and
# reads every write back, then removes containers, networks and volumes.
# The only traffic is this script's few hundred requests to the published
# gateway port on 127.0.0.1. Skips (exit 0) with a message when there is no
# Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test:compose: $*"; }
fail() { echo "test:compose: FAILED: $*" >&2; exit 1; }

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  say "skipped: no Docker engine here (docker info failed); install docker.io and start dockerd to run it"
  exit 0
fi
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); elif command -v docker-compose >/dev/null 2>&1; then COMPOSE=(docker-compose); else
  say "skipped: neither 'docker compose' nor 'docker-compose' is installed"
  exit 0
fi

PROJECT=raftshard-compose-test
PORT=${RAFTSHARD_HTTP_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
export RAFTSHARD_HTTP_PORT=$PORT
URL="http://127.0.0.1:$PORT"
dc() { "${COMPOSE[@]}" -p "$PROJECT" --profile extra "$@"; }
cleanup() {
  say "tearing down: containers, networks and volumes of project $PROJECT"
  dc down -v --remove-orphans >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The Dockerfile's base image; where no registry is reachable, a local stand-in under the same tag.
BASE=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -1)
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  say "base image $BASE is not here; building a local stand-in (scripts/docker-base-standin.sh)"
  scripts/docker-base-standin.sh "$BASE"
fi

say "building the image (docker build; npm ci inside needs the npm registry)"
docker build --network host -q -t raftshard:latest . >/dev/null

say "starting docker-compose.yml (project $PROJECT, gateway on $URL)"
dc up -d pd1 pd2 pd3 store1 store2 store3 gateway

on_timeout() { dc ps; dc logs --tail 30 || true; }
# shellcheck source=scripts/lib-cluster-http.sh
source scripts/lib-cluster-http.sh
wait_for "GET /health to answer 200" 180 healthy

say "writing 100 keys through the gateway"
for ((k = 0; k < 100; k++)); do put "compose-$k" "value-$k"; done
check_all compose 100

say "killing store2 (docker kill); writes go on"
dc kill store2 >/dev/null
for ((k = 100; k < 200; k++)); do put "compose-$k" "value-$k"; done
check_all compose 200
dc start store2 >/dev/null

say "starting a 4th store service (store4); it joins, and gets ranges after rebalance"
dc up -d store4
wait_for "4 stores up in /admin/stores" 120 store_field "st.filter((x) => x.state === 'up').length === 4"
# Several ranges, so that there is something to move.
for key in compose-3 compose-5 compose-7; do curl -sf -XPOST "$URL/admin/split" -H 'content-type: application/json' -d "{\"key\":\"$key\"}" >/dev/null || fail "split at $key"; done
curl -sf -XPOST "$URL/admin/rebalance" >/dev/null || fail "POST /admin/rebalance"
wait_for "every up store, store4 included, to hold ranges" 60 store_field "st.every((x) => x.state !== 'up' || x.ranges > 0)"
curl -sf "$URL/admin/stores"; echo

say "restarting everything (docker-compose stop, then up; the named volumes stay)"
dc stop >/dev/null
dc up -d pd1 pd2 pd3 store1 store2 store3 store4 gateway
wait_for "GET /health to answer 200 after the restart" 180 healthy
check_all compose 200
say "passed: 200 writes survived a store kill, a 4th store joined and took ranges, and a restart of everything"
