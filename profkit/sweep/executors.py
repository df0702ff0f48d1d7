"""Executors: where a sweep's runs execute. One literal-dict registry (I7, docs/architecture.md).

`inprocess` (the default) runs one run at a time in the sweep's own process: nothing else of
profkit's competes for the cores, caches and memory bandwidth a run is timed on, so its timings
are clean. `dask` runs them on a Dask cluster (one run per worker at a time, via the worker
resource `run`), for throughput across machines; a worker shares its machine with the other
workers there, so its timings are only as clean as that machine is quiet.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any, Protocol

from profkit.config import RunConfig
from profkit.sweep.task import Outcome, execute, outcome, record_failure

RESOURCE = "run"  # each worker offers {"run": 1}; each run asks for 1: one run per worker
WORKER_HINT = (f"start each worker with one slot, e.g. `dask worker tcp://HOST:8786 "
               f"--nworkers 1 --nthreads 1 --resources {RESOURCE}=1`")


class ExecutorError(RuntimeError):
    """The executor cannot start (no scheduler, no suitable worker); the message says the fix."""


class Executor(Protocol):
    """What run_sweep needs of an executor; entered (`with`) before it runs anything."""

    name: str
    config_defaults: dict[str, Any]  # config fields the executor sets unless the sweep does

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def describe(self) -> str:
        """Where the runs go, for the sweep's first line."""
        ...

    def run(self, configs: list[RunConfig]) -> Iterator[Outcome]:
        """Run `configs`, yielding each outcome as it finishes (in any order); stop after an
        `interrupted` one."""
        ...


class InProcessExecutor:
    """Sequential runs in this process (the default: clean timings, no neighbours)."""

    name = "inprocess"
    config_defaults: dict[str, Any] = {}  # RunConfig's own (threads=1)

    def __init__(self, probes: tuple[str, ...] = ()):
        self.probes = tuple(probes)  # probe names for every run (profkit.probes.PROBES)

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def describe(self) -> str:
        return "in-process, one run at a time"

    def run(self, configs: list[RunConfig]) -> Iterator[Outcome]:
        for cfg in configs:
            out = execute(cfg.to_dict(), self.name, self.probes)
            yield out
            if out.status == "interrupted":  # Ctrl-C or SIGTERM reached the trainer
                return


class DaskExecutor:
    """Runs on a Dask cluster: an existing scheduler, or a LocalCluster on 127.0.0.1."""

    name = "dask"
    # Several workers may share a machine, so a run's torch threads stay pinned at RunConfig's
    # default (1) unless the sweep sets `threads`; the value is part of the run id.
    config_defaults: dict[str, Any] = {}

    def __init__(self, scheduler: str | None = None, local_cluster: int | None = None,
                 retries: int = 2, wait_workers_s: float = 60.0, probes: tuple[str, ...] = ()):
        if (scheduler is None) == (local_cluster is None):
            raise ExecutorError("the dask executor needs --scheduler tcp://HOST:PORT or "
                                "--local-cluster N (not both)")
        if local_cluster is not None and local_cluster < 1:
            raise ExecutorError(f"--local-cluster needs N >= 1 workers, got {local_cluster}")
        self.scheduler, self.n_local = scheduler, local_cluster
        self.retries, self.wait_workers_s = retries, wait_workers_s
        self.cluster = self.client = None
        self.probes = tuple(probes)

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.n_local is not None:
            self.cluster = LocalCluster(
                n_workers=self.n_local, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, resources={RESOURCE: 1})
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except OSError as e:
                raise ExecutorError(f"cannot reach the Dask scheduler at {self.scheduler}: "
                                    f"{e}. Start one with `dask scheduler` and pass its "
                                    "tcp://HOST:PORT address") from None
        try:
            self._check_workers()
            self.client.run(_warm_up)
        except BaseException:
            self.__exit__()  # `with` does not call __exit__ when __enter__ raises
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def _check_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.wait_workers_s)
        except TimeoutError:
            raise ExecutorError(f"no Dask worker joined {self.scheduler} within "
                                f"{self.wait_workers_s:.0f} s; {WORKER_HINT}") from None
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        if not any(w.get("resources", {}).get(RESOURCE, 0) >= 1 for w in workers):
            raise ExecutorError(f"no Dask worker offers the resource '{RESOURCE}', so no run "
                                f"could be placed; {WORKER_HINT}")

    def describe(self) -> str:
        info = self.client.scheduler_info(n_workers=-1)
        slots = sum(w.get("resources", {}).get(RESOURCE, 0) for w in info["workers"].values())
        return f"dask at {info['address']}, {int(slots)} run slot(s)"

    def run(self, configs: list[RunConfig]) -> Iterator[Outcome]:
        from distributed import as_completed

        n = len(configs)
        # Priorities keep the interleaved order: Dask starts the highest priority first.
        futures = {self.client.submit(execute, c.to_dict(), self.name, self.probes,
                                      key=f"profkit-{c.run_id}",
                                      resources={RESOURCE: 1}, retries=self.retries,
                                      priority=n - i, pure=False): c
                   for i, c in enumerate(configs)}
        try:
            for fut in as_completed(futures):
                yield self._result(fut, futures[fut])
        finally:
            self.client.cancel(list(futures))

    def _result(self, fut: Any, cfg: RunConfig) -> Outcome:
        try:
            result: Outcome = fut.result()
            return result
        except Exception as e:  # KilledWorker after repeated worker deaths, lost connection
            err = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
            where = {"executor": self.name, "host": None, "worker": None}
            record_failure(cfg, err, where)
            return outcome(cfg, "failed", 0.0, where, error=err)


def _warm_up() -> None:
    """Import the trainer (torch) in each worker up front, so the first runs' wall times and
    the sweep's ETA do not include it."""
    import profkit.train  # noqa: F401


EXECUTORS: dict[str, type[Executor]] = {
    "inprocess": InProcessExecutor,
    "dask": DaskExecutor,
}


def get_executor(name: str, **options: Any) -> Executor:
    try:
        cls = EXECUTORS[name]
    except KeyError:
        raise ExecutorError(f"unknown executor {name!r}; valid executors: "
                            f"{', '.join(EXECUTORS)}") from None
    return cls(**options)
