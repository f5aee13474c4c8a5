"""Skiff's helper inside every job: report metrics and read the job's place in the world.

Standard library only, so it works in any Python 3.11 image, with or without torch.
"""

import json
import math
import os
import sys

__all__ = ["log", "rank", "world_size", "local_rank", "is_main", "METRIC_PREFIX"]

METRIC_PREFIX = "SKIFF_METRIC "

_warned = set()


def _as_number(value):
    """int/float as is; tensors and numpy scalars through .item(); anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _as_number(item())
        except Exception:
            return None
    return None


def _warn_once(key, message):
    if key not in _warned:
        _warned.add(key)
        print(f"skiff.log: {message}", file=sys.stderr, flush=True)


def log(step=None, **values):
    """Print one metric record, e.g. ``skiff.log(step=3, loss=0.5)``.

    Skiff reads these lines from the pod logs. Values that are not finite numbers are skipped
    (with one warning per name) rather than raising, so a logging slip never kills a long run.
    """
    if step is not None:
        values = {"step": step, **values}
    record = {}
    for name, value in values.items():
        number = _as_number(value)
        if number is None:
            _warn_once(name, f"{name}={value!r} is not a number; skipped")
        elif isinstance(number, float) and not math.isfinite(number):
            _warn_once(name, f"{name}={number} is not finite; skipped")
        else:
            record[name] = number
    print(METRIC_PREFIX + json.dumps(record, separators=(",", ":")), flush=True)


def _env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def rank():
    """This worker's rank (0 outside a Skiff training job)."""
    return _env_int("RANK", 0)


def world_size():
    """Number of workers (1 outside a Skiff training job)."""
    return _env_int("WORLD_SIZE", 1)


def local_rank():
    return _env_int("LOCAL_RANK", 0)


def is_main():
    """True on rank 0, the worker that should save checkpoints and print summaries."""
    return rank() == 0
