#!/usr/bin/env bash
# Usage: ensure-tool.sh COMMAND DEBIAN_PACKAGE
# Makes sure COMMAND exists: installs DEBIAN_PACKAGE where we can (root with apt-get);
# otherwise stops at once with the one command that installs it.
set -euo pipefail
cmd=$1 pkg=$2
if command -v "$cmd" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "$cmd is missing; installing $pkg with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
  # Server packages start a system service; the tests and bench start their own, so stop it if it runs.
  (command -v service >/dev/null 2>&1 && service "$pkg" stop >/dev/null 2>&1) || true
  command -v "$cmd" >/dev/null 2>&1 && exit 0
fi
echo "$cmd is required. Install it with: sudo apt-get install -y $pkg" >&2
exit 1
