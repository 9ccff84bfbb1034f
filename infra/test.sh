#!/usr/bin/env bash
# Runs every test: starts the local RabbitMQ, PostgreSQL and SMTP sink on 127.0.0.1 (installing
# the Debian packages when missing), runs the whole solution's tests, stops what it started, and
# ends with the line "N passed, N failed, N skipped".
#   infra/test.sh          everything (what CI runs)
#   infra/test.sh --fast   the quick lane, while working: everything but the suites that start workers as
#                          processes and that stop servers (Lane=process, Lane=fault); no cluster, no previous release
# Other arguments go to dotnet test (--filter "FullyQualifiedName~Funnel", ...).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

fast=
args=()
for a in "$@"; do
  if [ "$a" = "--fast" ]; then fast=1; else args+=("$a"); fi
done
if [ -n "$fast" ]; then
  # Combined with a --filter of the caller's, if any.
  lane='Lane!=process&Lane!=fault'
  filtered=
  for i in "${!args[@]}"; do
    if [ "${args[$i]}" = "--filter" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
      args[$((i + 1))]="(${args[$((i + 1))]})&$lane"; filtered=1
    fi
  done
  [ -n "$filtered" ] || args+=(--filter "$lane")
fi

# The dashboard's browser tests drive Debian's chromium; the clock-skew test runs a worker under faketime
# (both installed here when missing).
infra/services.sh tools || { echo "could not install chromium and faketime" >&2; exit 1; }

# The previous release builds while the servers start (most of their start is waiting).
previous_build=
if [ -z "$fast" ]; then
  previous_out="$(mktemp)"
  infra/previous-build.sh > "$previous_out" &
  previous_build=$!
fi

started=()
for s in rabbitmq postgres smtp; do
  if ! infra/services.sh status | grep -q "^$s: up"; then
    infra/services.sh start "$s" || { echo "could not start $s" >&2; exit 1; }
    started+=("$s")
  fi
done
# The broker fault tests kill and start nodes of a 3-node RabbitMQ cluster of their own.
cluster_started=
if [ -z "$fast" ] && ! { (exec 3<>/dev/tcp/127.0.0.1/5681) 2>/dev/null; }; then
  infra/services.sh cluster start || { echo "could not start the RabbitMQ cluster" >&2; exit 1; }
  cluster_started=1
fi
cleanup() {
  [ ${#started[@]} -gt 0 ] && infra/services.sh stop "${started[@]}"
  [ -n "$cluster_started" ] && infra/services.sh cluster stop
  return 0
}
trap cleanup EXIT

# The rolling-upgrade test runs the previous release's worker beside this one (infra/previous-release); when it
# cannot be built, that test fails saying why, the others run.
if [ -n "$previous_build" ]; then
  if wait "$previous_build" && previous="$(cat "$previous_out")" && [ -n "$previous" ]; then export TEST_PREVIOUS_WORKER="$previous"
  else echo "could not build the previous release" >&2; fi
  rm -f "$previous_out"
fi

log="$(mktemp)"
# A test that hangs is stopped after 5 minutes and named (blame), instead of holding CI until its limit.
dotnet test CampaignOrchestrator.sln --nologo --blame-hang-timeout 5m --blame-hang-dump-type none ${args[@]+"${args[@]}"} 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
read -r p f s < <(grep -oE '(Passed|Failed)!  - Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" \
  | awk -F'[:,]' '{f+=$2; p+=$4; s+=$6} END {print p+0, f+0, s+0}')
rm -f "$log"
if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi  # a build error or crashed run counts as a failure
# Stop what this script started first, so the summary is the very last line CI reads.
trap - EXIT
cleanup >/dev/null 2>&1 || true
echo "$p passed, $f failed, $s skipped"
exit "$rc"
