#!/usr/bin/env bash
# Runs the worker on SQLite (the embedded default): starts the local RabbitMQ and SMTP sink on
# 127.0.0.1 when they are not up (installing the Debian packages when missing), then the worker.
#   infra/run.sh            the worker, reading appsettings.json
#   infra/run.sh --demo     also publishes a few sample journeys and prints where to look
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
infra/services.sh start rabbitmq smtp
exec dotnet run --project src/CampaignOrchestrator.Worker -c Release -- "$@"
