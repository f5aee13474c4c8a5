#!/usr/bin/env bash
# The JupyterLab end-to-end tier: the wheel in a real JupyterLab, driven by Galata in Debian's
# Chromium, against a real kind cluster that the test starts from the sidebar. Screenshots land in
# test-results/jupyterlab/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
bash test/infra/ensure-chromium.sh
bash test/infra/ensure-registry.sh
node runtime/dist/cli/skiff.mjs images build all
source scripts/jupyterlab-env.sh
export SKIFF_JLAB_CLUSTER="${SKIFF_JLAB_CLUSTER:-skiff-jlab}"
export SKIFF_COMMAND="node $PWD/runtime/dist/cli/skiff.mjs --cluster $SKIFF_JLAB_CLUSTER"
# Promotion's "cloud": another context for the same cluster, and its target profile.
promo=$(mktemp -d)
printf 'apiVersion: v1\nkind: Config\ncontexts:\n- name: cloud\n  context: {cluster: kind-%s, user: kind-%s}\n' "$SKIFF_JLAB_CLUSTER" "$SKIFF_JLAB_CLUSTER" > "$promo/cloud.yaml"
printf 'cloud:\n  registry: localhost:%s\n  namespace: prod\n' "${SKIFF_REGISTRY_PORT:-5000}" > "$promo/targets.yaml"
export KUBECONFIG="$HOME/.kube/config:$promo/cloud.yaml" SKIFF_TARGETS="$promo/targets.yaml"
mkdir -p test-results/jupyterlab
cleanup() { [ -n "${SKIFF_E2E_KEEP:-}" ] || $SKIFF_COMMAND down >/dev/null 2>&1 || true; }
trap cleanup EXIT
npx playwright test -c test/jupyterlab/playwright.config.js "$@"
