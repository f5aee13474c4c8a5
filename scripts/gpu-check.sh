#!/usr/bin/env bash
# The real-GPU check: on a machine with NVIDIA's driver, Docker with nvidia as its default runtime,
# and reach to what the gpu profile still fetches (NVIDIA's device plugin from nvcr.io, unless
# `docker load`ed; PyPI for torch: the nodes' container toolkit is in Skiff's node image), it
#   1. builds Skiff's images (offline, cached) and makes a gpu cluster, one GPU per job node;
#   2. runs a 1-GPU job that prints torch.cuda.get_device_name() and checks Skiff read the GPU's
#      utilisation (`skiff run -o json` metrics events);
#   3. with two GPUs or more, a 2-rank NCCL all-reduce;
#   4. time-slicing: a cluster whose GPU is shared 2 ways runs two half-GPU ranks on one GPU;
#   5. deletes the cluster.
# Skiff's job image has Debian's CPU build of torch 2.6: the jobs get PyPI's CUDA build with --pip
# (2.7.1's wheel for the image's Python 3.13, NVIDIA's CUDA libraries as wheels beside it; not 2.6.0,
# which Debian's 2.6.0+debian already satisfies, so pip would keep the CPU build), resolved and
# installed on this machine and mounted into the pods (SKIFF_GPU_CHECK_TORCH picks the version).
#   bash scripts/gpu-check.sh        (exit 0: every step passed; 3: no GPU or Docker here)
set -euo pipefail
cd "$(dirname "$0")/.."
cluster=${SKIFF_GPU_CHECK_CLUSTER:-skiff-gpu-check}
torch=${SKIFF_GPU_CHECK_TORCH:-torch==2.7.1}
say() { echo "[gpu-check] $*" >&2; }

gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
if [ "${gpus:-0}" -eq 0 ]; then
  say "no NVIDIA GPU here (\`nvidia-smi -L\` lists none): run this on a machine with a GPU and NVIDIA's driver"
  exit 3
fi
if ! docker info >/dev/null 2>&1; then
  say "no Docker engine answers: start it (with nvidia as its default runtime: \`sudo nvidia-ctk runtime configure --runtime=docker --set-as-default\`)"
  exit 3
fi
[ -f runtime/dist/cli/skiff.mjs ] || { npm ci && npm run build; }
skiff() { node runtime/dist/cli/skiff.mjs --cluster "$cluster" "$@"; }

started=$SECONDS
say "$gpus GPU(s): $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | paste -sd';')"
skiff images build all
workers=1
[ "$gpus" -ge 2 ] && workers=2
trap 'skiff down >/dev/null 2>&1 || true' EXIT
skiff up --profile gpu --workers "$workers" --gpus-per-node 1

# One event per line: the device's name from the log, a utilisation reading from the metrics.
events=$(mktemp)
skiff run test/gpu/cuda_check.py --name gpu-check --gpus-per-worker 1 --pip "$torch" -o json | tee "$events" >/dev/null
python3 - "$events" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
logs = [e["text"] for e in events if e["event"] == "log"]
readings = [p["gpuUtilization"] for e in events if e["event"] == "metrics" and e["sample"]["type"] == "usage" for p in e["sample"]["pods"] if p.get("gpuUtilization") is not None]
end = next(e for e in events if e["event"] == "end")["job"]
print("\n".join(logs))
print(f"GPU utilisation readings: {readings}")
if end["phase"] != "Succeeded" or not any(" on " in l for l in logs) or not readings:
    sys.exit(f"gpu-check: the 1-GPU job {end['phase']}{': ' + end.get('reason', '') if end.get('reason') else ''}; readings {readings}")
PY
if [ "$workers" -ge 2 ]; then
  skiff run test/gpu/cuda_check.py --name gpu-check-nccl --workers 2 --gpus-per-worker 1 --pip "$torch" -- --all-reduce
fi
# NVIDIA's plugin takes its sharing at creation: a second cluster, one node, its GPU shared 2 ways.
skiff down
skiff up --profile gpu --workers 1 --gpus-per-node 1 --gpu-sharing 2
shared=$(skiff run test/gpu/cuda_check.py --name gpu-check-share --workers 2 --gpu-share 0.5 --pip "$torch")
echo "$shared"
[ "$(grep -c ' on ' <<<"$shared")" -eq 2 ] || { say "the two half-GPU ranks did not both run on the shared GPU"; exit 1; }
say "passed in $((SECONDS - started)) s"
