#!/usr/bin/env bash
# npm run test:hosts: a multi-host cluster without Docker. Each process runs in
# a network namespace of its own, with its own address on a bridge that this
# script creates (10.77.0.0/24, namespaces rs-*), started with the same command
# lines as docker-compose.yml (listen on 0.0.0.0, advertise the host's address,
# PD members and addresses by host). It checks that the cluster serves across
# hosts, that it keeps serving while a store's namespace is cut off from the
# bridge, and that the store catches up once reconnected; then it stops its
# processes (by PID) and removes the namespaces and the bridge. Needs root and
# iproute2; skips (exit 0) with a message otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test:hosts: $*"; }
fail() { echo "test:hosts: FAILED: $*" >&2; exit 1; }

if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null; then
  say "skipped: needs root and iproute2 (ip netns) to create network namespaces"
  exit 0
fi
[[ -f dist/src/cli/main.js ]] || fail "dist/ is missing: run npm run build first"

NET=10.77.0
BRIDGE=rs-br0
HOSTS=(pd1:11 pd2:12 pd3:13 s1:21 s2:22 s3:23 gw:30)
DATA=$(mktemp -d /tmp/raftshard-hosts-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for h in "${HOSTS[@]}"; do ip netns del "rs-${h%%:*}" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  if [[ $FORWARD_RULE == 1 ]]; then iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || true; fi
  rm -rf "$DATA"
}
FORWARD_RULE=0
trap cleanup EXIT

say "creating bridge $BRIDGE ($NET.1/24) and ${#HOSTS[@]} namespaces"
ip link add "$BRIDGE" type bridge
ip addr add "$NET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
# Where bridged frames go through iptables (br_netfilter, loaded by Docker, whose FORWARD policy is DROP),
# let this bridge's own traffic through.
if [[ $(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo 0) == 1 ]] && command -v iptables >/dev/null; then
  iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  FORWARD_RULE=1
fi
for h in "${HOSTS[@]}"; do
  name=${h%%:*} addr=$NET.${h##*:}
  ip netns add "rs-$name"
  ip link add "rs-v-$name" type veth peer name eth0 netns "rs-$name"
  ip link set "rs-v-$name" master "$BRIDGE" up
  ip -n "rs-$name" addr add "$addr/24" dev eth0
  ip -n "rs-$name" link set eth0 up
  ip -n "rs-$name" link set lo up
done

# The command lines of docker-compose.yml, with hosts as namespaces.
PEERS="1=$NET.11:8081,2=$NET.12:8081,3=$NET.13:8081"
PDS="$NET.11:8081,$NET.12:8081,$NET.13:8081"
start() { # host, args...
  local host=$1; shift
  ip netns exec "rs-$host" env RAFTSHARD_LOG=warn node dist/src/cli/main.js "$@" >"$DATA/$host.log" 2>&1 &
  PIDS+=($!)
}
for i in 1 2 3; do start "pd$i" pd --id "$i" --listen 0.0.0.0:8081 --peers "$PEERS" --dir "$DATA/pd$i" --metrics 0.0.0.0:9081; done
for i in 1 2 3; do start "s$i" store --id "$i" --listen 0.0.0.0:8091 --advertise "$NET.2$i:8091" --pd "$PDS" --dir "$DATA/s$i" --metrics 0.0.0.0:9091; done
start gw gateway --listen 0.0.0.0:8080 --pd "$PDS"
URL="http://$NET.30:8080"

on_timeout() { for f in "$DATA"/*.log; do echo "--- $f"; tail -5 "$f"; done; }
# shellcheck source=scripts/lib-cluster-http.sh
source scripts/lib-cluster-http.sh
wait_for "GET $URL/health to answer 200" 120 healthy
say "cluster up across namespaces; stores as the PD lists them:"
curl -sf "$URL/admin/stores"; echo

say "writing 100 keys"
for ((k = 0; k < 100; k++)); do put "hosts-$k" "value-$k"; done
check_all hosts 100

# Cut off the store that leads the most ranges (once the PD knows the leaders): its link to the bridge goes down.
wait_for "the PD to learn the leaders" 30 store_field "st.some((x) => x.leaders > 0)"
VICTIM=$(curl -sf "$URL/admin/stores" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const st=JSON.parse(s).stores;st.sort((a,b)=>b.leaders-a.leaders);console.log(st[0].id)})")
say "cutting store $VICTIM's namespace off the network; writes go on"
ip link set "rs-v-s$VICTIM" down
for ((k = 100; k < 200; k++)); do put "hosts-$k" "value-$k"; done
check_all hosts 200
wait_for "store $VICTIM to be listed down" 30 store_field "st.find((x) => x.id === $VICTIM).state === 'down'"

say "reconnecting store $VICTIM"
ip link set "rs-v-s$VICTIM" up
wait_for "store $VICTIM to be up again" 60 store_field "st.find((x) => x.id === $VICTIM).state === 'up'"
# Proof that it caught up: it takes the lead of every range it holds, and every write reads back through it.
for r in $(curl -sf "$URL/admin/ranges" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).ranges.filter(r=>r.replicas.some(p=>p.store===$VICTIM)).map(r=>r.id).join(' ')))"); do
  curl -sf -XPOST "$URL/admin/transfer-leader" -H 'content-type: application/json' -d "{\"range\":$r,\"to\":$VICTIM}" >/dev/null || fail "transfer-leader of range $r to store $VICTIM"
done
check_all hosts 200
say "passed: served across 7 namespaces, kept serving with store $VICTIM cut off, and it caught up (it leads and serves every write) once reconnected"
