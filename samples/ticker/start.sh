#!/usr/bin/env bash
# One command for the ticker sample: starts Portico on this folder's portico.json and the
# publisher beside it; Ctrl-C stops both. Run from anywhere after `make` at the repository root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
portico="${PORTICO:-$root/portico}"
[ -x "$portico" ] || { echo "no $portico: run make at the repository root first" >&2; exit 1; }
"$portico" "$here/portico.json" &
portico_pid=$!
trap 'kill "$portico_pid" 2>/dev/null; wait "$portico_pid" 2>/dev/null || true' EXIT
# Wait until Portico accepts connections (at most 5 s).
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
    kill -0 "$portico_pid" 2>/dev/null || { echo "portico exited" >&2; exit 1; }
    sleep 0.1
done
echo "open http://127.0.0.1:8080/ in a browser"
node "$here/publisher.mjs"
