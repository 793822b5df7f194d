"""Scale-out: backtests, model runs and calibration sweeps on Dask (``dask.distributed``).

- :mod:`liqmap.scaleout._cluster`: :func:`map_tasks` (serial, ``"local"`` LocalCluster, or a
  scheduler address) and :func:`cluster` to keep one cluster for several maps;
- :mod:`liqmap.scaleout.tasks`: the task records (:class:`BacktestTask`, :class:`ModelTask`),
  their runners, :func:`grid_tasks` and :func:`sweep`;
- :mod:`liqmap.scaleout.scan`: :func:`scan`, the market at once (one row per symbol and
  venue), and :func:`store_sources`; :mod:`liqmap.scaleout.market`: :func:`generated_market`.

Results are the same, bit for bit, whichever scheduler runs them: each task loads its own
data and runs the same compiled kernels; every result carries a digest of its arrays.

::

    TaskError (LiqmapError)                  a task raised; names the item
    ├── TaskInputError (InputError)          fix that item's input
    └── TaskRetryLaterError (RetryLaterError)

>>> from liqmap.scaleout import grid_tasks, sweep
>>> tasks = grid_tasks("A", {"half_life_hours": [None, 168.0]})
>>> rows = sweep(tasks, scheduler="local")                   # doctest: +SKIP
"""

from __future__ import annotations

from liqmap.scaleout._cluster import (
                                      DEFAULT_CONNECT_TIMEOUT_S,
                                      TaskError,
                                      TaskInputError,
                                      TaskRetryLaterError,
                                      check_address,
                                      cluster,
                                      default_n_workers,
                                      map_tasks,
)
from liqmap.scaleout.market import GeneratedSeries, generated_market
from liqmap.scaleout.scan import SORTS, ScanResult, scan, store_sources
from liqmap.scaleout.tasks import (
                                      BacktestTask,
                                      ModelTask,
                                      digest_arrays,
                                      grid_tasks,
                                      model_grid_tasks,
                                      parse_grid,
                                      run_backtest_task,
                                      run_model_task,
                                      run_task,
                                      select_on_calibration,
                                      sweep,
                                      task_from_dict,
)

__all__ = [
    "BacktestTask",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "GeneratedSeries",
    "ModelTask",
    "SORTS",
    "ScanResult",
    "TaskError",
    "TaskInputError",
    "TaskRetryLaterError",
    "check_address",
    "cluster",
    "default_n_workers",
    "digest_arrays",
    "generated_market",
    "grid_tasks",
    "map_tasks",
    "model_grid_tasks",
    "parse_grid",
    "run_backtest_task",
    "run_model_task",
    "run_task",
    "scan",
    "select_on_calibration",
    "store_sources",
    "sweep",
    "task_from_dict",
]
