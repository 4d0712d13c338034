#!/usr/bin/env bash
# Lists C files over the house limit of 800 lines (house style 3.11); fails when there are any.
set -u
over=0
for f in "$@"; do
  n=$(wc -l < "$f")
  if [ "$n" -gt 800 ]; then
    echo "$f: $n lines (over 800)" >&2
    over=1
  fi
done
[ "$over" -eq 0 ] && echo "check-sizes: $# files within 800 lines"
exit $over
