#!/usr/bin/env bash
# Runs the benchmarks; each writes bench/results/<name>.json with Skiff's times, the baseline's and
# their ratio. Needs the images (`skiff images build`) and a Docker engine; creates its own clusters.
#   bash bench/run.sh [submit] [projects] [package-delivery] [up] [vscode] [sessions] [logs]   (default: all seven)
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
npm run build >/dev/null
node runtime/dist/cli/skiff.mjs images build all
benches="${*:-submit projects package-delivery up vscode sessions logs}"
if [[ " $benches " == *" vscode "* ]]; then
  SKIFF_CODE_SERVER=$(bash test/infra/ensure-code-server.sh)
  export SKIFF_CODE_SERVER
  npm run package -w extension >/dev/null
fi
for bench in $benches; do
  for b in $bench; do node "bench/$b.mjs"; done
done
