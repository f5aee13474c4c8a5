#!/usr/bin/env bash
# Prometheus for `skiff up --with prometheus`: the server built from the Go module proxy at
# PROMETHEUS_MODULE_VERSION (module v0.3XX.Y is Prometheus 3.XX.Y), as a one-binary image. Its web
# UI is left out (it needs its own npm build); Skiff reads the server through its HTTP API. Cached
# by version: $CACHE/bin/prometheus-<version>/prometheus and the image in Docker.
# Usage: build-prometheus.sh CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
source "$here/common.sh"
bin=$cache/bin/prometheus-$PROMETHEUS_MODULE_VERSION

prometheus_build() {
  go get -tool "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" >/dev/null
  log "building Prometheus $PROMETHEUS_MODULE_VERSION (a few minutes the first time)"
  go build -trimpath -ldflags "-s -w" -o "$1/prometheus" github.com/prometheus/prometheus/cmd/prometheus
}

# Go only when something is to be built: a machine with the cache needs none.
if [ ! -e "$bin/.done" ]; then
  go_env
  build_into "$bin" prometheus_build
fi
if docker image inspect "$PROMETHEUS_IMAGE" >/dev/null 2>&1; then log "cached: $PROMETHEUS_IMAGE"; exit 0; fi
log "importing $PROMETHEUS_IMAGE"
# The Deployment says who it runs as (the host user, who owns its store in the data folder).
tar -C "$bin" -c prometheus | docker import --change 'ENTRYPOINT ["/prometheus"]' - "$PROMETHEUS_IMAGE" >/dev/null
