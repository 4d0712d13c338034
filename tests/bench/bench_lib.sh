# bench_lib.sh: helpers shared by spike.sh and echo_rounds.sh (sourced, not run). Expects
# BIN, OUT, PORT, HZ, START_S, SPIKE_LIMIT_S, QUIET_* and ECHO_* to be set by the caller.
# Every wait is bounded, and only processes started by the caller are signalled, by PID.

SPID=""
LG_PIDS=()
cleanup() {
    for p in "${LG_PIDS[@]}" $SPID; do
        kill -TERM "$p" 2>/dev/null
    done
}
trap cleanup EXIT

# ---- Small readers ----

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tcp_mem_pages() { awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat; }
# busy and total ticks of the whole machine
sys_ticks() { awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat; }
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
kv() { tr ' ' '\n' < "$1" | awk -F= -v k="$2" '$1 == k {print $2}' | tail -1; }
# have_time SECONDS: a run of that length still ends within SPIKE_LIMIT_S
have_time() { [ $((SECONDS - START_S + $1)) -le "$SPIKE_LIMIT_S" ]; }

# wait_for FILE PATTERN SECONDS: poll until FILE contains PATTERN
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# stop_pid PID SIGNAL SECONDS: signal one process we started, then reap it or KILL it
stop_pid() {
    local i
    kill -"$2" "$1" 2>/dev/null
    for ((i = 0; i < $3 * 20; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# Others' share of both CPUs (percent) over 0.5 s, for the noise column and the quiet gate.
others_pct_now() {
    local a b
    a=($(sys_ticks)); sleep 0.5; b=($(sys_ticks))
    echo $(( (b[0] - a[0]) * 100 / (b[1] - a[1] + 1) ))
}

# Waits (bounded) for the machine to go quiet; other sessions share it.
quiet_gate() {
    local i p
    for ((i = 0; i < QUIET_WAIT_S * 2; i++)); do
        p=$(others_pct_now)
        [ "$p" -le "$QUIET_PCT" ] && return 0
        QUIET_SPENT=$((QUIET_SPENT + 1))
        if [ $((QUIET_SPENT / 2)) -ge "$QUIET_TOTAL_S" ]; then
            break
        fi
    done
    echo "  (machine busy: ${p}% CPU used by others; measuring anyway)"
}

start_server() { # LOOP ARGS...
    local loop=$1 log
    shift
    PORT=$((PORT + 1))
    log="$OUT/server.$loop.$PORT.log"
    $BIN/bare_echo --loop="$loop" --port=$PORT "$@" >"$log" 2>&1 &
    SPID=$!
    if ! wait_for "$log" '^ready' 5; then
        echo "spike: bare_echo --loop=$loop did not start" >&2
        stop_pid "$SPID" KILL 1
        SPID=""
        return 1
    fi
}

stop_server() {
    [ -n "$SPID" ] && stop_pid "$SPID" TERM 5
    SPID=""
}

# ---- Echo: throughput and latency ----

# echo_once LOOP: sets E_MSGS E_P50 E_P99 E_SCPU (server CPU %) E_PERCPU (msgs per server
# CPU second) E_OTHERS (others' CPU %), or returns 1.
echo_once() {
    local loop=$1 o c0 c1 s0 s1 t0 t1 rc
    start_server "$loop" || return 1
    o="$OUT/echo.$loop.$PORT"
    c0=$(cpu_ticks "$SPID"); s0=($(sys_ticks)); t0=$(date +%s%N)
    $BIN/loadgen echo --port=$PORT --conns="$ECHO_CONNS" --inflight="$ECHO_INFLIGHT" \
        --duration="$ECHO_SECS" --warmup="${ECHO_WARMUP:-1}" --deadline=$((ECHO_SECS + 20)) >"$o.out" 2>"$o.err" &
    LG_PIDS=($!)
    wait "${LG_PIDS[0]}"; rc=$?
    c1=$(cpu_ticks "$SPID"); s1=($(sys_ticks)); t1=$(date +%s%N)
    LG_PIDS=()
    stop_server
    [ $rc -eq 0 ] || { echo "spike: echo $loop failed: $(cat "$o.out")" >&2; return 1; }
    E_MSGS=$(kv "$o.out" msgs_per_s)
    E_P50=$(kv "$o.out" p50_us)
    E_P99=$(kv "$o.out" p99_us)
    # whole loadgen run (connect + warmup + duration) for the CPU figures
    local wall_ticks=$(( (t1 - t0) * HZ / 1000000000 ))
    E_SCPU=$(( (c1 - c0) * 100 / (wall_ticks + 1) ))
    E_PERCPU=$(awk -v m="$(kv "$o.out" msgs)" -v d="$(kv "$o.out" duration_s)" \
        -v c=$((c1 - c0)) -v hz="$HZ" -v w="$wall_ticks" \
        'BEGIN {printf "%d", (c > 0) ? m / (c / hz * d / (w / hz)) : 0}')
    local lg_ticks
    lg_ticks=$(awk -v c="$(kv "$o.out" cpu_s)" -v hz="$HZ" 'BEGIN {printf "%d", c * hz}')
    E_OTHERS=$(( (s1[0] - s0[0] - (c1 - c0) - lg_ticks) * 100 / (s1[1] - s0[1] + 1) ))
    if [ "$E_OTHERS" -lt 0 ]; then E_OTHERS=0; fi
}

best_max() { [ -z "$1" ] && { echo "$2"; return; }; awk -v a="$1" -v b="$2" 'BEGIN {print (b > a) ? b : a}'; }
best_min() { [ -z "$1" ] && { echo "$2"; return; }; awk -v a="$1" -v b="$2" 'BEGIN {print (b < a) ? b : a}'; }

