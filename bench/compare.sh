#!/usr/bin/env bash
# The cost of the rules, before and after a change: alternating rounds of the end-to-end bench (60,000 events, one
# worker) without campaigns and with the default rules, for an earlier commit's worker (built by infra/previous-build.sh)
# and this tree's, one line per run. The machine's speed drifts over minutes: compare within a round.
#   bench/compare.sh [--base COMMIT (default: infra/previous-release)] [--rounds 3] [--db postgres|sqlite] [bench args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base="" rounds=3 db=postgres extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
infra/services.sh start rabbitmq postgres smtp
infra/services.sh vhost campaign-bench
old="$(infra/previous-build.sh $base)"
dotnet build -c Release -v q --nologo src/CampaignOrchestrator.Worker/CampaignOrchestrator.Worker.csproj >/dev/null
dotnet build -c Release -v q --nologo bench/CampaignOrchestrator.Bench/CampaignOrchestrator.Bench.csproj >/dev/null
new="$root/src/CampaignOrchestrator.Worker/bin/Release/net10.0/CampaignOrchestrator.Worker.dll"
for r in $(seq "$rounds"); do
  for which in base new; do
    dll="$new"; [ "$which" = base ] && dll="$old"
    for rules in none default; do
      args=(--events 60000 --db "$db"); [ "$rules" = none ] && args+=(--rules none)
      out="$(dotnet bench/CampaignOrchestrator.Bench/bin/Release/net10.0/CampaignOrchestrator.Bench.dll --worker "$dll" --vhost campaign-bench \
        "${args[@]}" ${extra[@]+"${extra[@]}"} 2>&1)" || { echo "$out" >&2; exit 1; }
      rate="$(grep -o 'worker on [A-Za-z]*: [0-9,]* events/s' <<<"$out" | tail -1)"
      cpu="$(grep -o 'CPU [0-9]* µs an event, allocated [0-9.]* KiB' <<<"$out" | tail -1)"
      server="$(grep -o 'PostgreSQL [0-9]* µs' <<<"$out" | tail -1 || true)"
      echo "round $r $which $rules: $rate | worker $cpu${server:+ | $server}"
    done
  done
done
