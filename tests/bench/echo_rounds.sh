#!/usr/bin/env bash
# echo_rounds.sh: echo throughput of bare_echo per loop, in short runs taken round-robin
# (ROUNDS x LOOPS runs of ECHO_SECS seconds). On a shared machine the best of many short,
# interleaved runs is a fairer comparison than one long run per loop. Prints, per loop, the
# best and median msgs/s and the best msgs per server CPU-second. Bounded like spike.sh.
set -u
cd "$(dirname "$0")"

LOOPS=${LOOPS:-"lws ev uv"}
ROUNDS=${ROUNDS:-6}
ECHO_CONNS=${ECHO_CONNS:-100}
ECHO_INFLIGHT=${ECHO_INFLIGHT:-4}
ECHO_SECS=${ECHO_SECS:-3}
ECHO_WARMUP=${ECHO_WARMUP:-0.5}
PORT=${PORT:-17600}
OUT=${OUT:-out}
SPIKE_LIMIT_S=${SPIKE_LIMIT_S:-285}
QUIET_PCT=${QUIET_PCT:-25}
QUIET_WAIT_S=${QUIET_WAIT_S:-2}
QUIET_TOTAL_S=${QUIET_TOTAL_S:-20}
QUIET_SPENT=0

BIN=bin
HZ=$(getconf CLK_TCK)
START_S=$SECONDS
mkdir -p "$OUT"
make -s all || { echo "echo_rounds: build failed" >&2; exit 1; }
. ./bench_lib.sh

declare -A MSGS PERCPU
echo "echo_rounds: loops=[$LOOPS] rounds=$ROUNDS ${ECHO_CONNS}x$ECHO_INFLIGHT for ${ECHO_SECS}s each"
for ((r = 1; r <= ROUNDS; r++)); do
    for loop in $LOOPS; do
        have_time $((ECHO_SECS + 4)) || break 2
        quiet_gate
        echo_once "$loop" || continue
        MSGS[$loop]="${MSGS[$loop]:-} $E_MSGS"
        PERCPU[$loop]="${PERCPU[$loop]:-} $E_PERCPU"
        echo "  $loop #$r: $E_MSGS msgs/s p50=${E_P50}us p99=${E_P99}us server CPU ${E_SCPU}%," \
            "$E_PERCPU msgs per server CPU-s, others ${E_OTHERS}%"
    done
done

echo
echo "| loop | runs | best msgs/s | median msgs/s | best msgs per server CPU-second |"
echo "|---|---|---|---|---|"
for loop in $LOOPS; do
    printf '%s\n' ${MSGS[$loop]:-} | sort -n | awk -v l="$loop" -v c="$(printf '%s\n' \
        ${PERCPU[$loop]:-} | sort -n | tail -1)" '{v[NR] = $1} END {
        if (NR == 0) { printf "| %s | 0 | - | - | - |\n", l; exit }
        printf "| %s | %d | %d | %d | %d |\n", l, NR, v[NR], v[int((NR + 1) / 2)], c }'
done
