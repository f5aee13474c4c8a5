#!/usr/bin/env bash
# Runs every test tier, as CI does: lint (the layers), the format, the tests' types, unit tests (TypeScript and the Python job helper), the Jupyter
# server extension in front of the real runtime API, the cluster tier against a real kind cluster
# built offline (Docker engine, images, 3 nodes), then the VS Code tier (the packaged extension in
# the real workbench, driven in Chromium, against such a cluster) and the JupyterLab tier (the wheel
# in a real JupyterLab, driven by Galata in Chromium, against such a cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/.bin ] && [ package-lock.json -ot node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
npm run build
# The layers: dependencies point one way (eslint.config.mjs).
npm run lint
# One format (Prettier; `npm run format` writes it).
npm run format:check
# Type-check the tests too: vitest runs them without checking.
npm run typecheck:tests
npx vitest run --project unit
python3 -m unittest discover -s runtime/python/tests
bash scripts/test-jupyterlab.sh
bash scripts/test-cluster.sh
bash scripts/test-vscode.sh
bash scripts/test-jupyterlab-e2e.sh
