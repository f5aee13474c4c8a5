#!/usr/bin/env bash
# Runs the benchmarks; each writes bench/results/<name>.json with Skiff's times, the baseline's and
# their ratio. Needs the images (`skiff images build`) and a Docker engine; creates its own clusters.
#   bash bench/run.sh [submit] [up]      (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
npm run build >/dev/null
node runtime/dist/cli/skiff.mjs images build all
for bench in "${@:-submit up}"; do
  for b in $bench; do node "bench/$b.mjs"; done
done
