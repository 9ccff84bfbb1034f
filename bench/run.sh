#!/usr/bin/env bash
# Inbound benchmark: starts the local RabbitMQ and PostgreSQL if needed, builds in Release and runs
# the load generator against the worker process. Results go to stdout; record them in docs/benchmarks.md.
#   bench/run.sh [--events 50000] [--db sqlite|postgres|both] [--workers N] [--cluster]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
infra/services.sh start rabbitmq postgres smtp   # the worker sends its email to the local sink, as in production
# --cluster: the 3-node RabbitMQ cluster (infra/services.sh cluster) with quorum queues, for the ceiling and the workers.
if [[ " $* " == *" --cluster "* ]]; then
  infra/services.sh cluster start
  infra/services.sh cluster vhost campaign-bench
  set -- "$@" --rabbit-port 5681 --quorum --hosts 127.0.0.1:5681,127.0.0.1:5682,127.0.0.1:5683
else
  # A virtual host of its own: no queue of a stopped worker or a test collects copies of the load.
  infra/services.sh vhost campaign-bench
fi
dotnet build -c Release -v q --nologo bench/CampaignOrchestrator.Bench/CampaignOrchestrator.Bench.csproj >/dev/null
exec dotnet bench/CampaignOrchestrator.Bench/bin/Release/net10.0/CampaignOrchestrator.Bench.dll \
  --worker "$root/src/CampaignOrchestrator.Worker/bin/Release/net10.0/CampaignOrchestrator.Worker.dll" --vhost campaign-bench "$@"
