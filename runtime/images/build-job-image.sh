#!/usr/bin/env bash
# The default job image: Debian trixie's Python 3 with its CPU build of torch and numpy, and pip (which
# Skiff runs in a throwaway container of this image to resolve a job's packages). Jobs get
# their code through ConfigMaps, so this image never needs rebuilding for a user's script.
# Usage: build-job-image.sh CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
source "$here/common.sh"
if docker image inspect "$JOB_IMAGE" >/dev/null 2>&1; then log "cached: $JOB_IMAGE"; exit 0; fi
# g++, python3-dev and libtorch-dev (ATen's headers): torch.compile's inductor writes C++ and builds
# it, and scripts call it as nanoGPT does; without them it fails with "No working C++ compiler".
tar=$(rootfs_tar job python3,python3-torch,python3-numpy,python3-pip,ca-certificates,procps,g++,python3-dev,libtorch-dev "$JOB_DEBIAN_SUITE")
log "importing $JOB_IMAGE"
# USE_LIBUV=0: Debian builds torch without libuv, and torch 2.4+ asks for libuv's TCPStore by
# default, so every init_process_group (env:// or tcp://) would fail with "use_libuv was requested
# but PyTorch was build without libuv support". An image ENV also reaches promoted images (FROM it).
# PYTHONWARNINGS: torch 2.6 on Python 3.13 warns ten times per rank, at DDP's first import, that
# functools.partial in an Enum will change (harmless for that torch); only that module is quieted.
docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' -c 'ENV USE_LIBUV=0' \
  -c 'ENV PYTHONWARNINGS=ignore::FutureWarning:torch.distributed.algorithms.ddp_comm_hooks' \
  -c 'CMD ["python3"]' "$tar" "$JOB_IMAGE" >/dev/null
log "built $JOB_IMAGE ($(docker image inspect -f '{{.Size}}' "$JOB_IMAGE" | numfmt --to=iec))"
