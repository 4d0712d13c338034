#!/usr/bin/env bash
# run.sh: `make bench`. Measures Portico the way its users will, against baselines started on
# the same machine in the same run (issue #7, docs/BENCHMARKS.md):
#   1 idle       15,000 WebSocket connections held: memory per connection, connect rate, and
#                the connect rate while already holding them (Portico, Nchan, bare lws echo)
#   2 push       one SigV4-signed POST @connections/{id} per connection for 10,000 connections,
#                1 and 16 in flight; posts/s, end-to-end p50/p99 (Portico, Nchan's HTTP publish
#                to a channel per connection)
#   3 broadcast  1,000 subscribers on one channel in several processes, 2,000 messages of
#                100 bytes; deliveries/s, server CPU per delivery, p50/p99, lost (Portico with
#                1 and 2 workers, Nchan)
#   4 echo       100 connections x 4 in flight, 64-byte messages through a MOCK route
#                (Portico, bare lws echo on lws's own loop)
#   5 http       wrk on a MOCK route and an HTTP_PROXY route (Portico with 1 and 2 workers,
#                nginx `return 200` and `proxy_pass` with a keep-alive upstream)
#   + issue #3   WebSocket messages through an HTTP_PROXY route vs a MOCK route
# Prints one table row per figure with its ratio to the baseline and whether the target is
# met; writes it to $OUT/table.md. Every server is started here on free ports and stopped
# here, by PID; every load run is bounded in count and time; the whole run stays under
# LIMIT_S seconds. PERF=SCENARIO (idle, push, broadcast, echo, http, proxyws) records
# `perf record -g` of Portico during that scenario into $OUT/perf.SCENARIO.KEY.*.
set -u
cd "$(dirname "$0")"

PORTICO=${PORTICO:-../../portico}
OUT=${OUT:-out/run}
LIMIT_S=${LIMIT_S:-570}
WORKERS=${WORKERS:-$(nproc)}      # Portico's main instance and nginx's worker_processes
IDLE_HALF=${IDLE_HALF:-7500}      # two loadgen processes hold 2 x IDLE_HALF
IDLE_MORE=${IDLE_MORE:-2000}      # then a third one connects this many more
PUSH_CONNS=${PUSH_CONNS:-10000}
SUBS=${SUBS:-1000}
SUB_PROCS=${SUB_PROCS:-2}
BCAST_MSGS=${BCAST_MSGS:-2000}
BCAST_SIZE=${BCAST_SIZE:-100}
PUB_INFLIGHT=${PUB_INFLIGHT:-4}
ECHO_CONNS=${ECHO_CONNS:-100}
ECHO_INFLIGHT=${ECHO_INFLIGHT:-4}
ECHO_SECS=${ECHO_SECS:-5}
HTTP_SECS=${HTTP_SECS:-5}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-64}
REPS=${REPS:-2}                   # rounds of scenarios 2-5 (interleaved); best run kept
PERF=${PERF:-}
SCENARIOS=${SCENARIOS:-"idle push broadcast echo http proxyws"}
AKID=AKIDEXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

BIN=bin
HZ=$(getconf CLK_TCK)
START_S=$SECONDS
SPIKE_LIMIT_S=$LIMIT_S
rm -rf "$OUT"
mkdir -p "$OUT/ng"
make -s all || { echo "bench: build failed" >&2; exit 1; }
[ -x "$PORTICO" ] || { echo "bench: no portico binary at $PORTICO (run make first)" >&2; exit 1; }
# A private copy: others may rebuild ./portico while this runs.
cp "$PORTICO" "$OUT/portico"
command -v nginx >/dev/null || { echo "bench: nginx missing (tools/install-deps.sh --bench)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk missing (tools/install-deps.sh --bench)" >&2; exit 1; }
NCHAN_SO=/usr/lib/nginx/modules/ngx_nchan_module.so
ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$NCHAN_SO" ] || { echo "bench: Nchan missing (libnginx-mod-nchan)" >&2; exit 1; }

. ./bench_lib.sh
PIDS=() # every process started here
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$((SECONDS - START_S))s] $*" >&2; }

# ---- Ports, processes, readings ----

declare -A USED_PORT
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        [ -n "${USED_PORT[$p]:-}" ] && continue
        ss -Htan "( sport = :$p )" | grep -q . && continue
        USED_PORT[$p]=1
        echo "$p"
        return 0
    done
    return 1
}

# port_up PORT SECONDS: wait until something listens there
port_up() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        ss -Htln "( sport = :$1 )" | grep -q . && return 0
        sleep 0.05
    done
    return 1
}

# The processes whose CPU and memory count for a server: nginx's master and its workers.
declare -A SPIDS
procs_of() { # PID: that process and its children
    echo "$1" $(ps -o pid= --ppid "$1" 2>/dev/null)
}
cpu_sum() { local t=0 p; for p; do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo $t; }
# Resident memory in kB: VmRSS for one process; for several (nginx) the sum of their Pss, so
# that shared memory (Nchan's store) is counted once.
mem_kb() {
    local t=0 p v
    if [ $# -eq 1 ]; then rss_kb "$1"; return; fi
    for p; do
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        t=$((t + ${v:-0}))
    done
    echo $t
}

# bg VAR CMD...: run CMD in the background, remember its PID in PIDS and in VAR
bg() {
    local var=$1
    shift
    "$@" &
    PIDS+=($!)
    printf -v "$var" '%s' "$!"
}

# run_lg NAME ARGS...: one loadgen run in the foreground (bounded by its --deadline)
run_lg() {
    local name=$1 pid rc
    shift
    bg pid $BIN/loadgen "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    wait "$pid"
    rc=$?
    [ $rc -eq 0 ] || log "loadgen $name exited $rc: $(head -c 400 "$OUT/$name.out")"
    return $rc
}

# perf_start SCENARIO KEY / perf_stop: a profile of the Portico behind KEY when PERF names
# this scenario, in $OUT/perf.SCENARIO.KEY.{data,txt,children.txt}
PERF_PID="" PERF_FILE=""
perf_start() {
    local pid
    pid=$(portico_pid "$2")
    [ "$PERF" = "$1" ] && [ -n "$pid" ] || return 0
    PERF_FILE="$OUT/perf.$1.$2"
    bg PERF_PID perf record -F 999 -g -o "$PERF_FILE.data" -p "$pid" >/dev/null 2>&1
    sleep 0.3
}
perf_stop() {
    [ -n "$PERF_PID" ] || return 0
    stop_pid "$PERF_PID" INT 10
    perf report -i "$PERF_FILE.data" --no-children --sort symbol --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9]' | head -40 >"$PERF_FILE.txt"
    perf report -i "$PERF_FILE.data" --children --sort symbol --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9]' | head -60 >"$PERF_FILE.children.txt"
    PERF_PID=""
}

# The Portico process a result key belongs to, or nothing (a baseline)
portico_pid() {
    case "$1" in
    portico1* | p1) echo "${SPIDS[p1]:-}" ;;
    portico* | p | proxyws*) echo "${SPIDS[p]:-}" ;;
    esac
}

# ---- Servers ----

P_PORT=$(free_port) P1_PORT=$(free_port) UP_PORT=$(free_port)
NG_OK=$(free_port) NG_PROXY=$(free_port) NG_NCHAN=$(free_port) NG_ECHO=$(free_port)
BARE_PORT=$(free_port)

# portico_config WORKERS PORT: the WebSocket APIs (echo, whoami, channels; management with
# AWS_IAM at /b and with NONE at /n/b; HTTP_PROXY message routes at /x/b and /y/b) and the HTTP
# API (/h/mock, /h/proxy)
portico_config() {
    cat <<EOF
{
  "workers": $1,
  "listen": [{ "host": "127.0.0.1", "port": $2 }],
  "credentials": [{ "accessKeyId": "$AKID", "secretAccessKey": "$SECRET" }],
  "apis": [
    { "name": "ws", "protocolType": "WEBSOCKET", "basePath": "/", "managementAuth": "AWS_IAM",
      "stages": { "b": {} },
      "integrations": {
        "echo": { "type": "MOCK", "response": { "body": "\$request.body" } },
        "whoami": { "type": "MOCK", "response": { "body": "\$context.connectionId" } },
        "join": { "type": "CHANNEL", "action": "subscribe", "channel": "\$request.body.room" }
      },
      "routes": { "\$default": { "integration": "echo", "routeResponse": true },
                  "whoami": { "integration": "whoami", "routeResponse": true },
                  "join": { "integration": "join", "routeResponse": true } } },
    { "name": "wsnone", "protocolType": "WEBSOCKET", "basePath": "/n", "managementAuth": "NONE",
      "stages": { "b": {} },
      "integrations": { "whoami": { "type": "MOCK", "response": { "body": "\$context.connectionId" } } },
      "routes": { "whoami": { "integration": "whoami", "routeResponse": true } } },
    { "name": "wsproxy", "protocolType": "WEBSOCKET", "basePath": "/x", "stages": { "b": {} },
      "integrations": { "up": { "type": "HTTP_PROXY", "uri": "http://127.0.0.1:$NG_ECHO/echo" } },
      "routes": { "\$default": { "integration": "up", "routeResponse": true } } },
    { "name": "wsproxyp", "protocolType": "WEBSOCKET", "basePath": "/y", "stages": { "b": {} },
      "integrations": { "up": { "type": "HTTP_PROXY", "uri": "http://127.0.0.1:$UP_PORT/echo" } },
      "routes": { "\$default": { "integration": "up", "routeResponse": true } } },
    { "name": "http", "protocolType": "HTTP", "basePath": "/h", "stages": { "\$default": {} },
      "integrations": { "ok": { "type": "MOCK", "response": { "statusCode": 200, "body": "ok" } },
                        "px": { "type": "HTTP_PROXY", "uri": "http://127.0.0.1:$NG_OK/" } },
      "routes": { "GET /mock": { "integration": "ok" }, "GET /proxy": { "integration": "px" } } }
  ]
}
EOF
}

upstream_config() { # the echo upstream for issue #3: a second Portico answering with MOCK
    cat <<EOF
{
  "listen": [{ "host": "127.0.0.1", "port": $UP_PORT }],
  "apis": [ { "name": "up", "protocolType": "HTTP", "basePath": "/", "stages": { "\$default": {} },
    "integrations": { "echo": { "type": "MOCK", "response": { "statusCode": 200, "body": "\$request.body" } } },
    "routes": { "POST /echo": { "integration": "echo" } } } ]
}
EOF
}

nginx_config() {
    local ng=$PWD/$OUT/ng echo_load="" echo_server=""
    if [ -f "$ECHO_SO" ]; then
        echo_load="load_module $ECHO_SO;"
        echo_server="server { listen 127.0.0.1:$NG_ECHO reuseport; location = /echo { echo_read_request_body; echo_request_body; } }"
    fi
    cat <<EOF
load_module $NCHAN_SO;
$echo_load
worker_processes $WORKERS;
daemon off;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
worker_rlimit_nofile 19999;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $ng/body;
  proxy_temp_path $ng/proxy;
  fastcgi_temp_path $ng/fastcgi;
  uwsgi_temp_path $ng/uwsgi;
  scgi_temp_path $ng/scgi;
  keepalive_requests 1000000;
  nchan_shared_memory_size 256M;
  upstream ok { server 127.0.0.1:$NG_OK; keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$NG_OK reuseport; location / { return 200 "ok"; } }
  server { listen 127.0.0.1:$NG_PROXY reuseport;
           location / { proxy_pass http://ok; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:$NG_NCHAN reuseport;
           location ~ ^/sub/(.+)\$ { nchan_subscriber websocket; nchan_channel_id \$1;
                                    nchan_subscriber_first_message newest; }
           location ~ ^/pub/(.+)\$ { nchan_publisher http; nchan_channel_id \$1; } }
  $echo_server
}
EOF
}

start_portico() { # NAME CONFIG-TEXT: sets SPIDS[NAME]
    local name=$1 pid
    printf '%s\n' "$2" >"$OUT/$name.json"
    bg pid "$OUT/portico" "$OUT/$name.json" >"$OUT/$name.log" 2>&1
    if ! wait_for "$OUT/$name.log" 'portico ready' 10; then
        echo "bench: portico $name did not start: $(tail -5 "$OUT/$name.log")" >&2
        exit 1
    fi
    SPIDS[$name]=$pid
}

start_nginx() {
    local pid
    nginx_config >"$OUT/ng/nginx.conf"
    bg pid nginx -c "$PWD/$OUT/ng/nginx.conf" -p "$PWD/$OUT/ng/" >"$OUT/ng/stderr" 2>&1
    if ! port_up "$NG_NCHAN" 10 || ! port_up "$NG_OK" 5; then
        echo "bench: nginx did not start: $(tail -5 "$OUT/ng/stderr" "$OUT/ng/error.log")" >&2
        exit 1
    fi
    sleep 0.3 # its workers
    SPIDS[nginx]="$(procs_of "$pid")"
}

start_bare() {
    local pid
    bg pid $BIN/bare_echo --loop=lws --port="$BARE_PORT" --rx-buf=512 --validity=0 \
        >"$OUT/bare.log" 2>&1
    wait_for "$OUT/bare.log" '^ready' 5 || { echo "bench: bare_echo did not start" >&2; exit 1; }
    SPIDS[bare]=$pid
}

declare -A R # results

# ---- 1. idle ----

# idle_run KEY PORT PATH(with {i}) PIDS...
idle_run() {
    local key=$1 port=$2 path=$3 o="$OUT/idle.$1" la lb m0 m1 s0 s1 k0 k1 c1 c2 okA okB okC
    shift 3
    m0=$(mem_kb "$@"); s0=$(slab_kb); k0=$(tcp_mem_pages)
    bg la $BIN/loadgen idle --port="$port" --src=127.0.0.2 --path="$path" --id-base=0 \
        --conns="$IDLE_HALF" --hold=120 --deadline=150 >"$o.A.out" 2>"$o.A.err"
    wait_for "$o.A.err" '^connected' 40
    bg lb $BIN/loadgen idle --port="$port" --src=127.0.0.3 --path="$path" --id-base="$IDLE_HALF" \
        --conns="$IDLE_HALF" --hold=120 --deadline=150 >"$o.B.out" 2>"$o.B.err"
    wait_for "$o.B.err" '^connected' 40
    sleep 1
    m1=$(mem_kb "$@"); s1=$(slab_kb); k1=$(tcp_mem_pages); c1=$(cpu_sum "$@")
    perf_start idle "$key"
    run_lg "idle.$key.C" idle --port="$port" --src=127.0.0.4 --path="$path" \
        --id-base=$((2 * IDLE_HALF)) --conns="$IDLE_MORE" --hold=0 --deadline=40
    c2=$(cpu_sum "$@")
    perf_stop
    stop_pid "$la" USR1 10
    stop_pid "$lb" USR1 10
    okA=$(kv "$o.A.out" ok); okB=$(kv "$o.B.out" ok); okC=$(kv "$o.C.out" ok)
    R[idle.$key.ok]=$((${okA:-0} + ${okB:-0}))
    R[idle.$key.mem]=$(( (m1 - m0) * 1024 / (2 * IDLE_HALF) ))
    R[idle.$key.slab]=$(( (s1 - s0) * 1024 / (2 * IDLE_HALF) ))
    R[idle.$key.tcpmem]=$(( (k1 - k0) * 4096 / (2 * IDLE_HALF) ))
    R[idle.$key.rate]=$(awk -v a="$(kv "$o.A.out" connect_s)" -v b="$(kv "$o.B.out" connect_s)" \
        -v n="${R[idle.$key.ok]}" 'BEGIN {printf "%d", (a + b > 0) ? n / (a + b) : 0}')
    R[idle.$key.rate_held]=$(kv "$o.C.out" rate)
    R[idle.$key.cpu_conn]=$(( (c2 - c1) * 1000000 / HZ / (${okC:-0} + 1) ))
    log "idle $key: ${R[idle.$key.ok]} held, ${R[idle.$key.mem]} B/conn, slab ${R[idle.$key.slab]} B/conn," \
        "connect ${R[idle.$key.rate]}/s, ${R[idle.$key.rate_held]}/s while holding, ${R[idle.$key.cpu_conn]} us CPU/connect"
    sleep 1 # let the server finish closing
}

# ---- 2. push ----

# push_run KEY W PORT ARGS...
push_run() {
    local key=$1 w=$2 port=$3 o pid v
    shift 3
    o="$OUT/push.$key.$w.r$REP"
    bg pid $BIN/loadgen push --port="$port" --src=127.0.0.5 --conns="$PUSH_CONNS" --inflight="$w" \
        --deadline=60 "$@" >"$o.out" 2>"$o.err"
    wait_for "$o.err" '^posting' 40 && perf_start push "$key.$w"
    wait "$pid" || log "loadgen push $key x$w failed: $(head -c 400 "$o.out")"
    perf_stop
    v=$(kv "$o.out" posts_per_s)
    log "push $key x$w: ${v:-0} posts/s, e2e p50 $(kv "$o.out" e2e_p50_us) us," \
        "p99 $(kv "$o.out" e2e_p99_us) us, lost $(kv "$o.out" lost)"
    if [ "${v:-0}" -gt "${R[push.$key.$w.rate]:-0}" ] || [ -z "${R[push.$key.$w.lost]:-}" ]; then
        R[push.$key.$w.rate]=${v:-0}
        R[push.$key.$w.p50]=$(kv "$o.out" e2e_p50_us)
        R[push.$key.$w.p99]=$(kv "$o.out" e2e_p99_us)
        R[push.$key.$w.lost]=$(kv "$o.out" lost)
    fi
}

# ---- 3. broadcast ----

# bcast_run KEY PORT SUB-ARGS -- PUB-ARGS: server processes from SPIDS[KEY-base]
bcast_run() {
    local key=$1 port=$2 spids k pid sargs=() pargs=() c0 c1 per=$((SUBS / SUB_PROCS)) subs=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do sargs+=("$1"); shift; done
    shift
    pargs=("$@")
    spids=${SPIDS[${key%%.*}]}
    for ((k = 0; k < SUB_PROCS; k++)); do
        bg pid $BIN/loadgen sub --port="$port" --src=127.0.1.$((k + 1)) --conns="$per" \
            --count="$BCAST_MSGS" --size="$BCAST_SIZE" --hist-out="$OUT/bcast.$key.r$REP.h$k" \
            --deadline=90 "${sargs[@]}" >"$OUT/bcast.$key.r$REP.s$k.out" 2>"$OUT/bcast.$key.r$REP.s$k.err"
        subs+=("$pid")
    done
    for ((k = 0; k < SUB_PROCS; k++)); do
        wait_for "$OUT/bcast.$key.r$REP.s$k.err" '^ready' 30 || log "broadcast $key: subscribers $k not ready"
    done
    c0=$(cpu_sum $spids)
    perf_start broadcast "$key"
    run_lg "bcast.$key.r$REP.pub" pub --port="$port" --count="$BCAST_MSGS" --size="$BCAST_SIZE" \
        --inflight="$PUB_INFLIGHT" --deadline=60 "${pargs[@]}"
    # subscribers end by themselves once they have every message; lost ones end the wait
    for ((k = 0; k < 100; k++)); do
        local alive=0
        for pid in "${subs[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for pid in "${subs[@]}"; do stop_pid "$pid" USR1 5; done
    c1=$(cpu_sum $spids)
    perf_stop
    local files=() rx=0 lost=0 last=0 t0 v
    for ((k = 0; k < SUB_PROCS; k++)); do
        files+=("$OUT/bcast.$key.r$REP.h$k")
        v=$(kv "$OUT/bcast.$key.r$REP.s$k.out" received); rx=$((rx + ${v:-0}))
        v=$(kv "$OUT/bcast.$key.r$REP.s$k.out" lost); lost=$((lost + ${v:-per * BCAST_MSGS}))
        v=$(kv "$OUT/bcast.$key.r$REP.s$k.out" last_rx_us); [ "${v:-0}" -gt "$last" ] && last=$v
    done
    t0=$(kv "$OUT/bcast.$key.r$REP.pub.out" t_first_us)
    $BIN/loadgen hmerge "${files[@]}" >"$OUT/bcast.$key.r$REP.merged" 2>&1
    local rate cpu
    rate=$(awk -v n=$rx -v a="${t0:-0}" -v b=$last 'BEGIN {printf "%d", (b > a) ? n * 1e6 / (b - a) : 0}')
    cpu=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n=$rx 'BEGIN {printf "%.2f", (n > 0) ? c / hz * 1e6 / n : 0}')
    log "broadcast $key: $rx deliveries, $rate/s, $cpu us server CPU each," \
        "p50 $(kv "$OUT/bcast.$key.r$REP.merged" p50_us) us p99 $(kv "$OUT/bcast.$key.r$REP.merged" p99_us) us," \
        "lost $lost, $(kv "$OUT/bcast.$key.r$REP.pub.out" posts_per_s) publishes/s," \
        "server CPU $(( (c1 - c0) * 100 / HZ * 1000000 / (last - ${t0:-0} + 1) ))%"
    if [ "$rate" -gt "${R[bcast.$key.rate]:-0}" ] || [ -z "${R[bcast.$key.lost]:-}" ]; then
        R[bcast.$key.rate]=$rate
        R[bcast.$key.cpu]=$cpu
        R[bcast.$key.p50]=$(kv "$OUT/bcast.$key.r$REP.merged" p50_us)
        R[bcast.$key.p99]=$(kv "$OUT/bcast.$key.r$REP.merged" p99_us)
        R[bcast.$key.lost]=$lost
    fi
}

# ---- 4. echo and issue #3 ----

# echo_run KEY SCENARIO PORT PATH PIDS...: best of the repetitions kept
echo_run() {
    local key=$1 scen=$2 port=$3 path=$4 c0 c1 o="echo.$1.r$REP" v
    shift 4
    c0=$(cpu_sum "$@")
    perf_start "$scen" "$key"
    run_lg "$o" echo --port="$port" --path="$path" --conns="$ECHO_CONNS" \
        --inflight="$ECHO_INFLIGHT" --duration="$ECHO_SECS" --warmup=1 --deadline=$((ECHO_SECS + 30))
    perf_stop
    c1=$(cpu_sum "$@")
    v=$(kv "$OUT/$o.out" msgs_per_s)
    log "echo $key: ${v:-0} msgs/s p50 $(kv "$OUT/$o.out" p50_us) us p99 $(kv "$OUT/$o.out" p99_us) us," \
        "server CPU $(( (c1 - c0) * 100 / HZ / (ECHO_SECS + 1) ))%"
    if [ "${v:-0}" -gt "${R[echo.$key.rate]:-0}" ]; then
        R[echo.$key.rate]=$v
        R[echo.$key.p50]=$(kv "$OUT/$o.out" p50_us)
        R[echo.$key.p99]=$(kv "$OUT/$o.out" p99_us)
    fi
}

# ---- 5. http ----

to_us() { # wrk's "1.23ms" / "512.00us" / "1.01s" in microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000;
        else if (v ~ /s$/) m = 1000000; else m = 1; printf "%d", n * m }'
}

# wrk_run KEY URL
wrk_run() {
    local key=$1 url=$2 o="$OUT/http.$1.r$REP" pid rps p99 bad spids c0 c1
    case "$key" in
    portico1.*) spids=${SPIDS[p1]} ;;
    portico.*) spids=${SPIDS[p]} ;;
    *) spids=${SPIDS[nginx]} ;;
    esac
    c0=$(cpu_sum $spids)
    perf_start http "$key"
    bg pid timeout $((HTTP_SECS + 20)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${HTTP_SECS}s" \
        --latency "$url" >"$o" 2>&1
    wait "$pid"
    perf_stop
    c1=$(cpu_sum $spids)
    rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$o")
    p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$o")")
    bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$o")
    [ -n "$bad" ] && { log "http $key: $bad non-2xx answers; not counted"; rps=0; }
    log "http $key: ${rps:-0} req/s p99 ${p99} us, server CPU $(( (c1 - c0) * 100 / HZ / HTTP_SECS ))%"
    if [ "${rps:-0}" -gt "${R[http.$key.rate]:-0}" ]; then
        R[http.$key.rate]=$rps
        R[http.$key.p99]=$p99
    fi
}

# ---- The table ----

ROWS=()
# row SCENARIO FIGURE PORTICO BASELINE-NAME BASELINE KIND TARGET
#   KIND: ge (ratio >= TARGET), le (ratio <= TARGET), max (Portico's value <= TARGET), "" (none)
row() {
    local ratio met target_text
    ratio=$(awk -v a="${3:-0}" -v b="${5:-0}" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    case "$6" in
    ge) target_text=">= $7 x"; met=$(awk -v r="$ratio" -v t="$7" 'BEGIN {print (r != "-" && r + 0 >= t) ? "yes" : "NO"}') ;;
    le) target_text="<= $7 x"; met=$(awk -v r="$ratio" -v t="$7" 'BEGIN {print (r != "-" && r + 0 <= t) ? "yes" : "NO"}') ;;
    max) target_text="<= $7"; met=$(awk -v v="${3:-x}" -v t="$7" 'BEGIN {print (v != "x" && v + 0 <= t) ? "yes" : "NO"}') ;;
    *) target_text="-"; met="-" ;;
    esac
    ROWS+=("| $1 | $2 | ${3:--} | $4 | ${5:--} | $ratio | $target_text | $met |")
}

have_time() { [ $((SECONDS - START_S + $1)) -le "$LIMIT_S" ]; }
want() { case " $SCENARIOS " in *" $1 "*) return 0 ;; esac; return 1; }

# ==== Run ====

log "bench: $(nproc) CPUs, $(uname -r), portico workers=$WORKERS, nginx worker_processes=$WORKERS; out $OUT"
start_portico p "$(portico_config "$WORKERS" "$P_PORT")"
start_nginx
start_bare

# 1. idle, on fresh servers (the bare lws echo is restarted after it)
if want idle; then
    log "1. idle: 2 x $IDLE_HALF held, then $IDLE_MORE more"
    idle_run portico "$P_PORT" /b ${SPIDS[p]}
    idle_run nchan "$NG_NCHAN" "/sub/idle{i}" ${SPIDS[nginx]}
    idle_run bare "$BARE_PORT" / ${SPIDS[bare]}
fi
stop_pid "${SPIDS[bare]}" TERM 10

start_portico p1 "$(portico_config 1 "$P1_PORT")"
start_portico up "$(upstream_config)"

# 2 to 5 and issue #3, in REPS interleaved rounds; the best run of each is kept
SIGN=--sign=$AKID:$SECRET
start_bare
for ((REP = 1; REP <= REPS; REP++)); do
    if want push; then
        log "2. push, round $REP: $PUSH_CONNS connections, one post each"
        for w in 1 16; do
            have_time 20 || break
            push_run portico "$w" "$P_PORT" --path=/b --hello='{"action":"whoami"}' \
                --post-path='/b/@connections/{id}' "$SIGN"
            push_run portico_none "$w" "$P_PORT" --path=/n/b --hello='{"action":"whoami"}' \
                --post-path='/n/b/@connections/{id}'
            push_run nchan "$w" "$NG_NCHAN" --path="/sub/push$REP.$w.{i}" \
                --post-path="/pub/push$REP.$w.{i}"
        done
    fi
    if want broadcast; then
        log "3. broadcast, round $REP: $SUBS subscribers in $SUB_PROCS processes," \
            "$BCAST_MSGS x $BCAST_SIZE bytes"
        have_time 40 && bcast_run p "$P_PORT" --path=/b --hello="{\"action\":\"join\",\"room\":\"bc$REP\"}" \
            -- --post-path="/b/@channels/bc$REP" "$SIGN"
        have_time 40 && bcast_run p1 "$P1_PORT" --path=/b --hello="{\"action\":\"join\",\"room\":\"bc$REP\"}" \
            -- --post-path="/b/@channels/bc$REP" "$SIGN"
        have_time 40 && bcast_run nginx "$NG_NCHAN" --path="/sub/bcast$REP" -- --post-path="/pub/bcast$REP"
    fi
    if want echo; then
        log "4. echo, round $REP"
        have_time 15 && echo_run portico1 echo "$P1_PORT" /b ${SPIDS[p1]}
        have_time 15 && echo_run bare echo "$BARE_PORT" / ${SPIDS[bare]}
        have_time 15 && echo_run portico echo "$P_PORT" /b ${SPIDS[p]}
    fi
    if want http; then
        log "5. http, round $REP"
        have_time 10 && wrk_run portico1.mock "http://127.0.0.1:$P1_PORT/h/mock"
        have_time 10 && wrk_run portico.mock "http://127.0.0.1:$P_PORT/h/mock"
        have_time 10 && wrk_run nginx.return "http://127.0.0.1:$NG_OK/h/mock"
        have_time 10 && wrk_run portico1.proxy "http://127.0.0.1:$P1_PORT/h/proxy"
        have_time 10 && wrk_run portico.proxy "http://127.0.0.1:$P_PORT/h/proxy"
        have_time 10 && wrk_run nginx.proxy "http://127.0.0.1:$NG_PROXY/h/proxy"
    fi
    if want proxyws; then
        log "issue #3, round $REP: WebSocket messages through HTTP_PROXY vs MOCK"
        have_time 15 && [ -f "$ECHO_SO" ] && echo_run proxyws.nginx proxyws "$P_PORT" /x/b ${SPIDS[p]}
        have_time 15 && echo_run proxyws.portico proxyws "$P_PORT" /y/b ${SPIDS[p]}
    fi
done

# ==== Table ====

W=$WORKERS
row idle "Portico RSS per idle WebSocket connection, bytes (15,000 held)" "${R[idle.portico.mem]:-}" \
    "3072 B target; Nchan (Pss)" "${R[idle.nchan.mem]:-}" max 3072
row idle "  same, vs the bare lws echo" "${R[idle.portico.mem]:-}" "bare lws" "${R[idle.bare.mem]:-}" "" ""
row idle "kernel slab per connection, both ends, bytes" "${R[idle.portico.slab]:-}" Nchan "${R[idle.nchan.slab]:-}" "" ""
row idle "kernel TCP buffer memory (sockstat mem) per connection, bytes" "${R[idle.portico.tcpmem]:-}" Nchan "${R[idle.nchan.tcpmem]:-}" "" ""
row idle "connect/s filling 15,000" "${R[idle.portico.rate]:-}" Nchan "${R[idle.nchan.rate]:-}" "" ""
row idle "connect/s while holding 15,000" "${R[idle.portico.rate_held]:-}" Nchan "${R[idle.nchan.rate_held]:-}" ge 1
row idle "  same, vs the bare lws echo" "${R[idle.portico.rate_held]:-}" "bare lws" "${R[idle.bare.rate_held]:-}" "" ""
row idle "server CPU us per connect while holding 15,000" "${R[idle.portico.cpu_conn]:-}" Nchan "${R[idle.nchan.cpu_conn]:-}" "" ""
for w in 1 16; do
    row push "posts/s, SigV4, $w in flight" "${R[push.portico.$w.rate]:-}" Nchan "${R[push.nchan.$w.rate]:-}" ge 1.5
    row push "posts/s, managementAuth NONE, $w in flight" "${R[push.portico_none.$w.rate]:-}" Nchan "${R[push.nchan.$w.rate]:-}" "" ""
    row push "end-to-end p50 us, SigV4, $w in flight" "${R[push.portico.$w.p50]:-}" Nchan "${R[push.nchan.$w.p50]:-}" "" ""
    row push "end-to-end p99 us, SigV4, $w in flight" "${R[push.portico.$w.p99]:-}" Nchan "${R[push.nchan.$w.p99]:-}" "" ""
    row push "lost, SigV4, $w in flight" "${R[push.portico.$w.lost]:-}" Nchan "${R[push.nchan.$w.lost]:-}" max 0
done
row broadcast "deliveries/s ($W workers)" "${R[bcast.p.rate]:-}" Nchan "${R[bcast.nginx.rate]:-}" ge 1
row broadcast "server CPU us per delivery" "${R[bcast.p.cpu]:-}" Nchan "${R[bcast.nginx.cpu]:-}" le 0.6
row broadcast "publish-to-receipt p50 us" "${R[bcast.p.p50]:-}" Nchan "${R[bcast.nginx.p50]:-}" "" ""
row broadcast "publish-to-receipt p99 us" "${R[bcast.p.p99]:-}" Nchan "${R[bcast.nginx.p99]:-}" le 1
row broadcast "lost messages" "${R[bcast.p.lost]:-}" Nchan "${R[bcast.nginx.lost]:-}" max 0
row broadcast "deliveries/s, $W workers vs 1" "${R[bcast.p.rate]:-}" "Portico, 1 worker" "${R[bcast.p1.rate]:-}" ge 1.6
row echo "msgs/s, MOCK route, 1 worker" "${R[echo.portico1.rate]:-}" "bare lws (lws loop)" "${R[echo.bare.rate]:-}" ge 0.75
row echo "  p50 / p99 us, 1 worker" "${R[echo.portico1.p50]:-}/${R[echo.portico1.p99]:-}" "bare lws" "${R[echo.bare.p50]:-}/${R[echo.bare.p99]:-}" "" ""
row echo "msgs/s, MOCK route, $W workers" "${R[echo.portico.rate]:-}" "bare lws (lws loop)" "${R[echo.bare.rate]:-}" "" ""
row http "MOCK route req/s ($W workers)" "${R[http.portico.mock.rate]:-}" "nginx return 200" "${R[http.nginx.return.rate]:-}" ge 0.8
row http "MOCK route p99 us" "${R[http.portico.mock.p99]:-}" "nginx return 200" "${R[http.nginx.return.p99]:-}" "" ""
row http "HTTP_PROXY route req/s ($W workers)" "${R[http.portico.proxy.rate]:-}" "nginx proxy_pass" "${R[http.nginx.proxy.rate]:-}" ge 0.8
row http "HTTP_PROXY route p99 us" "${R[http.portico.proxy.p99]:-}" "nginx proxy_pass" "${R[http.nginx.proxy.p99]:-}" "" ""
row http "MOCK req/s, $W workers vs 1" "${R[http.portico.mock.rate]:-}" "Portico, 1 worker" "${R[http.portico1.mock.rate]:-}" ge 1.6
row http "HTTP_PROXY req/s, $W workers vs 1" "${R[http.portico.proxy.rate]:-}" "Portico, 1 worker" "${R[http.portico1.proxy.rate]:-}" ge 1.6
row "issue #3" "WS msgs/s through HTTP_PROXY (nginx echo upstream) vs MOCK" "${R[echo.proxyws.nginx.rate]:-}" "MOCK route" "${R[echo.portico.rate]:-}" "" ""
row "issue #3" "WS msgs/s through HTTP_PROXY (Portico upstream) vs MOCK" "${R[echo.proxyws.portico.rate]:-}" "MOCK route" "${R[echo.portico.rate]:-}" "" ""

{
    echo
    echo "| scenario | figure | Portico | baseline | baseline value | ratio | target | met |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "$(nproc) CPUs, $(uname -r); portico workers=$WORKERS (and 1 where marked), nginx" \
        "$(nginx -v 2>&1 | sed 's/.*\///') worker_processes=$WORKERS; $(date -u +%Y-%m-%dT%H:%MZ);" \
        "$((SECONDS - START_S)) s"
} | tee "$OUT/table.md"
log "bench: done in $((SECONDS - START_S)) s; logs in $OUT/"
