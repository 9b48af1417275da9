"""Embarrassingly parallel campaigns on Dask: labelling (and any per-item task) over workers.

`--scheduler` names where the work runs:
    local:N              a LocalCluster of N single-threaded worker processes on this machine
    tcp://host:port      an existing Dask scheduler
    slurm:CONFIG.yaml    a dask-jobqueue SLURMCluster (pbs:CONFIG.yaml for PBS); the YAML holds
                         the cluster's keyword arguments plus `jobs: N`, the jobs to start
Results come back to the calling process as they finish (one writer); a task whose worker dies
is rescheduled by Dask (up to distributed.scheduler.allowed-failures times), a task that raises
is retried `retries` times, and what still fails is returned as the exception, never dropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import yaml
from tqdm.auto import tqdm


@contextlib.contextmanager
def connect(scheduler: str):
    """A dask.distributed Client for a scheduler spec (see the module docstring)."""
    from dask.distributed import Client, LocalCluster

    kind, _, rest = scheduler.partition(":")
    if kind == "local":
        n = int(rest or 2)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    elif kind == "tcp":
        cluster = None
    elif kind in ("slurm", "pbs"):
        import dask_jobqueue

        with open(rest) as handle:
            options = yaml.safe_load(handle) or {}
        jobs = int(options.pop("jobs", 1))
        cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster
        cluster = cls(**options)
        cluster.scale(jobs=jobs)
    else:
        raise ValueError(f"scheduler {scheduler!r}: use local:N, tcp://host:port, "
                         "slurm:CONFIG.yaml or pbs:CONFIG.yaml")
    client = Client(scheduler if cluster is None else cluster)
    try:
        if client.dashboard_link and cluster is not None and cluster.dashboard_link:
            print(f"Dask dashboard: {client.dashboard_link}", flush=True)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_as_completed(fn: Callable, items: Sequence[tuple], scheduler: str, retries: int = 2,
                     desc: str = "tasks", progress: bool = True
                     ) -> Iterator[tuple[int, Any]]:
    """fn(*item) for every item on Dask; yields (item index, result or exception) as tasks
    finish, in completion order."""
    from dask.distributed import as_completed

    with connect(scheduler) as client:
        futures = {client.submit(fn, *item, retries=retries, pure=False): k
                   for k, item in enumerate(items)}
        bar = tqdm(total=len(futures), desc=desc, disable=not progress)
        for future in as_completed(futures):
            try:
                value = future.result()
            except Exception as exc:  # recorded by the caller, never dropped
                value = exc
            bar.update()
            yield futures[future], value
        bar.close()
