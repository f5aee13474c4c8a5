# The real-GPU check's job (scripts/gpu-check.sh): which GPU each rank got, some work on it for
# Skiff's utilisation reading, and with --all-reduce an NCCL all-reduce across the ranks.
import os
import sys
import time

import torch
import torch.distributed as dist

rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
local = int(os.environ.get("LOCAL_RANK", "0"))
torch.cuda.set_device(local)
print(f"rank {rank} of {world} on {torch.cuda.get_device_name()} (CUDA {torch.version.cuda}, torch {torch.__version__})", flush=True)

# Long enough for a few metrics samples (Skiff reads nvidia-smi inside the pod).
a = torch.randn(4096, 4096, device="cuda")
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    a = (a @ a).clamp_(-1, 1)
torch.cuda.synchronize()
print(f"rank {rank} busy for 30 s", flush=True)

if "--all-reduce" in sys.argv:
    dist.init_process_group("nccl")
    total = torch.tensor([float(rank + 1)], device="cuda")
    dist.all_reduce(total)
    expected = world * (world + 1) / 2
    print(f"rank {rank} all-reduce over NCCL: {total.item():g} (expected {expected:g})", flush=True)
    if total.item() != expected:
        sys.exit(1)
    dist.destroy_process_group()
