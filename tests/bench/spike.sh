#!/usr/bin/env bash
# spike.sh: the event-loop spike behind docs/EVENT-LOOP.md. For each loop (lws's own poll
# loop, foreign libev, foreign libuv) it starts bin/bare_echo and measures
#   idle: 2 loadgen processes hold IDLE_PER_PROC connections each; server RSS growth and
#         kernel TCP memory per connection, connect rate while already holding connections;
#   echo: ECHO_CONNS connections x ECHO_INFLIGHT messages in flight for ECHO_SECS seconds.
# Idle runs once with lws defaults and once with lws's per-connection validity timer off
# (--validity=0). Each measurement runs REPS times: one round over all loops, then the idle
# RSS per buffer-size variant in VARIANTS (2 x VARIANT_PER_PROC connections), then the next
# round. The best value of each idle metric is kept; for echo, the run with the most msgs/s
# is kept whole (its latency and CPU figures go with it). The machine may be shared, so each
# run waits (bounded) for it to go quiet, and the CPU used by others is reported. Bounded:
# every wait has a deadline, and no run starts unless it can end within SPIKE_LIMIT_S
# seconds. Only processes started here are signalled, by PID.
set -u
cd "$(dirname "$0")"

LOOPS=${LOOPS:-"lws ev uv"}
REPS=${REPS:-2}
IDLE_PER_PROC=${IDLE_PER_PROC:-7500}
ECHO_CONNS=${ECHO_CONNS:-100}
ECHO_INFLIGHT=${ECHO_INFLIGHT:-4}
ECHO_SECS=${ECHO_SECS:-10}
VARIANTS=${VARIANTS:-"--rx-buf=512 --serv-buf=1024 --rx-buf=512,--validity=0"}
VARIANT_PER_PROC=${VARIANT_PER_PROC:-2500} # RSS per connection does not depend on the count
PORT=${PORT:-17100}
OUT=${OUT:-out}
SPIKE_LIMIT_S=${SPIKE_LIMIT_S:-285} # no run starts unless it can end before this
QUIET_PCT=${QUIET_PCT:-25}   # others' CPU share under which a run may start
QUIET_WAIT_S=${QUIET_WAIT_S:-4}    # per run
QUIET_TOTAL_S=${QUIET_TOTAL_S:-20} # for the whole script
QUIET_SPENT=0

BIN=bin
HZ=$(getconf CLK_TCK)
START_S=$SECONDS
mkdir -p "$OUT"
make -s all || { echo "spike: build failed" >&2; exit 1; }

. ./bench_lib.sh
IDLE_RUN_S=15 # worst case on a busy machine; a quiet one needs about 4
ECHO_RUN_S=$((ECHO_SECS + 4))

# ---- Idle: RSS and connect rate while holding ----

# idle_once LOOP SERVER-ARGS...: sets I_RSS I_KMEM (sockstat TCP mem) I_SLAB (kernel slab,
# both ends) I_RATE_A I_RATE_B I_RATE_LAST I_CPU_A I_CPU_B (server CPU us per connect), or
# returns 1. The sockstat and slab figures are machine-wide.
idle_once() {
    local loop=$1 a b r0 r1 k0 k1 s0 s1 c0 c1 c2 okA okB
    shift
    start_server "$loop" "$@" || return 1
    a="$OUT/idle.$loop.$PORT.A" b="$OUT/idle.$loop.$PORT.B"
    r0=$(rss_kb "$SPID"); k0=$(tcp_mem_pages); s0=$(slab_kb); c0=$(cpu_ticks "$SPID")
    $BIN/loadgen idle --port=$PORT --src=127.0.0.2 --conns="$IDLE_PER_PROC" --hold=60 \
        --deadline=90 >"$a.out" 2>"$a.err" &
    LG_PIDS=($!)
    wait_for "$a.err" '^connected' 30
    c1=$(cpu_ticks "$SPID")
    $BIN/loadgen idle --port=$PORT --src=127.0.0.3 --conns="$IDLE_PER_PROC" --hold=60 \
        --deadline=90 >"$b.out" 2>"$b.err" &
    LG_PIDS+=($!)
    wait_for "$b.err" '^connected' 30
    c2=$(cpu_ticks "$SPID")
    sleep 0.5
    r1=$(rss_kb "$SPID"); k1=$(tcp_mem_pages); s1=$(slab_kb)
    for p in "${LG_PIDS[@]}"; do stop_pid "$p" USR1 10; done
    LG_PIDS=()
    stop_server
    okA=$(kv "$a.out" ok); okB=$(kv "$b.out" ok)
    if [ "${okA:-0}" != "$IDLE_PER_PROC" ] || [ "${okB:-0}" != "$IDLE_PER_PROC" ]; then
        echo "spike: idle $loop $*: only ${okA:-0}+${okB:-0} connections opened" >&2
        return 1
    fi
    I_RSS=$(( (r1 - r0) * 1024 / (2 * IDLE_PER_PROC) ))
    I_KMEM=$(( (k1 - k0) * 4096 / (2 * IDLE_PER_PROC) ))
    I_SLAB=$(( (s1 - s0) * 1024 / (2 * IDLE_PER_PROC) ))
    I_RATE_A=$(kv "$a.out" rate)
    I_RATE_B=$(kv "$b.out" rate)
    I_RATE_LAST=$(kv "$b.out" rate_last)
    I_CPU_A=$(( (c1 - c0) * 1000000 / HZ / IDLE_PER_PROC ))
    I_CPU_B=$(( (c2 - c1) * 1000000 / HZ / IDLE_PER_PROC ))
}

# ---- Main ----

declare -A R
record_idle() { # KEY
    R[$1.rss]=$(best_min "${R[$1.rss]:-}" "$I_RSS")
    R[$1.kmem]=$(best_min "${R[$1.kmem]:-}" "$I_KMEM")
    R[$1.slab]=$(best_min "${R[$1.slab]:-}" "$I_SLAB")
    R[$1.rate_a]=$(best_max "${R[$1.rate_a]:-}" "$I_RATE_A")
    R[$1.rate_b]=$(best_max "${R[$1.rate_b]:-}" "$I_RATE_B")
    R[$1.rate_last]=$(best_max "${R[$1.rate_last]:-}" "$I_RATE_LAST")
    R[$1.cpu_a]=$(best_min "${R[$1.cpu_a]:-}" "$I_CPU_A")
    R[$1.cpu_b]=$(best_min "${R[$1.cpu_b]:-}" "$I_CPU_B")
    R[$1.iruns]=$((${R[$1.iruns]:-0} + 1))
    echo "  idle $1: rss=${I_RSS} B/conn, kernel: sockstat=${I_KMEM} slab=${I_SLAB} B/conn;" \
        "connect/s ${I_RATE_A} (0-${IDLE_PER_PROC} held), ${I_RATE_B} (then), ${I_RATE_LAST}" \
        "(last 1000); server CPU us/connect ${I_CPU_A} / ${I_CPU_B}"
}

echo "spike: loops=[$LOOPS] reps=$REPS idle=2x$IDLE_PER_PROC echo=${ECHO_CONNS}x$ECHO_INFLIGHT" \
    "for ${ECHO_SECS}s; $(nproc) CPUs, $(uname -r), lws $(pkg-config --modversion libwebsockets)"
round() {
    local loop
    for loop in $LOOPS; do
        if have_time $IDLE_RUN_S; then
            quiet_gate
            idle_once "$loop" && record_idle "$loop"
        fi
        if have_time $IDLE_RUN_S; then
            quiet_gate
            idle_once "$loop" --validity=0 && record_idle "$loop/novalidity"
        fi
        have_time $ECHO_RUN_S || continue
        quiet_gate
        echo_once "$loop" || continue
        R[$loop.eruns]=$((${R[$loop.eruns]:-0} + 1))
        if [ -z "${R[$loop.msgs]:-}" ] || [ "$E_MSGS" -gt "${R[$loop.msgs]}" ]; then
            R[$loop.msgs]=$E_MSGS R[$loop.p50]=$E_P50 R[$loop.p99]=$E_P99
            R[$loop.scpu]=$E_SCPU R[$loop.others]=$E_OTHERS R[$loop.percpu]=$E_PERCPU
        fi
        echo "  echo $loop: ${E_MSGS} msgs/s p50=${E_P50}us p99=${E_P99}us" \
            "server CPU ${E_SCPU}%, ${E_PERCPU} msgs per server CPU-s, others ${E_OTHERS}%"
    done
}

variants() {
    local loop v IDLE_PER_PROC=$VARIANT_PER_PROC
    for loop in $LOOPS; do
        for v in $VARIANTS; do
            have_time $IDLE_RUN_S || return 0
            quiet_gate
            if idle_once "$loop" ${v//,/ }; then
                R[$loop.$v]=$(best_min "${R[$loop.$v]:-}" "$I_RSS")
                echo "  idle $loop ${v//,/ }: rss=${I_RSS} B/conn"
            fi
        done
    done
}

round
variants
for ((rep = 2; rep <= REPS; rep++)); do
    round
done

{
    echo
    echo "| loop | lws validity timer | idle RSS B/conn | kernel B/conn: sockstat TCP mem / slab (both ends) |" \
        "connect/s, 0-$IDLE_PER_PROC held | connect/s, $IDLE_PER_PROC-$((2 * IDLE_PER_PROC)) held |" \
        "connect/s, last 1000 | server CPU us/connect, first / second $IDLE_PER_PROC | runs |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for loop in $LOOPS; do
        for k in "$loop" "$loop/novalidity"; do
            [ "$k" = "$loop" ] && v="on (default)" || v="off"
            echo "| $loop | $v | ${R[$k.rss]:--} | ${R[$k.kmem]:--} / ${R[$k.slab]:--} |" \
                "${R[$k.rate_a]:--} | ${R[$k.rate_b]:--} | ${R[$k.rate_last]:--} |" \
                "${R[$k.cpu_a]:--} / ${R[$k.cpu_b]:--} | ${R[$k.iruns]:-0} |"
        done
    done
    echo
    echo "| loop | echo msgs/s ($ECHO_CONNS conns x $ECHO_INFLIGHT in flight) | p50 us | p99 us |" \
        "server CPU % | msgs per server CPU-second | others' share of the CPUs % | runs |"
    echo "|---|---|---|---|---|---|---|---|"
    for loop in $LOOPS; do
        echo "| $loop | ${R[$loop.msgs]:--} | ${R[$loop.p50]:--} | ${R[$loop.p99]:--} |" \
            "${R[$loop.scpu]:--} | ${R[$loop.percpu]:--} | ${R[$loop.others]:--} |" \
            "${R[$loop.eruns]:-0} |"
    done
    echo
    echo "| loop | idle RSS B/conn: lws defaults (rx 0 = 4096, serv 4096) | $(echo $VARIANTS | sed 's/ / | /g; s/,/ /g') |"
    echo "|---|---|$(for v in $VARIANTS; do printf -- '---|'; done)"
    for loop in $LOOPS; do
        printf '| %s | %s |' "$loop" "${R[$loop.rss]:--}"
        for v in $VARIANTS; do printf ' %s |' "${R[$loop.$v]:--}"; done
        echo
    done
} | tee "$OUT/spike-table.md"
echo "spike: done in $((SECONDS - START_S)) s; logs in $OUT/"
