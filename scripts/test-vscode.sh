#!/usr/bin/env bash
# The VS Code tier: the packaged extension in the real workbench (code-server from npm, Debian's
# Chromium) against a real kind cluster built from Skiff's offline images.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
bash test/infra/ensure-registry.sh
node runtime/dist/cli/skiff.mjs images build all
SKIFF_CODE_SERVER=$(bash test/infra/ensure-code-server.sh)
export SKIFF_CODE_SERVER
npm run package -w extension
npx vitest run --project vscode
# Desktop VS Code through @vscode/test-electron, only where $VSCODE_BINARY names one: it cannot be
# downloaded offline, and the suite itself fails when it cannot run (so it never passes unrun).
if [ -n "${VSCODE_BINARY:-}" ]; then
  npm run test:electron -w extension
else
  echo "[test-vscode] desktop VS Code suite not run: VSCODE_BINARY is not set (the code-server tier above covers the workbench)"
fi
