#!/usr/bin/env bash
# Builds the worker of the previous release (infra/previous-release), or of the commit given, into .data/previous/,
# for the rolling-upgrade test and bench/compare.sh, and prints the path of its CampaignOrchestrator.Worker.dll.
# Reuses a build of the same commit.
#   infra/previous-build.sh [commit]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
commit="${1:-$(grep -v '^#' infra/previous-release | head -1)}"
commit="$(git rev-parse --verify -q "$commit^{commit}" || echo "$commit")"
out="$root/.data/previous/$commit"
dll="$out/bin/CampaignOrchestrator.Worker.dll"
if [ ! -f "$dll" ]; then
  if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "the previous release $commit is not in this clone's history (a shallow clone?): git fetch --unshallow" >&2
    exit 1
  fi
  rm -rf "$out" && mkdir -p "$out/src"
  git archive "$commit" | tar -x -C "$out/src"
  echo "[infra] building the previous release ${commit:0:7} for the rolling-upgrade test" >&2
  dotnet build "$out/src/src/CampaignOrchestrator.Worker" -c Release -v q --nologo -o "$out/bin" >&2
fi
echo "$dll"
