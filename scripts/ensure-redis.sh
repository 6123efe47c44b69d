#!/usr/bin/env bash
# The tests start their own redis-server. Install it where we can (root with apt-get);
# otherwise stop at once with the one command that installs it.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is missing; installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package starts a system service; the tests use their own servers, so stop it if it runs.
  (command -v service >/dev/null 2>&1 && service redis-server stop >/dev/null 2>&1) || true
  command -v redis-server >/dev/null 2>&1 && exit 0
fi
echo "redis-server is required by the tests. Install it with: sudo apt-get install -y redis-server" >&2
exit 1
