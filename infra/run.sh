#!/usr/bin/env bash
# Runs the worker on SQLite (the embedded default): starts the local RabbitMQ and SMTP sink on
# 127.0.0.1 when they are not up (installing the Debian packages when missing), then the worker.
#   infra/run.sh            the worker, reading appsettings.json
#   infra/run.sh --demo     also publishes a few sample journeys and prints where to look
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
infra/services.sh start rabbitmq smtp
dotnet build src/CampaignOrchestrator.Worker -c Release -v q --nologo
worker=src/CampaignOrchestrator.Worker/bin/Release/net10.0/CampaignOrchestrator.Worker.dll
# The demo makes an admin key for this run when none is configured (the API refuses every request without one),
# and prints it; a real installation makes its keys with `keys create` and configures their hashes.
if [[ " $* " == *" --demo "* ]] && ! env | grep -q '^Security__ApiKeys__'; then
  created="$(dotnet "$worker" keys create --name demo --role admin)"
  export CAMPAIGN_API_KEY="$(grep -o 'co_[A-Za-z0-9_-]*' <<<"$created" | head -1)"
  while IFS='=' read -r name value; do export "$name=$value"; done < <(grep '^Security__ApiKeys__demo__' <<<"$created")
  echo "[demo] API key for this run (admin): export CAMPAIGN_API_KEY=$CAMPAIGN_API_KEY" >&2
fi
# Every method JIT-compiled, optimized, instead of the framework's precompiled (ReadyToRun) code, which
# with tiered compilation off would run unimproved for the worker's whole life: a quarter less CPU
# an event, for a start of about 5 s instead of 2.5 s (docs/decisions/0004-runtime-code.md). Set only
# for the worker's process, not for the build. Two malloc arenas (glibc) instead of up to eight a core:
# the same speed, 25-35 MB less memory (docs/decisions/0005-memory-and-gc.md).
export DOTNET_ReadyToRun="${DOTNET_ReadyToRun:-0}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# A command of the binary (keys create, rules validate, errors list, ...) runs and ends.
case "${1:-}" in
  keys|rules|errors|actions|customers) exec dotnet "$worker" "$@" ;;
esac
dotnet "$worker" "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM

# Says when the worker is ready (GET /health/ready: RabbitMQ, the database, SMTP, the rules, the dispatcher), or what it
# waits for. Without curl, bash's /dev/tcp asks.
base="${Http__Urls:-http://127.0.0.1:5080}"; base="${base%%;*}"; base="${base%/}"
hostport="${base#http://}"
ready() {
  if command -v curl >/dev/null; then curl -fsS -o /dev/null --max-time 2 "$base/health/ready"
  else exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" 2>/dev/null || return 1
       printf 'GET /health/ready HTTP/1.0\r\nHost: %s\r\n\r\n' "${hostport%:*}" >&3
       local status; read -r _ status _ <&3; exec 3>&-; [[ "$status" == 200 ]]
  fi
}
for i in $(seq 1 240); do
  if ready 2>/dev/null; then echo "[run] worker ready at $base (health: $base/health/ready)" >&2; break; fi
  kill -0 "$pid" 2>/dev/null || break
  if (( i == 120 )); then
    echo "[run] the worker is not ready after 60 s; what it waits for:" >&2
    { command -v curl >/dev/null && curl -sS --max-time 2 "$base/health/ready" >&2; echo >&2; } || true
  fi
  sleep 0.5
done
status=0
wait "$pid" || status=$?
# A signal interrupts the wait while the worker is still stopping: wait for it to finish.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
exit "$status"
