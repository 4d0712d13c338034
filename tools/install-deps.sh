#!/usr/bin/env bash
# Installs what Portico needs on Debian 12: the build dependencies, and with --tests what the
# test suite needs too (clang for the fuzz targets, Node.js and npm for the integration tests
# when no node is installed yet, curl for the curl --aws-sigv4 test, redis-server for the
# cluster tests, which start their own on free loopback ports).
set -euo pipefail
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential pkg-config libev-dev libhiredis-dev libcjson-dev libssl-dev libnghttp2-dev)
if [ "${1:-}" = "--tests" ]; then
    pkgs+=(curl clang cppcheck chromium redis-server)
    # Debian's npm conflicts with a nodejs package that bundles npm (NodeSource): only add
    # Node.js when there is none.
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi
[ "${1:-}" = "--bench" ] && pkgs+=(libwebsockets-dev libuv1-dev nginx libnginx-mod-nchan libnginx-mod-http-echo wrk)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${pkgs[@]}"
