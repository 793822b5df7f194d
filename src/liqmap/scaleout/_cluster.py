"""Run one function over many items: in-process, on a local Dask cluster or on a scheduler.

``map_tasks(fn, items, scheduler=...)`` is the one entry point; ``cluster(scheduler)`` keeps
one cluster (or connection) open for several maps. The scheduler is named by a string:

- ``None`` (or ``"none"``, ``"serial"``): a plain loop in this process;
- ``"local"``: a ``dask.distributed.LocalCluster`` of worker *processes* (one thread each,
  no dashboard), started for the call and shut down after it, even on failure;
- ``"tcp://HOST:PORT"`` (or ``HOST:PORT``, ``tls://``, ``ws://``, ``wss://``, ``ucx://``):
  an existing ``dask scheduler``, reached within ``connect_timeout_s``.

Results come back in item order whatever the order tasks finish in. ``fn`` and the items
travel to the workers by pickle: use module-level functions and plain records (the task
records of :mod:`liqmap.scaleout.tasks`).

Errors::

    TaskError (LiqmapError)          a task raised; names the item (index and label)
    ├── TaskInputError (InputError)  ... and the cause was an InputError: fix the input
    └── TaskRetryLaterError (RetryLaterError)   ... cause was temporary (or a worker died)
    InputError                       malformed scheduler address or n_workers
    RetryLaterError                  the scheduler cannot be reached in time

>>> map_tasks(abs, [-2, 3, -5])
[2, 3, 5]
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from liqmap._exceptions import ConfigError, InputError, LiqmapError, RetryLaterError

__all__ = ["DEFAULT_CONNECT_TIMEOUT_S", "TaskError", "TaskInputError", "TaskRetryLaterError",
           "check_address", "cluster", "default_n_workers", "map_tasks"]

DEFAULT_CONNECT_TIMEOUT_S = 10.0
SERIAL_NAMES = ("none", "serial")
_ADDRESS = re.compile(r"^(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?"
                      r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(?P<port>\d{1,5})/?$")

Progress = Callable[[int, int, str], Any]


class TaskError(LiqmapError):
    """A task raised. ``index`` and ``label`` name the item; ``__cause__`` is the error.

    Parameters
    ----------
    message : str
        Text naming the item and the cause.
    index : int, optional
        Position of the item in the input sequence.
    label : str, optional
        The item's ``label`` attribute, else a short ``repr``.
    """

    def __init__(self, message: str, *, index: int | None = None, label: str | None = None):
        super().__init__(message)
        self.index = index
        self.label = label


class TaskInputError(TaskError, InputError):
    """A task raised an :class:`~liqmap.InputError`: fix that item's input."""


class TaskRetryLaterError(TaskError, RetryLaterError):
    """A task hit a temporary condition (or its worker died): retrying may succeed."""


def default_n_workers() -> int:
    """Worker processes of a local cluster when not given: ``min(2, cpu count)``."""
    return max(1, min(2, os.cpu_count() or 1))


def item_label(item: Any) -> str:
    """The item's ``label`` attribute when it has one, else a short ``repr``."""
    label = getattr(item, "label", None)
    if isinstance(label, str) and label:
        return label
    text = repr(item)
    return text if len(text) <= 120 else text[:117] + "..."


def _is_temporary(exc: BaseException) -> bool:
    if isinstance(exc, RetryLaterError):
        return True
    name = type(exc).__name__  # distributed's own errors, matched without importing them
    return name in ("KilledWorker", "CommClosedError", "CancelledError", "FutureCancelledError")


def _task_error(exc: BaseException, index: int, item: Any) -> TaskError:
    label = item_label(item)
    message = f"task {index} ({label}) failed: {type(exc).__name__}: {exc}"
    if isinstance(exc, InputError):
        return TaskInputError(message, index=index, label=label)
    if _is_temporary(exc):
        return TaskRetryLaterError(message, index=index, label=label)
    return TaskError(message, index=index, label=label)


def check_address(address: str) -> str:
    """Validate a scheduler address; return it with ``tcp://`` added when no scheme is given.

    Raises
    ------
    InputError
        If the address is not ``[SCHEME://]HOST:PORT`` with a port in 1..65535.

    Examples
    --------
    >>> check_address("127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    """
    m = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    if m is None or not 0 < int(m["port"]) < 65536:
        raise InputError(f"scheduler address {address!r} is malformed: use 'local', 'none', "
                         "or [tcp|tls|ws|wss|ucx]://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    return f"{m['scheme'] or 'tcp'}://{m['host']}:{int(m['port'])}"


def _check_n_workers(n_workers: int | None) -> int:
    if n_workers is None:
        return default_n_workers()
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ConfigError(f"n_workers must be a whole number >= 1, got {n_workers!r}")
    return n_workers


def _connect(address: str, timeout_s: float):
    from distributed import Client

    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise RetryLaterError(f"cannot reach the Dask scheduler at {address} within "
                              f"{timeout_s:g} s ({exc}); start it (`dask scheduler`) or fix "
                              "the address, then retry") from None


def _local(stack: contextlib.ExitStack, n_workers: int | None):
    from distributed import Client, LocalCluster

    lc = stack.enter_context(LocalCluster(
        n_workers=_check_n_workers(n_workers), threads_per_worker=1, processes=True,
        dashboard_address=None, silence_logs=logging.ERROR,
        # no dashboard; the scheduler's small HTTP endpoint on a free loopback port, so two
        # clusters on one machine do not contend for 8787
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}))
    return stack.enter_context(Client(lc, set_as_default=False))


@contextlib.contextmanager
def cluster(scheduler: str | None = "local", *, n_workers: int | None = None,
            connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> Iterator[Any]:
    """Open a scheduler once for several :func:`map_tasks` calls; close it on exit.

    Yields ``None`` for the serial scheduler, else a ``distributed.Client`` to pass as
    ``scheduler=`` (a client made from an address only disconnects: the remote cluster
    keeps running).

    Examples
    --------
    >>> with cluster("local") as c:                                # doctest: +SKIP
    ...     a = map_tasks(run_task, tasks_a, scheduler=c)
    ...     b = map_tasks(run_task, tasks_b, scheduler=c)
    """
    if scheduler is None or (isinstance(scheduler, str)
                             and scheduler.strip().lower() in SERIAL_NAMES):
        yield None
        return
    if not isinstance(scheduler, str):
        raise InputError(f"scheduler must be None, 'none', 'local' or an address string, "
                         f"got {type(scheduler).__name__}")
    with contextlib.ExitStack() as stack:
        if scheduler.strip().lower() == "local":
            client = _local(stack, n_workers)
        else:
            client = stack.enter_context(_connect(check_address(scheduler), connect_timeout_s))
        yield client


def _map_serial(fn: Callable, items: Sequence, progress: Progress | None) -> list:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(fn(item))
        except Exception as exc:
            raise _task_error(exc, i, item) from exc
        if progress is not None:
            progress(i + 1, len(items), item_label(item))
    return out


def _map_client(client, fn: Callable, items: Sequence, progress: Progress | None) -> list:
    from distributed import as_completed

    futures = client.map(fn, list(items), pure=False)
    where = {f.key: i for i, f in enumerate(futures)}
    out: list = [None] * len(items)
    try:
        for done, fut in enumerate(as_completed(futures, loop=client.loop), 1):
            i = where[fut.key]
            try:
                out[i] = fut.result()
            except Exception as exc:
                raise _task_error(exc, i, items[i]) from exc
            if progress is not None:
                progress(done, len(items), item_label(items[i]))
    finally:
        client.cancel([f for f in futures if not f.done()])
    return out


def map_tasks(fn: Callable, items: Iterable, *, scheduler: Any = None,
              n_workers: int | None = None, progress: Progress | None = None,
              connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> list:
    """``[fn(item) for item in items]``, serially or on Dask; results in item order.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function of one item.
    items : iterable
        Picklable items; an item's ``label`` attribute names it in errors and progress.
    scheduler : None, str or distributed.Client
        ``None``/``"none"``: in-process loop; ``"local"``: a LocalCluster for this call;
        an address ``tcp://HOST:PORT``; or a client from :func:`cluster`.
    n_workers : int, optional
        Worker processes of a local cluster (default ``min(2, cpu count)``); ignored
        otherwise.
    progress : callable, optional
        ``progress(done, total, label)`` after each finished task.
    connect_timeout_s : float
        How long to try reaching a scheduler address.

    Returns
    -------
    list
        ``fn(item)`` for each item, in the order of ``items``.

    Raises
    ------
    TaskError
        A task raised (``TaskInputError`` / ``TaskRetryLaterError`` by cause); the message
        names the item's index and label.
    InputError
        Malformed address or ``n_workers``.
    RetryLaterError
        The scheduler address cannot be reached within ``connect_timeout_s``.

    Examples
    --------
    >>> map_tasks(str.upper, ["a", "b"], scheduler="none")
    ['A', 'B']
    """
    items = list(items)
    if scheduler is not None and not isinstance(scheduler, str):
        if not (hasattr(scheduler, "map") and hasattr(scheduler, "cancel")):
            raise InputError("scheduler must be None, 'none', 'local', an address string or "
                             f"a distributed.Client, got {type(scheduler).__name__}")
        return _map_client(scheduler, fn, items, progress)
    if not items:
        return []
    with cluster(scheduler, n_workers=n_workers, connect_timeout_s=connect_timeout_s) as c:
        if c is None:
            return _map_serial(fn, items, progress)
        return _map_client(c, fn, items, progress)
