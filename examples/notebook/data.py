"""The notebook's data: a sibling module, imported by its first cell (sessions run in the notebook's folder)."""

import torch


def regression_shard(n, rank, world, seed=1234):
    """Rank `rank`'s share of n noisy rows of y = x·w + 0.1, the same rows on every run."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1 + 0.01 * torch.randn(n, generator=g)
    return x[rank::world], y[rank::world]
