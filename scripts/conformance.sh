#!/usr/bin/env bash
# The main job: build, then run the reference agent through a health check.
# (Grows into the full conformance run with a report as the harness lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh

dir=$(mktemp -d "${TMPDIR:-/tmp}/neira-conformance.XXXXXX")
sock="$dir/a.sock"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

exec 3< <(NEIRA_SOCKET_PATH="$sock" exec build/agent/neira-agent)
pid=$!
if ! IFS= read -r -t 10 line <&3 || [ "$line" != "AGENT_READY" ]; then
  echo "conformance: neira-agent did not print AGENT_READY within 10 s" >&2
  exit 1
fi
echo "conformance: neira-agent (pid $pid) is ready on $sock"
build/tools/neira-call "$sock" health
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=
[ ! -e "$sock" ] || { echo "conformance: socket file left behind: $sock" >&2; exit 1; }
echo "conformance: agent stopped cleanly, socket removed"
