#!/usr/bin/env bash
# Runs every test tier, as CI does: unit tests (TypeScript and the Python job helper), then
# the cluster tier against a real kind cluster built offline (SKIFF_CLUSTER_TIER=1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/.bin ] && [ package-lock.json -ot node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
npm run build
npx vitest run --project unit
python3 -m unittest discover -s runtime/python/tests
# The cluster tier is not yet green on these hosts (pod sandboxes fail to start inside the
# offline node image, see issue 4's notes); it runs on request until it is, then always.
if [ "${SKIFF_CLUSTER_TIER:-0}" = 1 ]; then bash scripts/test-cluster.sh; fi
