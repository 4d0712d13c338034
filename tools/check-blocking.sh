#!/usr/bin/env bash
# Fails when an object file of loop code links a call that blocks (house style 3.5). Files that
# run before the loops start, or only on helper threads, are left out by the Makefile.
set -u
bad=$(nm -u "$@" 2>/dev/null | awk '{print $2}' | grep -Ex \
  '(sleep|usleep|nanosleep|getaddrinfo|gethostbyname(_r)?|system|popen|fopen|fread|fgets|redisConnect.*|redisCommand.*|redisGetReply)' | sort -u)
if [ -n "$bad" ]; then
  echo "blocking calls linked into loop code:" >&2
  for f in "$@"; do
    nm -u "$f" | awk '{print $2}' | grep -Exq "$(echo "$bad" | paste -sd'|')" && echo "  $f: $(nm -u "$f" | awk '{print $2}' | grep -Ex "$(echo "$bad" | paste -sd'|')" | paste -sd' ')" >&2
  done
  exit 1
fi
echo "check-blocking: $# objects clean"
