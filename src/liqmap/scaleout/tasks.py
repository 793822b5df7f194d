"""Task records for sweeps, the functions that run them, and the sweep itself.

A task is a frozen, picklable, JSON-able record naming *what* to run; the ``run_*`` functions
load the data inside the worker (nothing large travels), run it and return a dict: the
headline figures, the per-bar and final-map arrays (``"arrays"``) and a SHA-256 ``digest``
of those arrays, so a sweep on a cluster can be checked bit for bit against the serial run.

- :class:`BacktestTask`: ``run_backtest`` of one window with one parameter set
  (``liqmap.scorecard``); metrics on the calibration and scoring spans, both labelled.
- :class:`ModelTask`: ``LiquidationModel.run`` on a bar file or a bundled sample with one
  venue's liquidation rules.
- :func:`grid_tasks` / :func:`model_grid_tasks` expand a parameter grid over windows,
  samples, files and venues; :func:`sweep` runs tasks with :func:`map_tasks` and returns
  one flat row per task, sorted by label.

Nothing is fitted here: the scorecard's own fitted quantities use the calibration span only,
and :func:`select_on_calibration` picks a parameter set by calibration metrics alone.

>>> tasks = grid_tasks("A", {"leverage": ["all-leverage", "high-leverage"]})
>>> [t.label for t in tasks]
['A|leverage=all-leverage', 'A|leverage=high-leverage']
>>> rows = sweep(tasks, scheduler="local")              # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core.tiers import check_venue
from liqmap.model import LOOKBACKS_MS, LiquidationModel
from liqmap.params import grid_key, parse_param
from liqmap.scaleout._cluster import DEFAULT_CONNECT_TIMEOUT_S, map_tasks

__all__ = ["BacktestTask", "ModelTask", "digest_arrays", "grid_tasks", "model_grid_tasks",
           "parse_grid", "run_backtest_task", "run_model_task", "run_task",
           "select_on_calibration", "sweep", "task_from_dict"]

MODEL_FIELDS = tuple(f.name for f in fields(LiquidationModel))
SIDES = ("long", "short")
SPANS = ("calibration", "scoring")
SCORE_NAMES = ("spearman", "pearson_log", "r2_log", "top_decile_share", "total_ratio")
_TIMING_KEYS = ("engine_seconds", "engine_seconds_central", "load_seconds")


def _check_names(params: Mapping, forbid: tuple[str, ...] = ()) -> None:
    if not isinstance(params, Mapping):
        raise ConfigError(f"model_params must be a dict, got {type(params).__name__}")
    unknown = sorted(set(params) - set(MODEL_FIELDS))
    if unknown:
        raise ConfigError(f"unknown model parameters {unknown}; known: {list(MODEL_FIELDS)}")
    bad = sorted(set(params) & set(forbid))
    if bad:
        raise ConfigError(f"model_params may not set {bad}: use the task's own field")


def _check_params(params: Mapping, forbid: tuple[str, ...] = ()) -> dict:
    """Known names, each value read by ``liqmap.params.parse_param``."""
    _check_names(params, forbid)
    return {k: parse_param(k, v, f"model_params {k}") for k, v in params.items()}


def _label_of(head: str, params: Mapping) -> str:
    tail = ",".join(f"{k}={params[k]}" for k in params)
    return f"{head}|{tail}" if tail else head


@dataclass(frozen=True, slots=True)
class BacktestTask:
    """One backtest: a scorecard window and one set of model parameters.

    Attributes
    ----------
    window : str
        Scorecard window id (``liqmap.scorecard.WINDOWS``).
    model_params : dict
        ``LiquidationModel`` fields to set; ``band`` defaults to ``"none"`` (it does not
        enter the scores).
    label : str
        Unique name of the task in a sweep; default ``"<window>|k=v,..."``.
    data_dir : str, optional
        Shared data folder; default ``$LIQMAP_SHARED_DATA``, else ``../shared/data``.
    start_ms, end_ms : int, optional
        Run on the bars opening in ``[start_ms, end_ms)`` only.
    warmup_hours : float, optional
        Leading hours left out of scoring; default the window's own.

    Examples
    --------
    >>> BacktestTask("A", {"leverage": "high-leverage"}).label
    'A|leverage=high-leverage'
    """

    window: str
    model_params: dict = field(default_factory=dict)
    label: str = ""
    data_dir: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    warmup_hours: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.window, str) or not self.window:
            raise ConfigError(f"window must be a window id such as 'A', got {self.window!r}")
        params = _check_params(self.model_params)
        self.model()  # invalid values fail here, on the client, not in a worker
        object.__setattr__(self, "model_params", params)
        if not self.label:
            object.__setattr__(self, "label", _label_of(self.window, params))
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", str(self.data_dir))

    def model(self) -> LiquidationModel:
        """The ``LiquidationModel`` this task runs."""
        return LiquidationModel(**{"band": "none", **_check_params(self.model_params)})

    def to_dict(self) -> dict:
        """JSON-ready, with ``kind: "backtest"`` (inverse: :func:`task_from_dict`)."""
        return {"kind": "backtest", **_jsonable(asdict(self))}


@dataclass(frozen=True, slots=True)
class ModelTask:
    """One model run on a bar file or a bundled sample, with one venue's rules.

    Attributes
    ----------
    bars_path : str, optional
        Bar file (CSV, CSV.gz or Parquet, the layout of ``liqmap.io.load_bars``).
    sample : str, optional
        Bundled sample name (``liqmap.io.sample.list_samples``); exactly one of the two.
    venue : str
        Liquidation rules (``LiquidationModel.venue``); also the venue recorded on bars
        read from ``bars_path``.
    symbol : str, optional
        ccxt symbol recorded on bars read from ``bars_path`` (default ``BTC/USDT:USDT``);
        for a sample it must match the sample's symbol when given.
    model_params : dict
        Other ``LiquidationModel`` fields (not ``venue``).
    lookback : str, optional
        ``LOOKBACKS_MS`` key ending at ``at_ms`` (default: all bars).
    label : str
        Unique name; default ``"<source>|<venue>|<lookback>|k=v,..."``.
    at_ms : int, optional
        End of the lookback window (default: last bar).
    oi_unit : str
        Unit of the file's ``open_interest`` column (``base`` or ``usd``).

    Examples
    --------
    >>> ModelTask(sample="btcusdt-5m-2025-12", venue="okx", lookback="3d").label
    'btcusdt-5m-2025-12|okx|3d'
    """

    bars_path: str | None = None
    sample: str | None = None
    venue: str = "binance"
    symbol: str | None = None
    model_params: dict = field(default_factory=dict)
    lookback: str | None = None
    label: str = ""
    at_ms: int | None = None
    oi_unit: str = "base"

    def __post_init__(self) -> None:
        if (self.bars_path is None) == (self.sample is None):
            raise ConfigError("give exactly one of bars_path (a bar file) or sample (a "
                              "bundled sample name)")
        params = _check_params(self.model_params, forbid=("venue",))
        check_venue(self.venue)
        if self.lookback is not None and self.lookback not in LOOKBACKS_MS:
            raise ConfigError(f"unknown lookback {self.lookback!r}: use one of "
                              f"{tuple(LOOKBACKS_MS)} or None for all bars")
        object.__setattr__(self, "model_params", params)
        if self.bars_path is not None:
            object.__setattr__(self, "bars_path", str(self.bars_path))
        self.model()
        if not self.label:
            src = self.sample or Path(self.bars_path or "").name  # exactly one is given
            head = f"{src}|{self.venue}|{self.lookback or 'all'}"
            object.__setattr__(self, "label", _label_of(head, params))

    def model(self) -> LiquidationModel:
        """The ``LiquidationModel`` this task runs."""
        return LiquidationModel(venue=self.venue, **_check_params(self.model_params))

    def to_dict(self) -> dict:
        """JSON-ready, with ``kind: "model"`` (inverse: :func:`task_from_dict`)."""
        return {"kind": "model", **_jsonable(asdict(self))}


def task_from_dict(d: Mapping) -> BacktestTask | ModelTask:
    """Rebuild a task from ``to_dict()`` output."""
    d = dict(d)
    kind = d.pop("kind", None)
    cls = {"backtest": BacktestTask, "model": ModelTask}.get(kind)
    if cls is None:
        raise ConfigError(f"task kind {kind!r} unknown: use 'backtest' or 'model'")
    return cls(**d)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def digest_arrays(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (sorted by name).

    Examples
    --------
    >>> a = digest_arrays({"x": np.arange(3.0)})
    >>> a == digest_arrays({"x": np.arange(3.0)}), a == digest_arrays({"x": np.ones(3)})
    (True, False)
    """
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------- runners
def _load_task_bars(task: ModelTask):
    from dataclasses import replace

    from liqmap.io.generic import load_bars
    from liqmap.io.sample import load_sample

    if task.sample is not None:
        bars = load_sample(task.sample)
        if task.symbol is not None and task.symbol != bars.symbol:
            raise ConfigError(f"sample {task.sample!r} holds {bars.symbol}, not {task.symbol}; "
                              "drop symbol or pick another sample")
        return bars
    if task.bars_path is None:  # ModelTask holds exactly one of sample and bars_path
        raise ConfigError("give exactly one of bars_path (a bar file) or sample")
    bars = load_bars(task.bars_path, oi_unit=task.oi_unit, venue=task.venue,
                     symbol=task.symbol or "BTC/USDT:USDT")
    return replace(bars, source=str(task.bars_path))


def run_model_task(task: ModelTask) -> dict:
    """Run a :class:`ModelTask`; figures, arrays and their digest (no timings).

    Returns
    -------
    dict
        ``label, kind, venue, data_venue, symbol, source, lookback, bars, start_ms,
        end_ms, params, predicted_long_usd, predicted_short_usd`` (totals and bands),
        ``map`` (``mapstats.summary`` of the final map), ``arrays`` (per-bar predicted
        series and band, final map), their ``digest`` and ``heatmap_digest`` (the heatmap
        frames are large: they stay in the worker, only their digest comes back).
    """
    bars = _load_task_bars(task)
    est = task.model().run(bars, lookback=task.lookback, at_ms=task.at_ms)
    s = est.summary()
    for key in _TIMING_KEYS:
        s.pop(key, None)
    m, hm = est.final_map, est.heatmap
    arrays = {
        "predicted_long_usd": est.predicted_long_usd, "predicted_short_usd": est.predicted_short_usd,
        "predicted_long_low_usd": est.predicted_long_low_usd,
        "predicted_long_high_usd": est.predicted_long_high_usd,
        "predicted_short_low_usd": est.predicted_short_low_usd,
        "predicted_short_high_usd": est.predicted_short_high_usd,
        "map_price_bins_usd": m.price_bins_usd, "map_long_usd": m.long_usd,
        "map_short_usd": m.short_usd,
    }
    heat = {"ts_ms": hm.ts_ms, "price_bins_usd": hm.price_bins_usd, "long_usd": hm.long_usd,
            "short_usd": hm.short_usd}
    s.pop("venue")
    return {"label": task.label, "kind": "model", "venue": task.venue,
            "data_venue": est.bars.venue, "lookback": task.lookback or "all", **s,
            "arrays": arrays, "heatmap_digest": digest_arrays(heat),
            "digest": digest_arrays(arrays)}


def run_backtest_task(task: BacktestTask) -> dict:
    """Run a :class:`BacktestTask` with ``liqmap.scorecard.run_backtest``.

    Returns
    -------
    dict
        ``label, kind, window, params, spans, metrics`` (``{span: {side: {predictor:
        scores}}}``, spans ``"calibration"`` and ``"scoring"``), ``verdict`` (scoring span),
        ``totals_usd``, ``arrays`` (scored bars: times, predicted, realized, span flag)
        and ``digest``.
    """
    from liqmap.scorecard.backtest import run_backtest

    res = run_backtest(task.window, task.model(), task.data_dir, start_ms=task.start_ms,
                       end_ms=task.end_ms, warmup_hours=task.warmup_hours)
    s = res.summary()
    arrays = {"ts_ms": res.ts_ms, "is_scoring": res.is_scoring,
              **{f"predicted_{sd}_usd": res.predicted[sd] for sd in SIDES},
              **{f"realized_{sd}_usd": res.realized[sd] for sd in SIDES}}
    return {"label": task.label, "kind": "backtest", "window": task.window,
            "params": s["model"], "bars_scored": s["bars_scored"], "spans": s["spans"],
            "metrics": s["metrics"], "verdict": s["verdict"], "totals_usd": s["totals_usd"],
            "arrays": arrays, "digest": digest_arrays(arrays)}


def run_task(task: BacktestTask | ModelTask) -> dict:
    """Run either kind of task (the function :func:`sweep` maps over workers)."""
    if isinstance(task, BacktestTask):
        return run_backtest_task(task)
    if isinstance(task, ModelTask):
        return run_model_task(task)
    raise ConfigError(f"not a task record: {type(task).__name__}; use BacktestTask or "
                      "ModelTask")


# ---------------------------------------------------------------------------- tables
def _row(result: Mapping, grid_keys: Sequence[str]) -> dict:
    row = {"label": result["label"], "kind": result["kind"]}
    row.update({k: result["params"].get(k) for k in grid_keys})
    if result["kind"] == "backtest":
        row["window"] = result["window"]
        for sp in SPANS:
            row[f"{sp}_n_bars"] = result["spans"][sp]["n_bars"]
            for sd in SIDES:
                met = result["metrics"][sp][sd]["model"]
                row.update({f"{sp}_{sd}_{n}": met[n] for n in SCORE_NAMES})
        for sd in SIDES:
            v = result["verdict"][sd]
            row[f"scoring_{sd}_baselines_beaten"] = f"{sum(c['beats'] for c in v.values())}" \
                                                    f"/{len(v)}"
    else:
        mp = result["map"]
        row.update({"venue": result["venue"], "symbol": result["symbol"],
                    "lookback": result["lookback"], "bars": result["bars"],
                    "predicted_long_usd": result["predicted_long_usd"],
                    "predicted_short_usd": result["predicted_short_usd"],
                    "map_long_usd": mp["total_long_usd"], "map_short_usd": mp["total_short_usd"],
                    "imbalance_20pct_ratio": mp["imbalance"]["20pct"]["ratio"],
                    "heatmap_digest": result["heatmap_digest"]})
    row["digest"] = result["digest"]
    return _jsonable(row)


def sweep(tasks: Iterable[BacktestTask | ModelTask], scheduler: Any = None, *,
          n_workers: int | None = None, progress=None, keep_results: bool = False,
          connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S):
    """Run tasks with :func:`map_tasks`; one flat row per task, sorted by label.

    Parameters
    ----------
    tasks : iterable of BacktestTask or ModelTask
        Labels must be unique.
    scheduler, n_workers, progress, connect_timeout_s
        As in :func:`map_tasks`.
    keep_results : bool
        Also return the full result dicts (with arrays), in the rows' order.

    Returns
    -------
    list of dict, or (rows, results) with ``keep_results``
        Backtest rows hold the model's scores per span (``calibration_*``, ``scoring_*``)
        and side; model rows the predicted totals and map figures; every row its
        ``digest``. ``pandas.DataFrame(rows)`` gives a table.

    Raises
    ------
    ConfigError
        Duplicate labels.
    """
    tasks = list(tasks)
    labels = [t.label for t in tasks]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ConfigError(f"task labels must be unique; repeated: {dup}")
    results = map_tasks(run_task, tasks, scheduler=scheduler, n_workers=n_workers,
                        progress=progress, connect_timeout_s=connect_timeout_s)
    keys = list(dict.fromkeys(k for t in tasks for k in t.model_params))
    order = sorted(range(len(tasks)), key=lambda i: labels[i])
    rows = [_row(results[i], keys) for i in order]
    return (rows, [results[i] for i in order]) if keep_results else rows


def select_on_calibration(rows: Sequence[Mapping], metric: str = "spearman") -> dict | None:
    """The backtest row with the best mean calibration-span ``metric`` over both sides.

    Only calibration figures decide; the chosen row's scoring figures are then an honest
    out-of-sample read. Rows with an undefined metric are skipped; None if none is left.
    """
    if metric not in SCORE_NAMES[:4]:
        raise ConfigError(f"metric {metric!r}: use one of {SCORE_NAMES[:4]}")
    best, best_v = None, -math.inf
    for r in rows:
        vals = [r.get(f"calibration_{sd}_{metric}") for sd in SIDES]
        if r.get("kind") != "backtest" or any(v is None for v in vals):
            continue
        v = float(np.mean([x for x in vals if x is not None]))  # none is None here
        if v > best_v:
            best, best_v = r, v
    return None if best is None else {"label": best["label"], "metric": metric,
                                      "calibration_mean": best_v, "row": dict(best)}


# ---------------------------------------------------------------------------- grids
def _expand(grid: Mapping[str, Sequence]) -> list[dict]:
    if not isinstance(grid, Mapping):
        raise ConfigError("grid must be a dict {parameter: [values]}")
    _check_names(grid)
    for k, vals in grid.items():
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or not vals:
            raise ConfigError(f"grid[{k!r}] must be a non-empty list of values")
        for v in vals:
            parse_param(k, v, grid_key(k))
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]


def grid_tasks(window: str | Sequence[str], grid: Mapping[str, Sequence] | None = None, *,
               base_params: Mapping | None = None, data_dir=None, start_ms: int | None = None,
               end_ms: int | None = None,
               warmup_hours: float | None = None) -> list[BacktestTask]:
    """Backtest tasks for every window x every combination of the grid's values.

    Examples
    --------
    >>> ts = grid_tasks(["A"], {"leverage": ["all-leverage", "high-leverage"],
    ...                         "half_life_hours": [None, 168.0]})
    >>> len(ts), ts[-1].label
    (4, 'A|leverage=high-leverage,half_life_hours=168.0')
    """
    windows = [window] if isinstance(window, str) else list(window)
    if not windows:
        raise ConfigError("give at least one window")
    base = dict(base_params or {})
    ddir = None if data_dir is None else str(data_dir)
    return [BacktestTask(w, {**base, **combo}, _label_of(w, combo), ddir, start_ms, end_ms,
                         warmup_hours)
            for w in windows for combo in _expand(grid or {})]


def model_grid_tasks(*, samples: Sequence[str] = (), bars_paths: Sequence[str] = (),
                     venues: Sequence[str] = ("binance",), grid: Mapping | None = None,
                     lookback: str | None = None, base_params: Mapping | None = None,
                     symbol: str | None = None) -> list[ModelTask]:
    """Model tasks for every source (sample or file) x venue x grid combination.

    Examples
    --------
    >>> ts = model_grid_tasks(samples=["btcusdt-5m-2025-12"], venues=["bybit", "okx"],
    ...                       lookback="3d")
    >>> [t.label for t in ts]
    ['btcusdt-5m-2025-12|bybit|3d', 'btcusdt-5m-2025-12|okx|3d']
    """
    sources = [("sample", s) for s in samples] + [("bars_path", str(p)) for p in bars_paths]
    if not sources or not venues:
        raise ConfigError("give at least one sample or bar file, and at least one venue")
    base = {k: v for k, v in (base_params or {}).items() if k != "venue"}
    out = []
    for (kind, src), venue, combo in itertools.product(sources, venues, _expand(grid or {})):
        head = f"{Path(src).name if kind == 'bars_path' else src}|{venue}|{lookback or 'all'}"
        out.append(ModelTask(**{kind: src}, venue=venue, symbol=symbol,
                             model_params={**base, **combo}, lookback=lookback,
                             label=_label_of(head, combo)))
    return out


def parse_grid(specs: Iterable[str]) -> dict[str, list]:
    """Parse ``["leverage=all-leverage,high-leverage", "half_life_hours=0,168"]``.

    Each value is read by ``liqmap.params.parse_param`` (the parser of flags, environment
    and TOML too), with errors naming ``grid NAME``: ``0`` or ``none`` is no decay for
    ``half_life_hours``, ``auto`` the automatic ``bin_usd``; values are separated by ``,``,
    so list items inside one value (``band_presets``, leverage weights, half-life pairs)
    are joined with ``+``.

    Examples
    --------
    >>> parse_grid(["leverage=all-leverage,high-leverage", "half_life_hours=0,168"])
    {'leverage': ['all-leverage', 'high-leverage'], 'half_life_hours': [None, 168.0]}
    """
    grid: dict[str, list] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not values.strip():
            raise ConfigError(f"grid {spec!r}: write NAME=V1,V2 (e.g. leverage=all-leverage,"
                              "high-leverage)")
        if name not in MODEL_FIELDS:
            raise ConfigError(f"grid {spec!r}: unknown parameter {name!r}; known: "
                              f"{list(MODEL_FIELDS)}")
        if name in grid:
            raise ConfigError(f"grid parameter {name!r} given twice; list all values once")
        grid[name] = [parse_param(name, v, grid_key(name)) for v in values.split(",")
                      if v.strip()]
    return grid
