#!/usr/bin/env bash
# A local container registry standing in for the cloud's: Debian's docker-registry (the CNCF
# distribution registry), plain HTTP on port 5000. Docker pushes to localhost:5000 without TLS;
# kind nodes pull from it through the Docker network's gateway (see the promotion tests).
set -euo pipefail
log() { printf '[ensure-registry] %s\n' "$*" >&2; }
PORT=${SKIFF_REGISTRY_PORT:-5000}
if curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1; then exit 0; fi
if ! command -v docker-registry >/dev/null; then
  log "installing Debian's docker-registry"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi
dir=${SKIFF_REGISTRY_DIR:-/tmp/skiff-registry}
mkdir -p "$dir/data"
cat > "$dir/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  # All interfaces: the nodes of a kind cluster reach it at their network's gateway address.
  addr: 0.0.0.0:$PORT
YAML
nohup docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 &
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && { log "registry on :$PORT"; exit 0; }
  sleep 0.2
done
log "the registry did not start; see $dir/registry.log"
exit 1
