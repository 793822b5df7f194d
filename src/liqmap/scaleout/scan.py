"""The market at once: one liquidation map per symbol and venue, summed up in one table.

``scan(sources, scheduler=...)`` runs ``LiquidationModel.run`` on every series, takes the
final map's figures from :mod:`liqmap.core.mapstats` and returns one row per symbol and
venue, sorted by what the user asks (:data:`SORTS`). It runs with
:func:`~liqmap.scaleout.map_tasks`: serially, on a LocalCluster or on a scheduler address,
with identical rows (the same function is mapped over the same batches; rows are sorted on
their own figures, ties by symbol then venue).

Sources: ``(venue, symbol, bars)`` tuples, :class:`~liqmap.core.bars.Bars`, store series
(:func:`store_sources`) or :class:`~liqmap.scaleout.market.GeneratedSeries` (built inside the
worker; rows from them say ``generated: true``).

**Batches.** One model run on a few thousand bars takes tens of milliseconds, a Dask round
trip a few: series are sent in batches (default about four per worker) so each task pays
for its trip. Rows do not depend on the batching.

**Rows** (JSON-ready: a ratio with no longs is ``null``): ``venue, symbol, source,
generated, bars, ts_ms, price_usd``; ``shorts_10pct_usd, longs_10pct_usd, imbalance_10pct``
and the same at 20 % (``mapstats.imbalance``: shorts up to +N % over longs down to -N %);
``log_imbalance_20pct`` (``ln`` of the ratio); ``nearest_long_cluster`` and
``nearest_short_cluster``: of each side's five largest clusters (``mapstats.clusters``
defaults), the one nearest the price (``price_usd, notional_usd, distance_pct``) or null;
``squeeze_ceiling`` and ``flush_floor`` (``price_usd, distance_pct``; null when no short
above / long below stands within reach); ``rules`` and ``tiers``.

**Tier tables.** The model applies the symbol's own tier table on the venue when one is
shipped or, for store series, fetched into the store on or before the last bar's day
(``liqmap.model_setup.symbol_tier_table``; ``tier_version`` picks its version): the
row says ``rules: "own tiers"``. A symbol without one is priced with the venue's BTC table,
is *not* skipped, and says ``rules: "fallback BTC tiers"``. ``tiers`` names the table
applied (symbol, version, verified, ``stored``: fetched into the store); ``own_tiers`` is
then null.

>>> from liqmap.scaleout.market import generated_market
>>> res = scan(generated_market(2, n_bars=300), sort_by="ceiling")
>>> res.n_series, res.rows[0]["generated"]
(8, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from liqmap._exceptions import ConfigError, InputError
from liqmap.core import mapstats
from liqmap.core.bars import Bars
from liqmap.core.tiers import VENUES, TierTable, get_tier_table
from liqmap.model import LiquidationModel
from liqmap.scaleout._cluster import DEFAULT_CONNECT_TIMEOUT_S, default_n_workers, map_tasks
from liqmap.scaleout.market import GeneratedSeries

__all__ = ["SORTS", "ScanBatch", "ScanItem", "ScanResult", "run_scan_batch", "scan",
           "scan_item", "scan_row", "store_sources"]

#: Per worker, the series are cut into about this many tasks (load balance vs round trips).
TASKS_PER_WORKER = 4
_SIDES = ("long", "short")


def _check_venue(venue: str, what: str) -> str:
    if venue not in VENUES:
        raise ConfigError(f"unknown venue {venue!r} ({what}); use one of: {', '.join(VENUES)}")
    return venue


@dataclass(frozen=True, slots=True)
class ScanItem:
    """One series to scan: given bars, or a generated series built where it runs."""

    venue: str
    symbol: str
    bars: Bars | None = None
    generated: GeneratedSeries | None = None

    @property
    def label(self) -> str:
        """``<symbol>@<venue>`` (``generated:`` in front for a generated series)."""
        return self.generated.label if self.generated else f"{self.symbol}@{self.venue}"

    def load(self) -> Bars:
        """The bars (a generated series is built here)."""
        if self.generated is not None:
            return self.generated.bars()
        assert self.bars is not None  # scan_item gives one of the two
        return self.bars


def scan_item(source: Any) -> ScanItem:
    """A :class:`ScanItem` from ``(venue, symbol, bars)``, ``Bars`` or ``GeneratedSeries``.

    Raises
    ------
    ConfigError
        An unknown venue (the message lists the known ones) or another kind of source.
    """
    if isinstance(source, ScanItem):
        return source
    if isinstance(source, GeneratedSeries):
        return ScanItem(source.venue, source.symbol, generated=source)
    if isinstance(source, Bars):
        source = (source.venue, source.symbol, source)
    if isinstance(source, tuple) and len(source) == 3 and isinstance(source[2], Bars):
        venue, symbol, bars = source
        _check_venue(venue, f"source {bars.source}")
        return ScanItem(venue, str(symbol), bars=replace(bars, venue=venue, symbol=str(symbol)))
    raise ConfigError(f"a scan source is (venue, symbol, Bars), Bars, a store series "
                      f"(store_sources) or a GeneratedSeries; got {type(source).__name__}")


def _wanted(value: str, wanted: Sequence[str] | None, base: bool = False) -> bool:
    if not wanted:
        return True
    return value in wanted or (base and value.split("/")[0].upper() in
                               {w.upper() for w in wanted})


def store_sources(store: Any, *, venues: Sequence[str] | None = None,
                  symbols: Sequence[str] | None = None, start_ms: int | None = None,
                  end_ms: int | None = None) -> list[tuple[str, str, Bars]]:
    """Every stored bar series (optionally of ``venues`` / ``symbols``) as scan sources.

    ``symbols`` match a stored ccxt symbol or its base (``ETH`` matches ``ETH/USDT:USDT``).

    Raises
    ------
    InputError
        The store holds no bars, or none of the venues and symbols asked for (the message
        lists what it holds).
    ConfigError
        An unknown venue.
    """
    for v in venues or ():
        _check_venue(v, "--venue")
    stored = [s for s in store.series() if s.table == "bars"]
    if not stored:
        raise InputError("the store holds no bars: ingest some (liqmap ingest-bars, liqmap "
                         "download --db, liqmap live --db) or scan a generated market "
                         "(liqmap scan --generated 30)")
    keep = [s for s in stored if _wanted(s.venue, venues) and _wanted(s.symbol, symbols, True)]
    if not keep:
        have = ", ".join(f"{s.symbol}@{s.venue}" for s in stored)
        raise InputError(f"no stored bars of venue(s) {list(venues or [])} and symbol(s) "
                         f"{list(symbols or [])}; the store holds: {have}")
    return [(s.venue, s.symbol, store.read_bars(s.venue, s.symbol, start_ms, end_ms))
            for s in keep]


# ------------------------------------------------------------------------------- rows
def _applied_table(model: LiquidationModel, symbol: str, bars: Bars) -> TierTable:
    """The table ``model`` applies to ``symbol`` over ``bars`` (the run's bars: their stored
    tables as of their last bar; ``liqmap.model_setup.symbol_tier_table``)."""
    from liqmap.model_setup import symbol_tier_table

    return symbol_tier_table(model, symbol, stored=bars.tier_tables,
                             as_of_ms=int(bars.ts_ms[-1]))[0]


def _own_table(venue: str, symbol: str, stored: tuple[TierTable, ...] = ()) -> TierTable | None:
    try:
        return get_tier_table(venue, symbol, stored=stored)
    except ConfigError:
        return None


def _table_ref(t: TierTable | None, stored: tuple[TierTable, ...] = ()) -> dict | None:
    return None if t is None else {"venue": t.venue, "symbol": t.symbol, "version": t.version,
                                   "verified": t.verified,
                                   "stored": any(t is s for s in stored)}


def _rules(model: LiquidationModel, symbol: str, bars: Bars) -> dict:
    stored = bars.tier_tables
    applied, own = _applied_table(model, symbol, bars), _own_table(model.venue, symbol, stored)
    is_own = own is not None and own.symbol == applied.symbol
    return {"rules": "own tiers" if is_own else "fallback BTC tiers",
            "tiers": _table_ref(applied, stored),
            "own_tiers": None if is_own else _table_ref(own, stored)}


def _nearest(found: list) -> dict | None:
    if not found:
        return None
    k = min(found, key=lambda c: (abs(c.distance_pct), -c.notional_usd))
    return {"price_usd": k.price_usd, "notional_usd": k.notional_usd,
            "distance_pct": k.distance_pct}


def _level(price_usd: float, distance_pct: float) -> dict | None:
    return {"price_usd": price_usd, "distance_pct": distance_pct} \
        if math.isfinite(price_usd) else None


def _log_ratio(shorts_usd: float, longs_usd: float) -> float:
    if shorts_usd > 0 and longs_usd > 0:
        return math.log(shorts_usd / longs_usd)
    return math.nan if shorts_usd == longs_usd else math.copysign(math.inf, shorts_usd - longs_usd)


def scan_row(item: ScanItem, model: LiquidationModel, lookback: str | int | None = None) -> dict:
    """One row: ``model`` (with the item's venue, one frame) run on the item's bars."""
    mdl = replace(model, venue=item.venue, frames=1)
    bars = item.load()
    est = mdl.run(bars, lookback=lookback)
    m = est.final_map
    row: dict[str, Any] = {
        "venue": item.venue, "symbol": item.symbol, "source": bars.source,
        "generated": item.generated is not None, "bars": len(est.bars),
        "ts_ms": int(m.ts_ms), "price_usd": m.price_usd}
    for pct in (10, 20):
        imb = mapstats.imbalance(m, pct / 100, pct / 100)
        row.update({f"shorts_{pct}pct_usd": imb.short_usd, f"longs_{pct}pct_usd": imb.long_usd,
                    f"imbalance_{pct}pct": imb.ratio})
    row["log_imbalance_20pct"] = _log_ratio(row["shorts_20pct_usd"], row["longs_20pct_usd"])
    for sd in _SIDES:
        row[f"nearest_{sd}_cluster"] = _nearest(mapstats.clusters(m, sd))
    ceil, floor = mapstats.squeeze_ceiling(m), mapstats.flush_floor(m)
    row["squeeze_ceiling"] = _level(ceil.price_usd, ceil.distance_pct)
    row["flush_floor"] = _level(floor.price_usd, floor.distance_pct)
    row.update(_rules(mdl, item.symbol, est.bars))
    out: dict = mapstats.jsonable(row)
    return out


@dataclass(frozen=True, slots=True)
class ScanBatch:
    """One task: several series scanned with one model and lookback."""

    items: tuple[ScanItem, ...]
    model: LiquidationModel
    lookback: str | int | None = None

    @property
    def label(self) -> str:
        """The first and last series of the batch."""
        ends = (self.items[0].label, self.items[-1].label)
        return ends[0] if len(self.items) == 1 else f"{ends[0]} .. {ends[1]}"


def run_scan_batch(batch: ScanBatch) -> dict:
    """Scan a batch (the function mapped over workers): ``rows`` and ``seconds`` of work."""
    t0 = time.perf_counter()
    rows = [scan_row(it, batch.model, batch.lookback) for it in batch.items]
    return {"rows": rows, "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------------------- sorting
def _distance(level: dict | None) -> float:
    return math.inf if level is None else abs(level["distance_pct"])


def _imbalance_key(r: dict) -> float:
    x = _log_ratio(r["shorts_20pct_usd"], r["longs_20pct_usd"])
    return math.inf if math.isnan(x) else -abs(x)


#: Sort orders: each maps a row to a number, smallest first (ties: symbol, then venue).
SORTS: dict[str, Callable[[dict], float]] = {
    "imbalance": _imbalance_key,  # largest |ln(shorts / longs)| within 20 %
    "nearest-cluster": lambda r: min(_distance(r["nearest_long_cluster"]),
                                     _distance(r["nearest_short_cluster"])),
    "ceiling": lambda r: _distance(r["squeeze_ceiling"]),  # nearest squeeze ceiling
    "floor": lambda r: _distance(r["flush_floor"]),  # nearest flush floor
    "symbol": lambda r: 0.0,
}


def _sorted_rows(rows: Iterable[dict], sort_by: str) -> list[dict]:
    key = SORTS[sort_by]
    return sorted(rows, key=lambda r: (key(r), r["symbol"], r["venue"]))


# ------------------------------------------------------------------------------- the scan
@dataclass(frozen=True, slots=True)
class ScanResult:
    """Rows of a scan (sorted) and how it ran; ``to_dict()`` is the JSON of CLI and API."""

    rows: tuple[dict, ...]
    sort_by: str
    scheduler: str
    n_series: int
    n_tasks: int
    batch_size: int
    seconds: float
    task_seconds: float
    generated: bool
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """JSON-ready: the rows and the run's facts (``generated`` when any series is)."""
        return {"sort_by": self.sort_by, "scheduler": self.scheduler,
                "n_series": self.n_series, "n_rows": len(self.rows), "n_tasks": self.n_tasks,
                "batch_size": self.batch_size, "seconds": self.seconds,
                "task_seconds": self.task_seconds, "generated": self.generated,
                "notes": list(self.notes), "rows": list(self.rows)}


def _batch_size(n: int, n_workers: int | None) -> int:
    workers = n_workers or default_n_workers()
    return max(1, math.ceil(n / (TASKS_PER_WORKER * workers)))


def _batches(items: list[ScanItem], size: int, model: LiquidationModel,
             lookback: str | int | None) -> list[ScanBatch]:
    return [ScanBatch(tuple(items[i: i + size]), model, lookback)
            for i in range(0, len(items), size)]


def _check_sources(items: list[ScanItem], sort_by: str) -> None:
    if sort_by not in SORTS:
        raise ConfigError(f"unknown sort {sort_by!r}; use one of: {', '.join(SORTS)}")
    if not items:
        raise InputError("nothing to scan: give sources (a store with bars, bar files, or a "
                         "generated market: liqmap scan --generated 30)")
    seen: set[tuple[str, str]] = set()
    for it in items:
        if (it.venue, it.symbol) in seen:
            raise ConfigError(f"{it.symbol} on {it.venue} is given twice; give each symbol "
                              "and venue once")
        seen.add((it.venue, it.symbol))


def _scheduler_name(scheduler: Any) -> str:
    if scheduler is None:
        return "serial"
    return scheduler if isinstance(scheduler, str) else str(getattr(scheduler, "scheduler",
                                                                    "client"))


def scan(sources: Iterable[Any], *, scheduler: Any = None, n_workers: int | None = None,
         sort_by: str = "imbalance", lookback: str | int | None = None,
         model: LiquidationModel | None = None, top: int | None = None,
         batch_size: int | None = None, progress: Any = None,
         connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> ScanResult:
    """Scan many series: one row per symbol and venue, sorted by ``sort_by``.

    Parameters
    ----------
    sources : iterable
        ``(venue, symbol, Bars)``, ``Bars``, ``GeneratedSeries`` (see :func:`scan_item`).
    scheduler : None, "local", address or distributed.Client
        As :func:`~liqmap.scaleout.map_tasks`; the rows are the same on each.
    n_workers : int, optional
        Workers of a local cluster (default ``min(2, CPUs)``); also sizes the batches.
    sort_by : str
        A key of :data:`SORTS`: ``imbalance`` (largest ``|ln(shorts / longs)|`` within
        20 %), ``nearest-cluster``, ``ceiling``, ``floor`` or ``symbol``.
    lookback : str or int, optional
        ``LiquidationModel.run``'s lookback (default all bars).
    model : LiquidationModel, optional
        Parameters (default ``LiquidationModel()``); each series runs with its own venue.
    top : int, optional
        Keep the first ``top`` rows after sorting.
    batch_size : int, optional
        Series per task (default ``ceil(n / (4 x workers))``).
    progress : callable, optional
        ``progress(done, total, label)`` per finished task.

    Raises
    ------
    ConfigError
        Unknown venue or sort, a series given twice, a bad ``top`` or ``batch_size``.
    InputError
        No sources.
    TaskError
        A series failed (the message names it).
    """
    items = [scan_item(s) for s in sources]
    _check_sources(items, sort_by)
    for name, v in (("top", top), ("batch_size", batch_size)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"{name} must be a whole number >= 1, got {v!r}")
    model = model if model is not None else LiquidationModel()
    size = batch_size or _batch_size(len(items), n_workers)
    batches = _batches(items, size, model, lookback)
    t0 = time.perf_counter()
    done = map_tasks(run_scan_batch, batches, scheduler=scheduler, n_workers=n_workers,
                     progress=progress, connect_timeout_s=connect_timeout_s)
    seconds = time.perf_counter() - t0
    rows = _sorted_rows((r for d in done for r in d["rows"]), sort_by)
    fallback = sum(r["rules"] != "own tiers" for r in rows)
    notes = (f"{fallback} of {len(rows)} series priced with their venue's BTC tier table "
             "(rules: fallback BTC tiers)",) if fallback else ()
    return ScanResult(rows=tuple(rows[:top] if top else rows), sort_by=sort_by,
                      scheduler=_scheduler_name(scheduler), n_series=len(items),
                      n_tasks=len(batches), batch_size=size, seconds=seconds,
                      task_seconds=sum(d["seconds"] for d in done),
                      generated=any(r["generated"] for r in rows), notes=notes)
