#!/usr/bin/env bash
# The cluster tier: a Docker engine, Skiff's offline images (cached by version), then the
# end-to-end tests against a real 3-node kind cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
bash test/infra/ensure-registry.sh
node runtime/dist/cli/skiff.mjs images build all
npx vitest run --project cluster
