#!/usr/bin/env bash
# `skiff images build [all|binaries|node|job|kueue|prometheus]`: everything a cluster needs (and the Kueue
# and Prometheus add-ons, built when asked), built offline and cached by version under $SKIFF_CACHE_DIR (default ~/.cache/skiff).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SKIFF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/skiff}
mkdir -p "$cache"
case ${1:-all} in
  binaries) bash "$here/build-binaries.sh" "$cache" ;;
  node) bash "$here/build-node-image.sh" "$cache" ;;
  job) bash "$here/build-job-image.sh" "$cache" ;;
  kueue) bash "$here/build-kueue.sh" "$cache" ;;
  prometheus) bash "$here/build-prometheus.sh" "$cache" ;;
  all) bash "$here/build-node-image.sh" "$cache" && bash "$here/build-job-image.sh" "$cache" ;;
  *) echo "usage: build.sh [all|binaries|node|job|kueue|prometheus]" >&2; exit 2 ;;
esac
