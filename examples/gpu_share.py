# Which GPU each rank was given. On a cluster whose GPUs are shared 2 ways
# (`skiff up --profile fake-gpu --gpu-sharing 2`), `skiff run gpu_share.py --workers 4 --gpu-share 0.5`
# puts two ranks on each GPU: the kubelet gives each a time-slice and tells it the GPU, as NVIDIA's
# device plugin does.
import os

print(f"rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']}: GPU {os.environ.get('NVIDIA_VISIBLE_DEVICES', 'none')}", flush=True)
