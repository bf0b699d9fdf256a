"""The Dask client of the commands that take ``--workers N`` / ``--scheduler ADDRESS`` (run, kpi)."""

from __future__ import annotations

from contextlib import ExitStack

LOCAL_CLUSTER_CONFIG = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.profile.enabled": False,
}
"""Dask settings of the local clusters cellscape starts (``--workers N``): its diagnostics sampled less
often. Idle, a local cluster of 2 workers spent 119 ms of CPU a second with Dask's defaults (the
scheduler's and each worker's event-loop tick every 20 ms, system monitors every 0.5 s, each worker's
statistical profiler every 10 ms), 33 ms with these (measured here, distributed 2026.11): ~4 % of a
2-core machine, which its workers share with the driver, given back to the computation. Nothing
cellscape reports depends on them; a cluster joined with ``--scheduler`` keeps its own settings."""


def local_cluster(stack: ExitStack, workers: int, worker_env: dict | None = None):
    """A Client of a local cluster of ``workers`` single-threaded worker processes (``worker_env``
    in their environment) with :data:`LOCAL_CLUSTER_CONFIG`, both closed with ``stack``. The settings
    hold in this process until the cluster is closed: a nanny restarting a worker that died hands it
    the configuration of that moment (tests/test_stream_dask.py)."""
    import dask
    from dask.distributed import Client, LocalCluster

    stack.enter_context(dask.config.set(LOCAL_CLUSTER_CONFIG))     # closed after the cluster
    cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, env=dict(worker_env or {})))
    return stack.enter_context(Client(cluster))


def dask_client(stack: ExitStack, *, workers: int | None, scheduler: str | None, worker_env: dict | None = None):
    """A dask.distributed Client closed with ``stack``: a local cluster of ``workers`` single-threaded
    processes (with ``worker_env`` in their environment; :func:`local_cluster`), or the cluster at
    ``scheduler``; None for neither. A missing dask.distributed or an unreachable scheduler is one
    line (ScenarioError)."""
    if workers is None and scheduler is None:
        return None
    from cellscape.errors import ScenarioError

    try:
        from dask.distributed import Client
    except ImportError as err:
        raise ScenarioError(f"--workers/--scheduler need dask.distributed: pip install 'dask[distributed]' "
                            f"({err})") from None
    if scheduler is not None:
        try:
            return stack.enter_context(Client(scheduler, timeout="30s"))
        except OSError as err:
            raise ScenarioError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    return local_cluster(stack, workers, worker_env)
