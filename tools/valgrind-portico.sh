#!/usr/bin/env bash
# Runs ./portico under valgrind (memcheck) for `make valgrind`: any error or leak exits 99.
here="$(cd "$(dirname "$0")/.." && pwd)"
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite "$here/portico" "$@"
