#!/usr/bin/env bash
# The main job end to end on a fresh machine: Docker engine, offline images, a 3-node kind
# cluster, a 2-worker DDP training job with its logs and metrics, a serving job called once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
npm run build
skiff() { node runtime/dist/cli/skiff.mjs "$@"; }
skiff images build all
skiff up --workers 2
skiff run examples/train_ddp.py --workers 2 --name demo-train
skiff metrics demo-train
skiff serve examples/serve.py --port 8000 --name demo-serve
skiff call demo-serve / --data '[1, 2, 3]'
skiff jobs
