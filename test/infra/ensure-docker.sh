#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when no engine exists,
# starts dockerd when none runs, and on hosts that cannot grant every capability registers
# runc-capfix as the default runtime so kind's --privileged nodes start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[ensure-docker] %s\n' "$*" >&2; }
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then
  log "installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-overwrite docker.io >/dev/null
fi
mkdir -p /etc/docker
bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
if (( (0x$bnd >> 24 & 1) == 0 )); then
  install -m 0755 "$here/runc-capfix" /usr/local/sbin/runc-capfix
  echo '{"runtimes":{"capfix":{"path":"/usr/local/sbin/runc-capfix"}},"default-runtime":"capfix"}' > /etc/docker/daemon.json
  log "CAP_SYS_RESOURCE missing from the bounding set: runc-capfix is Docker's default runtime"
fi
if ! pgrep -x dockerd >/dev/null; then
  log "starting dockerd"
  setsid dockerd > /var/log/skiff-dockerd.log 2>&1 < /dev/null &
fi
for _ in $(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done
log "dockerd did not answer within 60 s; see /var/log/skiff-dockerd.log"; exit 1
