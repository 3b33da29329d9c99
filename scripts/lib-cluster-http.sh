# Shared by scripts/test-compose.sh and scripts/test-hosts.sh (sourced): polling
# and key-value checks against a gateway at $URL. The caller defines say, fail
# and on_timeout (what to print when a wait runs out).

wait_for() { # what, seconds, command...: runs command every 0.5 s until it succeeds
  local what=$1 secs=$2; shift 2
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  on_timeout
  fail "$what within ${secs}s"
}

healthy() { curl -sf --max-time 2 "$URL/health"; }

put() { # key value: retried on 503/504 and connection errors, up to 30 s
  local code
  for ((i = 0; i < 60; i++)); do
    code=$(curl -s --max-time 12 -o /dev/null -w '%{http_code}' -XPUT "$URL/kv/$1" -H 'content-type: application/json' -d "{\"value\":\"$2\"}" || true)
    [[ $code == 200 ]] && return 0
    sleep 0.5
  done
  fail "PUT /kv/$1 answered $code for 30 s"
}

value_of() { # key: its value, read through the gateway (empty if the read fails)
  curl -sf --max-time 12 "$URL/kv/$1" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).value))" || true
}

check_all() { # prefix n: keys prefix-0..prefix-(n-1) read back as value-0..; a failed read is retried for 10 s
  local bad=0 v
  for ((k = 0; k < $2; k++)); do
    for ((i = 0; i < 20; i++)); do v=$(value_of "$1-$k"); [[ -n $v ]] && break; sleep 0.5; done
    [[ $v == "value-$k" ]] || { echo "$1-$k read '$v'" >&2; bad=$((bad + 1)); }
  done
  [[ $bad == 0 ]] || fail "$bad of $2 keys did not read back"
}

store_field() { # js-condition on the stores of GET /admin/stores, e.g. "st.every(x => x.ranges > 0)": exit 0 if true
  curl -sf --max-time 5 "$URL/admin/stores" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const st=JSON.parse(s).stores;process.exit(($1)?0:1)})"
}
