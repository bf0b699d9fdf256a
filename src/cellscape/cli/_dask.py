"""The Dask client of the commands that take ``--workers N`` / ``--scheduler ADDRESS`` (run, kpi)."""

from __future__ import annotations

from contextlib import ExitStack


def dask_client(stack: ExitStack, *, workers: int | None, scheduler: str | None, worker_env: dict | None = None):
    """A dask.distributed Client closed with ``stack``: a local cluster of ``workers`` single-threaded
    processes (with ``worker_env`` in their environment), or the cluster at ``scheduler``; None for
    neither. A missing dask.distributed or an unreachable scheduler is one line (ScenarioError)."""
    if workers is None and scheduler is None:
        return None
    from cellscape.errors import ScenarioError

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        raise ScenarioError(f"--workers/--scheduler need dask.distributed: pip install 'dask[distributed]' "
                            f"({err})") from None
    if scheduler is not None:
        try:
            return stack.enter_context(Client(scheduler, timeout="30s"))
        except OSError as err:
            raise ScenarioError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", env=dict(worker_env or {})))
    return stack.enter_context(Client(cluster))
