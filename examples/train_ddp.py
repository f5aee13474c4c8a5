"""A small PyTorch DDP job: fits y = 3x + 2 on a synthetic data set across every rank.

Skiff sets MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE; `skiff.log` reports metrics that
`skiff metrics` and the editors chart.
"""
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import skiff

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(1234 + rank)  # each rank sees its own shard of data

model = DistributedDataParallel(torch.nn.Linear(1, 1))
optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.rand(256, 1) * 4 - 2
y = 3 * x + 2 + 0.05 * torch.randn_like(x)

for step in range(60):
    optimiser.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()  # gradients are all-reduced across ranks here
    optimiser.step()
    if step % 5 == 0 or step == 59:
        skiff.log(step=step, loss=loss.item())

weight, bias = model.module.weight.item(), model.module.bias.item()
print(f"rank {rank}/{world} finished: weight={weight:.3f} bias={bias:.3f}", flush=True)
dist.destroy_process_group()
