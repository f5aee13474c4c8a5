#!/usr/bin/env bash
# The default job image: Debian's Python 3 with its CPU build of torch and numpy, and pip (which
# Skiff runs in a throwaway container of this image to resolve a job's packages). Jobs get
# their code through ConfigMaps, so this image never needs rebuilding for a user's script.
# Usage: build-job-image.sh CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
source "$here/common.sh"
if docker image inspect "$JOB_IMAGE" >/dev/null 2>&1; then log "cached: $JOB_IMAGE"; exit 0; fi
tar=$(rootfs_tar job python3,python3-torch,python3-numpy,python3-pip,ca-certificates,procps)
log "importing $JOB_IMAGE"
docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' "$tar" "$JOB_IMAGE" >/dev/null
log "built $JOB_IMAGE ($(docker image inspect -f '{{.Size}}' "$JOB_IMAGE" | numfmt --to=iec))"
