"""Skiff's helper inside every job: report metrics and read the job's place in the world.

Standard library only, so it works in any Python 3.11 image, with or without torch. On a cluster
with MLflow (`skiff up --with mlflow`), rank 0's records also go to MLflow, through its client
that the job finds on its path.
"""

import atexit
import json
import math
import os
import sys
import time

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
    _record_to_mlflow(record)


# MLflow, once used: (client, run id) of the run skiff.log records into, or False when it cannot.
_mlflow = None


def _record_to_mlflow(record):
    """Rank 0's record into the script's active MLflow run, else into a run of the job's experiment
    that skiff.log starts with MLflow's client (never as the active run, so a script's own
    mlflow.start_run() later still works). A failure is said once and the records go on to the logs."""
    global _mlflow
    metrics = {k: v for k, v in record.items() if k != "step"}
    if _mlflow is False or not metrics or not os.environ.get("MLFLOW_TRACKING_URI") or rank() != 0:
        return
    step = int(record.get("step", 0))
    try:
        import mlflow

        if mlflow.active_run() is not None:
            mlflow.log_metrics(metrics, step=step)
            return
        if _mlflow is None:
            _mlflow = _start_mlflow_run(mlflow)
        client, run_id = _mlflow
        client.log_batch(run_id, metrics=[mlflow.entities.Metric(k, float(v), int(time.time() * 1000), step) for k, v in metrics.items()])
    except Exception as err:  # a tracking server that went away must not stop the training
        _mlflow = False
        _warn_once("mlflow", f"not recorded to MLflow from now on ({type(err).__name__}: {err}); the logs keep every record")


def _start_mlflow_run(mlflow):
    client = mlflow.MlflowClient()
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or os.environ.get("SKIFF_JOB", "skiff")
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    tags = json.loads(os.environ.get("MLFLOW_RUN_CONTEXT") or "{}")
    run = client.create_run(experiment_id, run_name=os.environ.get("SKIFF_JOB"), tags=tags)
    run_id = run.info.run_id
    atexit.register(client.set_terminated, run_id, "FINISHED")
    return client, run_id


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
